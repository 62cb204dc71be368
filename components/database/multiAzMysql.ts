// The data tier on AWS: a Multi-AZ RDS for MySQL writer (synchronous standby in another AZ,
// automatic failover), read replicas on the large tier, encryption with a customer managed KMS
// key, point-in-time restore from automated backups, CloudWatch alarms and RDS events to SNS,
// and, when the stack names a DR region, automated backups replicated there.
//
// The master password never appears in plaintext: it is a Pulumi secret from generation (or stack
// config) through the RDS instance, the Secrets Manager secret and the Kubernetes Secret the
// backend reads it from.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DatabaseSizing, RdsConfig } from "../../config";
import { DatabaseConnection, PASSWORD_KEY } from "./connection";

/** The RDS logs shipped to CloudWatch Logs. */
export const RDS_LOG_EXPORTS = ["error", "slowquery"];
/** RDS event categories that page: the writer failed over, failed, or is running out of storage. */
export const RDS_EVENT_CATEGORIES = ["failover", "failure", "low storage", "recovery"];

export interface MultiAzMysqlArgs {
    /** RDS instance identifier of the writer; replicas append "-replica-<n>". */
    identifier: string;
    rds: RdsConfig;
    sizing: DatabaseSizing;
    databaseName: string;
    /** The master user, also the user the backend connects as. */
    username: string;
    port: number;
    /** max_connections for the parameter group (and the connection alarm's 90 % mark). */
    maxConnections: number;
    /** require_secure_transport: refuse connections without TLS (only for clients that speak it). */
    requireTls: boolean;
    /** The master password from stack config; unset, a random one is generated (and kept secret). */
    password?: pulumi.Output<string>;
    /** Where the backend reads the password from. */
    kubernetes: { namespace: pulumi.Input<string>; secretName: string; labels: Record<string, string> };
    tags: Record<string, string>;
}

export class MultiAzMysql extends pulumi.ComponentResource {
    /** The writer's DNS name (follows the writer through a Multi-AZ failover). */
    public readonly writerEndpoint: pulumi.Output<string>;
    /** The read replicas' DNS names (empty below the large tier). */
    public readonly readerEndpoints: pulumi.Output<string[]>;
    public readonly port: number;
    public readonly instanceIdentifier: pulumi.Output<string>;
    public readonly instanceArn: pulumi.Output<string>;
    public readonly replicaIdentifiers: pulumi.Output<string[]>;
    /** Secrets Manager secret with the master credentials (RDS rotation-lambda JSON format). */
    public readonly secretArn: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly subnetGroupName: pulumi.Output<string>;
    public readonly parameterGroupName: pulumi.Output<string>;
    public readonly alarmTopicArn: pulumi.Output<string>;
    /** The DR region's replicated automated backups (undefined without a DR region). */
    public readonly drBackupsArn: pulumi.Output<string> | undefined;
    public readonly connection: DatabaseConnection;

