// A containerised web app on ECS Fargate behind an Application Load Balancer, with a MySQL RDS
// database: the task definition's container definitions carry the database endpoint, the stack
// exports the site's URL built from the ALB's DNS name. In the style of the ECS and RDS examples
// many teams start from; written for the offline runner's test corpus (no Kubernetes at all).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const vpc = aws.ec2.getVpcOutput({ default: true });
const subnets = aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }] });

const web = new aws.ec2.SecurityGroup("web", {
    vpcId: vpc.id,
    ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }],
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
});
const dbAccess = new aws.ec2.SecurityGroup("db", {
    vpcId: vpc.id,
    ingress: [{ protocol: "tcp", fromPort: 3306, toPort: 3306, securityGroups: [web.id] }],
});

const dbSubnets = new aws.rds.SubnetGroup("db", { subnetIds: subnets.ids });
const db = new aws.rds.Instance("db", {
    engine: "mysql",
    engineVersion: "8.0",
    instanceClass: "db.t3.small",
    allocatedStorage: 20,
    dbName: "shop",
    username: "shop",
    password: config.requireSecret("dbPassword"),
    dbSubnetGroupName: dbSubnets.name,
    vpcSecurityGroupIds: [dbAccess.id],
    backupRetentionPeriod: 7,
    storageEncrypted: true,
    skipFinalSnapshot: true,
});

const alb = new aws.lb.LoadBalancer("web", { securityGroups: [web.id], subnets: subnets.ids });
const targets = new aws.lb.TargetGroup("web", { port: 80, protocol: "HTTP", targetType: "ip", vpcId: vpc.id });
new aws.lb.Listener("web", { loadBalancerArn: alb.arn, port: 80, defaultActions: [{ type: "forward", targetGroupArn: targets.arn }] });

const cluster = new aws.ecs.Cluster("shop", {});
const role = new aws.iam.Role("task-exec", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
});
new aws.iam.RolePolicyAttachment("task-exec", { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy });

const task = new aws.ecs.TaskDefinition("shop", {
    family: "shop",
    cpu: "256",
    memory: "512",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    executionRoleArn: role.arn,
    containerDefinitions: pulumi.jsonStringify([{
        name: "shop",
        image: "public.ecr.aws/nginx/nginx:1.27",
        portMappings: [{ containerPort: 80, protocol: "tcp" }],
        environment: [{ name: "DB_HOST", value: db.address }, { name: "DB_NAME", value: "shop" }],
    }]),
});

new aws.ecs.Service("shop", {
    cluster: cluster.arn,
    desiredCount: 2,
    launchType: "FARGATE",
    taskDefinition: task.arn,
    networkConfiguration: { assignPublicIp: true, subnets: subnets.ids, securityGroups: [web.id] },
    loadBalancers: [{ targetGroupArn: targets.arn, containerName: "shop", containerPort: 80 }],
});

export const url = alb.dnsName.apply((name) => `http://${name.toLowerCase()}`);
export const dbEndpoint = db.endpoint;
