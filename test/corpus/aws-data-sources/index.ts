// An AWS program in the style of many public examples: it reads the account, partition, region,
// zones, the default VPC and its subnets, builds an IAM policy document, and creates a MySQL RDS
// instance (single-AZ, short backups) with its subnet group and security group, and an encrypted
// bucket. Written for the offline runner's test corpus.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const identity = aws.getCallerIdentityOutput();
const partition = aws.getPartitionOutput();
const region = aws.getRegionOutput();
const zones = aws.getAvailabilityZonesOutput({ state: "available" });
const vpc = aws.ec2.getVpcOutput({ default: true });
const subnets = aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }] });
const firstSubnet = aws.ec2.getSubnetOutput({ id: subnets.ids[0] });

const dbSubnets = new aws.rds.SubnetGroup("db-subnets", { subnetIds: subnets.ids });
const dbFirewall = new aws.ec2.SecurityGroup("db", {
    vpcId: vpc.id,
    ingress: [{ protocol: "tcp", fromPort: 3306, toPort: 3306, cidrBlocks: [vpc.cidrBlock] }],
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
});

const db = new aws.rds.Instance("app-db", {
    engine: "mysql",
    engineVersion: "8.0",
    instanceClass: "db.t3.micro",
    allocatedStorage: 20,
    dbName: "app",
    username: "admin",
    password: new pulumi.Config().getSecret("dbPassword") ?? pulumi.secret("change-me-please"),
    dbSubnetGroupName: dbSubnets.name,
    vpcSecurityGroupIds: [dbFirewall.id],
    availabilityZone: zones.names[0],
    skipFinalSnapshot: true,
    backupRetentionPeriod: 1,
});

const bucket = new aws.s3.Bucket("uploads", {});
new aws.s3.BucketServerSideEncryptionConfiguration("uploads", {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
});
const readUploads = aws.iam.getPolicyDocumentOutput({
    statements: [{
        actions: ["s3:GetObject"],
        resources: [pulumi.interpolate`arn:${partition.partition}:s3:::${bucket.bucket}/*`],
        principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition.partition}:iam::${identity.accountId}:root`] }],
    }],
});
new aws.s3.BucketPolicy("uploads", { bucket: bucket.id, policy: readUploads.json });

export const account = identity.accountId;
export const where = pulumi.interpolate`${region.name} (${firstSubnet.availabilityZone})`;
export const endpoint = db.endpoint;