    constructor(name: string, args: MultiAzMysqlArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:database:MultiAzMysql", name, {}, opts);

        const { rds, identifier, port, tags } = args;
        const child = { parent: this };
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const partition = aws.getPartitionOutput({}, child).partition;

        // One key for the data at rest: storage, Performance Insights, the password secret and
        // the alarm topic (so CloudWatch and RDS events may use it to publish).
        const kmsKeyArn = rds.kmsKeyArn !== undefined ? pulumi.output(rds.kmsKeyArn) : this.createKey(name, identifier, account, partition, tags);

        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
            name: identifier,
            description: `KubePolaris ${identifier}: private subnets in ${new Set(rds.subnets.map((s) => s.az)).size} AZs`,
            subnetIds: rds.subnets.map((s) => s.id),
            tags,
        }, child);

        const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: rds.vpcId,
            description: `KubePolaris ${identifier}: MySQL ${port} from the EKS cluster only`,
            revokeRulesOnDelete: true,
            tags: { ...tags, Name: `${identifier}-mysql` },
        }, child);
        // Rules as their own resources (no inline rules): one per source, port 3306 only, and no
        // egress rule at all (the provider removes AWS's default allow-all egress).
        for (const sourceGroup of rds.allowedSecurityGroupIds) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-from-${sourceGroup}`, {
                securityGroupId: securityGroup.id,
                referencedSecurityGroupId: sourceGroup,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                description: `MySQL from ${sourceGroup} (EKS cluster)`,
                tags,
            }, child);
        }
        for (const cidr of rds.allowedCidrs) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-from-${cidr.replace(/[./]/g, "-")}`, {
                securityGroupId: securityGroup.id,
                cidrIpv4: cidr,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                description: `MySQL from ${cidr}`,
                tags,
            }, child);
        }

        const parameterGroup = new aws.rds.ParameterGroup(`${name}-params`, {
            family: rds.parameterGroupFamily,
            description: `KubePolaris ${identifier}: utf8mb4, slow query log, TLS only`,
            parameters: [
                // KubePolaris creates its schema as utf8mb4 / utf8mb4_unicode_ci.
                { name: "character_set_server", value: "utf8mb4" },
                { name: "character_set_client", value: "utf8mb4" },
                { name: "character_set_connection", value: "utf8mb4" },
                { name: "character_set_results", value: "utf8mb4" },
                { name: "collation_server", value: "utf8mb4_unicode_ci" },
                { name: "collation_connection", value: "utf8mb4_unicode_ci" },
                { name: "slow_query_log", value: "1" },
                { name: "long_query_time", value: "1" },
                // CloudWatch Logs export needs the logs in files, not tables.
                { name: "log_output", value: "FILE" },
                // RDS instance parameter groups spell ON as 1. Off while the backend cannot
                // speak TLS to MySQL: on, it could not connect at all (README, "What the app really does").
                { name: "require_secure_transport", value: args.requireTls ? "1" : "0" },
                { name: "max_connections", value: String(args.maxConnections) },
            ],
            tags,
        }, child);

        // Enhanced monitoring (OS metrics every few seconds) publishes through this role.
        const monitoringRole = new aws.iam.Role(`${name}-monitoring`, {
            description: `RDS enhanced monitoring for ${identifier}`,
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Principal: { Service: "monitoring.rds.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": account } },
                }],
            }),
            tags,
        }, child);
        const monitoringPolicy = new aws.iam.RolePolicyAttachment(`${name}-monitoring`, {
            role: monitoringRole.name,
            policyArn: aws.iam.ManagedPolicy.AmazonRDSEnhancedMonitoringRole,
        }, child);

        const password = pulumi.secret(args.password
            ?? new random.RandomPassword(`${name}-password`, {
                // RDS takes at most 41 characters; letters and digits only, so no DSN, shell or
                // URL quoting can ever mangle it.
                length: 40,
                special: false,
            }, child).result);

        const replicaIds = Array.from({ length: rds.readReplicas }, (_, i) => `${identifier}-replica-${i + 1}`);
        // RDS creates these log groups on first export with no expiry: create them first, with one.
        const logGroups = [identifier, ...replicaIds].flatMap((instanceId) => RDS_LOG_EXPORTS.map((log) =>
            new aws.cloudwatch.LogGroup(`${name}-log-${instanceId}-${log}`, {
                name: `/aws/rds/instance/${instanceId}/${log}`,
                retentionInDays: rds.logRetentionDays,
                tags,
            }, child)));

        // What the writer and its replicas share.
        const common = {
            instanceClass: args.sizing.instanceClass,
            port,
            storageType: "gp3",
            maxAllocatedStorage: args.sizing.maxAllocatedStorageGiB,
            storageEncrypted: true,
            kmsKeyId: kmsKeyArn,
            parameterGroupName: parameterGroup.name,
            vpcSecurityGroupIds: [securityGroup.id],
            publiclyAccessible: false,
            autoMinorVersionUpgrade: true,
            iamDatabaseAuthenticationEnabled: true,
            copyTagsToSnapshot: true,
            deletionProtection: rds.deletionProtection,
            maintenanceWindow: rds.maintenanceWindow,
            backupWindow: rds.backupWindow,
            caCertIdentifier: "rds-ca-rsa2048-g1",
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: kmsKeyArn,
            performanceInsightsRetentionPeriod: rds.performanceInsightsRetentionDays,
            monitoringInterval: rds.monitoringIntervalSeconds,
            monitoringRoleArn: monitoringRole.arn,
            enabledCloudwatchLogsExports: RDS_LOG_EXPORTS,
            tags,
        };

        const primary = new aws.rds.Instance(`${name}-primary`, {
            ...common,
            identifier,
            engine: "mysql",
            engineVersion: rds.engineVersion,
            allocatedStorage: args.sizing.allocatedStorageGiB,
            dbName: args.databaseName,
            username: args.username,
            password,
            // A synchronous standby in another AZ of the subnet group; RDS chooses both AZs (the
            // API refuses an AvailabilityZone together with MultiAZ).
            multiAz: true,
            dbSubnetGroupName: subnetGroup.name,
            // Daily snapshots plus transaction logs every 5 minutes: point-in-time restore.
            backupRetentionPeriod: rds.backupRetentionDays,
            skipFinalSnapshot: !rds.finalSnapshot,
            finalSnapshotIdentifier: rds.finalSnapshot ? `${identifier}-final` : undefined,
            // Keep the automated backups (and so point-in-time restore) after a deletion.
            deleteAutomatedBackups: !rds.finalSnapshot,
        }, { parent: this, dependsOn: [monitoringPolicy, ...logGroups] });

        // Read replicas in the AZs other than the writer's, round robin, so one AZ outage never
        // takes the writer and a reader, or every reader, down at once.
        const otherZones = [...new Set(rds.subnets.map((s) => s.az))].filter((az) => az !== rds.primaryAz);
        const replicas = replicaIds.map((replicaId, i) => new aws.rds.Instance(`${name}-replica-${i + 1}`, {
            ...common,
            identifier: replicaId,
            replicateSourceDb: primary.identifier,
            availabilityZone: otherZones[i % otherZones.length],
            multiAz: false,
            // Backups on a replica: a promoted replica has point-in-time restore from the start.
            backupRetentionPeriod: rds.backupRetentionDays,
            // RDS takes no final snapshot of a read replica.
            skipFinalSnapshot: true,
            // A replica holds no data of its own: when a change forces a new one (another AZ),
            // drop the old first, since both would need the same identifier.
        }, { parent: this, dependsOn: [monitoringPolicy, ...logGroups], deleteBeforeReplace: true }));

        // DR: automated backups replicated to a second region, encrypted with a key there.
        let drKeyArn: pulumi.Output<string> | undefined;
        let drBackups: aws.rds.InstanceAutomatedBackupsReplication | undefined;
        if (rds.dr) {
            const drProvider = new aws.Provider(`${name}-dr`, { region: rds.dr.region, defaultTags: { tags } }, child);
            const drOpts = { parent: this, provider: drProvider };
            if (rds.dr.kmsKeyArn !== undefined) {
                drKeyArn = pulumi.output(rds.dr.kmsKeyArn);
            } else {
                const drKey = new aws.kms.Key(`${name}-dr-kms`, {
                    description: `KubePolaris ${identifier}: replicated RDS backups and secrets in ${rds.dr.region}`,
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    tags,
                }, drOpts);
                new aws.kms.Alias(`${name}-dr-kms`, { name: `alias/${identifier}-rds-dr`, targetKeyId: drKey.arn }, drOpts);
                drKeyArn = drKey.arn;
            }
            drBackups = new aws.rds.InstanceAutomatedBackupsReplication(`${name}-dr-backups`, {
                sourceDbInstanceArn: primary.arn,
                kmsKeyId: drKeyArn,
                retentionPeriod: rds.dr.backupRetentionDays,
            }, drOpts);
        }

        const secret = new aws.secretsmanager.Secret(`${name}-master`, {
            namePrefix: `${identifier}-mysql-master-`,
            description: `Master credentials of RDS ${identifier} (also in the Kubernetes Secret ${args.kubernetes.secretName})`,
            kmsKeyId: kmsKeyArn,
            recoveryWindowInDays: rds.deletionProtection ? 30 : 7,
            // With a DR region the credentials are there too, for a restore when this region is gone.
            replicas: rds.dr && drKeyArn ? [{ region: rds.dr.region, kmsKeyId: drKeyArn }] : undefined,
            tags,
        }, child);
        new aws.secretsmanager.SecretVersion(`${name}-master`, {
            secretId: secret.id,
            secretString: pulumi.secret(pulumi.jsonStringify({
                engine: "mysql",
                host: primary.address,
                port,
                username: args.username,
                password,
                dbname: args.databaseName,
                dbInstanceIdentifier: identifier,
            })),
        }, child);

        const credentials = new k8s.core.v1.Secret(`${name}-credentials`, {
            metadata: { name: args.kubernetes.secretName, namespace: args.kubernetes.namespace, labels: args.kubernetes.labels },
            type: "Opaque",
            stringData: { [PASSWORD_KEY]: password },
        }, child);

        const alarmTopicArn = this.alarms(name, args, kmsKeyArn, primary, replicas);

        this.writerEndpoint = primary.address;
        this.readerEndpoints = pulumi.all(replicas.map((r) => r.address));
        this.port = port;
        this.instanceIdentifier = primary.identifier;
        this.instanceArn = primary.arn;
        this.replicaIdentifiers = pulumi.all(replicas.map((r) => r.identifier));
        this.secretArn = secret.arn;
        this.kmsKeyArn = kmsKeyArn;
        this.securityGroupId = securityGroup.id;
        this.subnetGroupName = subnetGroup.name;
        this.parameterGroupName = parameterGroup.name;
        this.alarmTopicArn = alarmTopicArn;
        this.drBackupsArn = drBackups?.id;
        this.connection = {
            host: primary.address,
            port,
            database: args.databaseName,
            username: args.username,
            passwordSecret: { name: credentials.metadata.name, key: PASSWORD_KEY },
            readerHosts: replicas.map((r) => r.address),
        };
        this.registerOutputs({
            writerEndpoint: this.writerEndpoint,
            readerEndpoints: this.readerEndpoints,
            instanceIdentifier: this.instanceIdentifier,
            secretArn: this.secretArn,
            kmsKeyArn: this.kmsKeyArn,
            securityGroupId: this.securityGroupId,
            subnetGroupName: this.subnetGroupName,
            parameterGroupName: this.parameterGroupName,
            alarmTopicArn: this.alarmTopicArn,
            drBackupsArn: this.drBackupsArn,
        });
    }

    private createKey(name: string, identifier: string, account: pulumi.Output<string>, partition: pulumi.Output<string>,
        tags: Record<string, string>): pulumi.Output<string> {
        const key = new aws.kms.Key(`${name}-kms`, {
            description: `KubePolaris ${identifier}: RDS storage, Performance Insights, master secret, alarm topic`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "AccountAdministersThroughIam",
                        Effect: "Allow",
                        Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
                        Action: "kms:*",
                        Resource: "*",
                    },
                    {
                        // CloudWatch alarms and RDS event notifications publish to the encrypted topic.
                        Sid: "AlarmAndEventPublishers",
                        Effect: "Allow",
                        Principal: { Service: ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"] },
                        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                        Resource: "*",
                        Condition: { StringEquals: { "aws:SourceAccount": account } },
                    },
                ],
            }),
            tags,
        }, { parent: this });
        new aws.kms.Alias(`${name}-kms`, { name: `alias/${identifier}-rds`, targetKeyId: key.arn }, { parent: this });
        return key.arn;
    }

    /** CloudWatch alarms on every instance and an RDS event subscription, all to one SNS topic. */
    private alarms(name: string, args: MultiAzMysqlArgs, kmsKeyArn: pulumi.Output<string>, primary: aws.rds.Instance,
        replicas: aws.rds.Instance[]): pulumi.Output<string> {
        const { rds, identifier, tags } = args;
        const child = { parent: this };
        let topicArn: pulumi.Output<string>;
        if (rds.alarmTopicArn !== undefined) {
            topicArn = pulumi.output(rds.alarmTopicArn);
        } else {
            topicArn = new aws.sns.Topic(`${name}-alarms`, {
                name: `${identifier}-database-alarms`,
                kmsMasterKeyId: kmsKeyArn,
                tags,
            }, child).arn;
        }
        for (const email of rds.alarmEmails) {
            new aws.sns.TopicSubscription(`${name}-alarms-${email}`, { topic: topicArn, protocol: "email", endpoint: email }, child);
        }

        const actions = [topicArn];
        const alarm = (id: string, instance: aws.rds.Instance, instanceId: string, spec: {
            metricName: string; comparisonOperator: string; threshold: number; statistic: string;
            period: number; evaluationPeriods: number; description: string;
        }) => new aws.cloudwatch.MetricAlarm(`${name}-${instanceId}-${id}`, {
            name: `${instanceId}-${id}`,
            namespace: "AWS/RDS",
            dimensions: { DBInstanceIdentifier: instance.identifier },
            metricName: spec.metricName,
            statistic: spec.statistic,
            period: spec.period,
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.evaluationPeriods,
            comparisonOperator: spec.comparisonOperator,
            threshold: spec.threshold,
            treatMissingData: "missing",
            alarmDescription: `${spec.description} (RDS ${instanceId})`,
            alarmActions: actions,
            okActions: actions,
            tags,
        }, child);

        const freeStorageFloor = Math.round(0.1 * args.sizing.allocatedStorageGiB * 1024 ** 3);
        const connectionsCeiling = Math.floor(0.9 * args.maxConnections);
        const instances = [
            { instance: primary, instanceId: identifier, replica: false },
            ...replicas.map((instance, i) => ({ instance, instanceId: `${identifier}-replica-${i + 1}`, replica: true })),
        ];
        for (const { instance, instanceId, replica } of instances) {
            alarm("cpu-high", instance, instanceId, {
                metricName: "CPUUtilization", comparisonOperator: "GreaterThanThreshold", threshold: 80,
                statistic: "Average", period: 300, evaluationPeriods: 3, description: "CPU above 80 % for 15 minutes",
            });
            alarm("free-storage-low", instance, instanceId, {
                metricName: "FreeStorageSpace", comparisonOperator: "LessThanThreshold", threshold: freeStorageFloor,
                statistic: "Minimum", period: 300, evaluationPeriods: 2,
                description: `Free storage below 10 % of the ${args.sizing.allocatedStorageGiB} GiB provisioned: storage autoscaling `
                    + `(up to ${args.sizing.maxAllocatedStorageGiB} GiB) is not keeping up or has reached its maximum`,
            });
            alarm("connections-high", instance, instanceId, {
                metricName: "DatabaseConnections", comparisonOperator: "GreaterThanThreshold", threshold: connectionsCeiling,
                statistic: "Maximum", period: 60, evaluationPeriods: 5,
                description: `Connections above 90 % of max_connections (${args.maxConnections})`,
            });
            if (replica) {
                alarm("replica-lag-high", instance, instanceId, {
                    metricName: "ReplicaLag", comparisonOperator: "GreaterThanThreshold", threshold: 60,
                    statistic: "Maximum", period: 60, evaluationPeriods: 5,
                    description: "Replica more than 60 seconds behind the writer for 5 minutes: reads are stale",
                });
            }
        }

        new aws.rds.EventSubscription(`${name}-events`, {
            name: `${identifier}-events`,
            snsTopic: topicArn,
            sourceType: "db-instance",
            sourceIds: [primary.identifier, ...replicas.map((r) => r.identifier)],
            eventCategories: RDS_EVENT_CATEGORIES,
            enabled: true,
            tags,
        }, child);
        return topicArn;
    }
}
