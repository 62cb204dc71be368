// The database on AWS: a Multi-AZ RDS for MySQL writer (synchronous standby in another AZ,
// automatic failover), in-region read replicas only where the stack asks for them, encryption
// with a customer managed KMS key, point-in-time restore from automated backups, CloudWatch
// alarms and RDS events to SNS, and, when the stack names a DR region, automated backups
// replicated there and (database.drReplica) a promotable cross-region read replica.
//
// The master password never appears in plaintext: it is a Pulumi secret from generation (or stack
// config) through the RDS instance, the Secrets Manager secret and the Kubernetes Secret the
// backend reads it from.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DatabaseConnection, PASSWORD_KEY } from "./connection";

/** The RDS logs shipped to CloudWatch Logs. */
export const RDS_LOG_EXPORTS = ["error", "slowquery"];
/** RDS event categories that page: the writer failed over, failed, or is running out of storage. */
export const RDS_EVENT_CATEGORIES = ["failover", "failure", "low storage", "recovery"];

export interface MultiAzMysqlArgs {
    /** RDS instance identifier of the writer; replicas append "-replica-<n>". Required. */
    identifier: string;
    /**
     * MySQL "8.4" (or a full 8.4.x), its parameter group family ("mysql8.4"), and whether the
     * instance may run in paid RDS Extended Support past the major's end of standard support. Required.
     */
    engine: { version: string; parameterGroupFamily: string; lifecycleSupport: string };
    /** Instance class and storage of every instance; `readReplicas` readers besides the writer. Required. */
    instance: { instanceClass: string; allocatedStorageGiB: number; maxAllocatedStorageGiB: number; readReplicas: number };
    /**
     * Placement: the DB subnet group's private subnets (in two or more AZs), the AZ operators keep
     * the writer in (read replicas go to the others), and who may reach the port: security groups
     * (the EKS cluster's) and address blocks. Required (either source list may be empty).
     */
    network: {
        vpcId: string;
        subnets: { id: string; az: string }[];
        primaryAz: string;
        allowedSecurityGroupIds: string[];
        allowedCidrs: string[];
    };
    /**
     * Automated backups (`retentionDays` ≥ 1 keeps point-in-time restore), the daily backup and
     * weekly maintenance windows (UTC), deletion protection, and a final snapshot on deletion. Required.
     */
    backups: { retentionDays: number; window: string; maintenanceWindow: string; deletionProtection: boolean; finalSnapshot: boolean };
    /**
     * Performance Insights retention, enhanced monitoring interval, CloudWatch Logs retention, and
     * where alarms go: an existing SNS topic (unset: one is created) and e-mail subscribers. Required.
     */
    monitoring: {
        performanceInsightsRetentionDays: number;
        intervalSeconds: number;
        logRetentionDays: number;
        alarmTopicArn?: string;
        alarmEmails: string[];
    };
    /** A customer managed KMS key for everything at rest. Default: one is created (with an alias). */
    kmsKeyArn?: string;
    /**
     * A second region for replicated automated backups, the secret and, with `replica`, a
     * promotable cross-region read replica in the given VPC subnets. Default: none.
     */
    dr?: {
        region: string;
        kmsKeyArn?: string;
        backupRetentionDays: number;
        replica?: { vpcId: string; subnets: { id: string; az: string }[]; allowedSecurityGroupIds: string[]; allowedCidrs: string[] };
    };
    /** The schema created with the writer. Required. */
    databaseName: string;
    /** The master user, also the user the backend connects as. Required. */
    username: string;
    /** The port every instance listens on. Required. */
    port: number;
    /** max_connections for the parameter group (and the connection alarm's CONNECTIONS_ALARM_FRACTION mark). Required. */
    maxConnections: number;
    /** require_secure_transport: refuse connections without TLS (only for clients that speak it). Required. */
    requireTls: boolean;
    /** The master password from stack config. Default: a random one is generated (and kept secret). */
    password?: pulumi.Output<string>;
    /** Where the backend reads the password from: a Secret in its namespace. Required. */
    kubernetes: { namespace: pulumi.Input<string>; secretName: string; labels: Record<string, string> };
    /** Tags on every AWS resource. Required. */
    tags: Record<string, string>;
}

export class MultiAzMysql extends pulumi.ComponentResource {
    /** The writer's DNS name (follows the writer through a Multi-AZ failover). */
    public readonly writerEndpoint: pulumi.Output<string>;
    /** The read replicas' DNS names (empty without read replicas). */
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
    /** The cross-region read replica's identifier, the one to promote when the region is lost (undefined without one). */
    public readonly drReplicaIdentifier: pulumi.Output<string> | undefined;
    public readonly connection: DatabaseConnection;

    constructor(name: string, args: MultiAzMysqlArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:database:MultiAzMysql", name, {}, opts);

        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;

        // One key for the data at rest: storage, Performance Insights, the password secret and
        // the alarm topic (so CloudWatch and RDS events may use it to publish).
        const kmsKeyArn = args.kmsKeyArn !== undefined ? pulumi.output(args.kmsKeyArn) : createKey(name, args, account, partition, this);
        const network = createNetwork(name, args, this);
        const parameterGroup = createParameterGroup(name, args, this);
        const monitoring = createMonitoringRole(name, args, account, this);
        const password = masterPassword(name, args, this);
        const { primary, replicas } = createInstances(name, args, {
            kmsKeyArn, password, monitoring,
            subnetGroupName: network.subnetGroup.name,
            securityGroupId: network.securityGroup.id,
            parameterGroupName: parameterGroup.name,
        }, this);
        const dr = args.dr ? createDisasterRecovery(name, args, args.dr, { primary, monitoring }, this) : undefined;
        const secret = createSecrets(name, args, { kmsKeyArn, password, host: primary.address, drKeyArn: dr?.keyArn }, this);
        const credentials = createCredentials(name, args, password, this);
        const alarmTopicArn = createAlarms(name, args, kmsKeyArn, primary, replicas, this);

        this.writerEndpoint = primary.address;
        this.readerEndpoints = pulumi.all(replicas.map((r) => r.address));
        this.port = args.port;
        this.instanceIdentifier = primary.identifier;
        this.instanceArn = primary.arn;
        this.replicaIdentifiers = pulumi.all(replicas.map((r) => r.identifier));
        this.secretArn = secret.arn;
        this.kmsKeyArn = kmsKeyArn;
        this.securityGroupId = network.securityGroup.id;
        this.subnetGroupName = network.subnetGroup.name;
        this.parameterGroupName = parameterGroup.name;
        this.alarmTopicArn = alarmTopicArn;
        this.drBackupsArn = dr?.backups.id;
        this.drReplicaIdentifier = dr?.replica?.identifier;
        this.connection = {
            host: primary.address,
            port: args.port,
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
            drReplicaIdentifier: this.drReplicaIdentifier,
        });
    }
}

/** The read replicas' identifiers, in order. */
function replicaIdentifiers(args: MultiAzMysqlArgs): string[] {
    return Array.from({ length: args.instance.readReplicas }, (_, i) => `${args.identifier}-replica-${i + 1}`);
}

function createKey(name: string, args: MultiAzMysqlArgs, account: pulumi.Output<string>, partition: pulumi.Output<string>,
    parent: pulumi.Resource): pulumi.Output<string> {
    const key = new aws.kms.Key(`${name}-kms`, {
        description: `KubePolaris ${args.identifier}: RDS storage, Performance Insights, master secret, alarm topic`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: keyPolicy(account, partition),
        tags: args.tags,
    }, { parent });
    new aws.kms.Alias(`${name}-kms`, { name: `alias/${args.identifier}-rds`, targetKeyId: key.arn }, { parent });
    return key.arn;
}

/** The account administers the key through IAM; CloudWatch alarms and RDS events may publish to topics encrypted with it. */
function keyPolicy(account: pulumi.Input<string>, partition: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
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
    });
}

/** The subnet group, and a security group that lets only the allowed sources reach the port (in the DR region: `provider`). */
function createNetwork(name: string, args: MultiAzMysqlArgs, parent: pulumi.Resource,
    network: Omit<MultiAzMysqlArgs["network"], "primaryAz"> = args.network, identifier = args.identifier, provider?: aws.Provider):
    { subnetGroup: aws.rds.SubnetGroup; securityGroup: aws.ec2.SecurityGroup } {
    const { port, tags } = args;
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
        name: identifier,
        description: `KubePolaris ${identifier}: private subnets in ${new Set(network.subnets.map((s) => s.az)).size} AZs`,
        subnetIds: network.subnets.map((s) => s.id),
        tags,
    }, { parent, provider });

    const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
        vpcId: network.vpcId,
        description: `KubePolaris ${identifier}: MySQL ${port} from the EKS cluster only`,
        revokeRulesOnDelete: true,
        tags: { ...tags, Name: `${identifier}-mysql` },
    }, { parent, provider });
    // Rules as their own resources (no inline rules): one per source, the database port only, and
    // no egress rule at all (the provider removes AWS's default allow-all egress).
    const ingress = { securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, tags };
    for (const sourceGroup of network.allowedSecurityGroupIds) {
        new aws.vpc.SecurityGroupIngressRule(`${name}-from-${sourceGroup}`, {
            ...ingress,
            referencedSecurityGroupId: sourceGroup,
            description: `MySQL from ${sourceGroup} (EKS cluster)`,
        }, { parent, provider });
    }
    for (const cidr of network.allowedCidrs) {
        new aws.vpc.SecurityGroupIngressRule(`${name}-from-${cidr.replace(/[./]/g, "-")}`, {
            ...ingress,
            cidrIpv4: cidr,
            description: `MySQL from ${cidr}`,
        }, { parent, provider });
    }
    return { subnetGroup, securityGroup };
}

/** What the parameter group sets, in its own words (RDS shows it in the console). */
export function parameterGroupDescription(identifier: string, requireTls: boolean): string {
    return `KubePolaris ${identifier}: utf8mb4, slow query log, `
        + (requireTls ? "TLS required" : "TLS optional (require_secure_transport=0: the backend cannot speak TLS to MySQL)");
}

function createParameterGroup(name: string, args: MultiAzMysqlArgs, parent: pulumi.Resource, provider?: aws.Provider): aws.rds.ParameterGroup {
    return new aws.rds.ParameterGroup(`${name}-params`, {
        family: args.engine.parameterGroupFamily,
        description: parameterGroupDescription(args.identifier, args.requireTls),
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
            // RDS instance parameter groups spell ON as 1. Off while the backend cannot speak TLS
            // to MySQL: on, it could not connect at all (docs/how-it-works.md, "What the app really does").
            { name: "require_secure_transport", value: args.requireTls ? "1" : "0" },
            { name: "max_connections", value: String(args.maxConnections) },
        ],
        tags: args.tags,
    }, { parent, provider });
}

/** Enhanced monitoring (OS metrics every few seconds) publishes through this role. */
function createMonitoringRole(name: string, args: MultiAzMysqlArgs, account: pulumi.Output<string>, parent: pulumi.Resource):
    { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } {
    const role = new aws.iam.Role(`${name}-monitoring`, {
        description: `RDS enhanced monitoring for ${args.identifier}`,
        assumeRolePolicy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [{
                Effect: "Allow",
                Principal: { Service: "monitoring.rds.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": account } },
            }],
        }),
        tags: args.tags,
    }, { parent });
    const attachment = new aws.iam.RolePolicyAttachment(`${name}-monitoring`, {
        role: role.name,
        policyArn: aws.iam.ManagedPolicy.AmazonRDSEnhancedMonitoringRole,
    }, { parent });
    return { role, attachment };
}

/** The master password: from stack config, else generated once; a secret either way. */
function masterPassword(name: string, args: MultiAzMysqlArgs, parent: pulumi.Resource): pulumi.Output<string> {
    return pulumi.secret(args.password
        ?? new random.RandomPassword(`${name}-password`, {
            // RDS takes at most 41 characters; letters and digits only, so no DSN, shell or URL
            // quoting can ever mangle it.
            length: 40,
            special: false,
        }, { parent }).result);
}

/** The Multi-AZ writer and its read replicas, with the log groups they export to. */
function createInstances(name: string, args: MultiAzMysqlArgs, deps: {
    kmsKeyArn: pulumi.Output<string>;
    password: pulumi.Output<string>;
    monitoring: { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment };
    subnetGroupName: pulumi.Output<string>;
    securityGroupId: pulumi.Output<string>;
    parameterGroupName: pulumi.Output<string>;
}, parent: pulumi.Resource): { primary: aws.rds.Instance; replicas: aws.rds.Instance[] } {
    const { identifier, tags, backups, monitoring } = args;
    const replicaIds = replicaIdentifiers(args);
    // RDS creates these log groups on first export with no expiry: create them first, with one.
    const logGroups = [identifier, ...replicaIds].flatMap((instanceId) => RDS_LOG_EXPORTS.map((log) =>
        new aws.cloudwatch.LogGroup(`${name}-log-${instanceId}-${log}`, {
            name: `/aws/rds/instance/${instanceId}/${log}`,
            retentionInDays: monitoring.logRetentionDays,
            tags,
        }, { parent })));
    const dependsOn = [deps.monitoring.attachment, ...logGroups];

    // What the writer and its replicas share.
    const common = {
        instanceClass: args.instance.instanceClass,
        port: args.port,
        storageType: "gp3",
        maxAllocatedStorage: args.instance.maxAllocatedStorageGiB,
        storageEncrypted: true,
        kmsKeyId: deps.kmsKeyArn,
        parameterGroupName: deps.parameterGroupName,
        vpcSecurityGroupIds: [deps.securityGroupId],
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        // No IAM database authentication: the backend logs in with the master password (its DSN
        // has no token support), so an enabled IAM auth would be an unused way in.
        iamDatabaseAuthenticationEnabled: false,
        copyTagsToSnapshot: true,
        deletionProtection: backups.deletionProtection,
        maintenanceWindow: backups.maintenanceWindow,
        backupWindow: backups.window,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: deps.kmsKeyArn,
        performanceInsightsRetentionPeriod: monitoring.performanceInsightsRetentionDays,
        monitoringInterval: monitoring.intervalSeconds,
        monitoringRoleArn: deps.monitoring.role.arn,
        enabledCloudwatchLogsExports: RDS_LOG_EXPORTS,
        tags,
    };

    const primary = new aws.rds.Instance(`${name}-primary`, {
        ...common,
        identifier,
        engine: "mysql",
        engineVersion: args.engine.version,
        // Explicit, so that no instance slides into paid Extended Support without the stack
        // choosing it (config/rds.ts: only a retired major opted into by name gets it).
        engineLifecycleSupport: args.engine.lifecycleSupport,
        allocatedStorage: args.instance.allocatedStorageGiB,
        dbName: args.databaseName,
        username: args.username,
        password: deps.password,
        // A synchronous standby in another AZ of the subnet group; RDS chooses both AZs (the API
        // refuses an AvailabilityZone together with MultiAZ).
        multiAz: true,
        dbSubnetGroupName: deps.subnetGroupName,
        // Daily snapshots plus transaction logs every 5 minutes: point-in-time restore.
        backupRetentionPeriod: backups.retentionDays,
        skipFinalSnapshot: !backups.finalSnapshot,
        finalSnapshotIdentifier: backups.finalSnapshot ? `${identifier}-final` : undefined,
        // Keep the automated backups (and so point-in-time restore) after a deletion.
        deleteAutomatedBackups: !backups.finalSnapshot,
    }, { parent, dependsOn });

    // In-region read replicas, only where the stack asked for them (the backend reads nothing
    // from them). In the AZs other than the writer's, round robin, so one AZ outage never takes
    // the writer and a reader, or every reader, down at once.
    const otherZones = [...new Set(args.network.subnets.map((s) => s.az))].filter((az) => az !== args.network.primaryAz);
    const replicas = replicaIds.map((replicaId, i) => new aws.rds.Instance(`${name}-replica-${i + 1}`, {
        ...common,
        identifier: replicaId,
        replicateSourceDb: primary.identifier,
        availabilityZone: otherZones[i % otherZones.length],
        multiAz: false,
        // Backups on a replica: a promoted replica has point-in-time restore from the start.
        backupRetentionPeriod: backups.retentionDays,
        // RDS takes no final snapshot of a read replica.
        skipFinalSnapshot: true,
        // A replica holds no data of its own: when a change forces a new one (another AZ), drop
        // the old first, since both would need the same identifier.
    }, { parent, dependsOn, deleteBeforeReplace: true }));
    return { primary, replicas };
}

/**
 * DR: automated backups replicated to a second region, encrypted with a key there, and (with
 * `dr.replica`) a cross-region read replica: asynchronous, seconds behind the writer, promotable
 * to a standalone writer when the primary region is lost (docs/database.md, "Region loss").
 */
function createDisasterRecovery(name: string, args: MultiAzMysqlArgs, dr: NonNullable<MultiAzMysqlArgs["dr"]>,
    deps: { primary: aws.rds.Instance; monitoring: { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } },
    parent: pulumi.Resource): { keyArn: pulumi.Output<string>; backups: aws.rds.InstanceAutomatedBackupsReplication; replica?: aws.rds.Instance } {
    const drProvider = new aws.Provider(`${name}-dr`, { region: dr.region, defaultTags: { tags: args.tags } }, { parent });
    const drOpts = { parent, provider: drProvider };
    let keyArn: pulumi.Output<string>;
    if (dr.kmsKeyArn !== undefined) {
        keyArn = pulumi.output(dr.kmsKeyArn);
    } else {
        const drKey = new aws.kms.Key(`${name}-dr-kms`, {
            description: `KubePolaris ${args.identifier}: cross-region replica, replicated RDS backups, secrets and alarm topic in ${dr.region}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: keyPolicy(deps.primary.arn.apply(accountOfArn), deps.primary.arn.apply(partitionOfArn)),
            tags: args.tags,
        }, drOpts);
        new aws.kms.Alias(`${name}-dr-kms`, { name: `alias/${args.identifier}-rds-dr`, targetKeyId: drKey.arn }, drOpts);
        keyArn = drKey.arn;
    }
    const backups = new aws.rds.InstanceAutomatedBackupsReplication(`${name}-dr-backups`, {
        sourceDbInstanceArn: deps.primary.arn,
        kmsKeyId: keyArn,
        retentionPeriod: dr.backupRetentionDays,
    }, drOpts);
    const replica = dr.replica ? createDrReplica(name, args, dr, { ...deps, keyArn, provider: drProvider }, parent) : undefined;
    return { keyArn, backups, replica };
}

/** The identifier of the cross-region read replica. */
function drReplicaIdentifier(args: MultiAzMysqlArgs): string {
    return `${args.identifier}-dr`;
}

function createDrReplica(name: string, args: MultiAzMysqlArgs, dr: NonNullable<MultiAzMysqlArgs["dr"]>, deps: {
    primary: aws.rds.Instance; monitoring: { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment };
    keyArn: pulumi.Output<string>; provider: aws.Provider;
}, parent: pulumi.Resource): aws.rds.Instance {
    const replicaNetwork = dr.replica!;
    const identifier = drReplicaIdentifier(args);
    const opts = { parent, provider: deps.provider };
    // Subnet group, security group and parameter group are regional: the replica gets its own.
    const network = createNetwork(`${name}-dr`, args, parent, replicaNetwork, identifier, deps.provider);
    const parameterGroup = createParameterGroup(`${name}-dr`, args, parent, deps.provider);
    const logGroups = RDS_LOG_EXPORTS.map((log) => new aws.cloudwatch.LogGroup(`${name}-log-${identifier}-${log}`, {
        name: `/aws/rds/instance/${identifier}/${log}`,
        retentionInDays: args.monitoring.logRetentionDays,
        tags: args.tags,
    }, opts));
    const replica = new aws.rds.Instance(`${name}-dr-replica`, {
        identifier,
        // Across regions the source is named by its ARN; RDS re-encrypts with the DR region's key.
        replicateSourceDb: deps.primary.arn,
        instanceClass: args.instance.instanceClass,
        port: args.port,
        storageType: "gp3",
        maxAllocatedStorage: args.instance.maxAllocatedStorageGiB,
        storageEncrypted: true,
        kmsKeyId: deps.keyArn,
        dbSubnetGroupName: network.subnetGroup.name,
        vpcSecurityGroupIds: [network.securityGroup.id],
        parameterGroupName: parameterGroup.name,
        publiclyAccessible: false,
        // One AZ while it only replicates; after a promotion, modify it to Multi-AZ (the runbook).
        multiAz: false,
        autoMinorVersionUpgrade: true,
        iamDatabaseAuthenticationEnabled: false,
        copyTagsToSnapshot: true,
        deletionProtection: args.backups.deletionProtection,
        // Backups on the replica: once promoted, it has point-in-time restore from the start.
        backupRetentionPeriod: args.backups.retentionDays,
        backupWindow: args.backups.window,
        maintenanceWindow: args.backups.maintenanceWindow,
        skipFinalSnapshot: true,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: deps.keyArn,
        performanceInsightsRetentionPeriod: args.monitoring.performanceInsightsRetentionDays,
        monitoringInterval: args.monitoring.intervalSeconds,
        monitoringRoleArn: deps.monitoring.role.arn,
        enabledCloudwatchLogsExports: RDS_LOG_EXPORTS,
        tags: { ...args.tags, Role: "dr-replica" },
    }, { ...opts, dependsOn: [deps.monitoring.attachment, ...logGroups] });

    // Alarms and topics are regional: the replica's lag and storage page through a topic in its region.
    const topic = new aws.sns.Topic(`${name}-dr-alarms`, { name: `${identifier}-database-alarms`, kmsMasterKeyId: deps.keyArn, tags: args.tags }, opts);
    for (const email of args.monitoring.alarmEmails) {
        new aws.sns.TopicSubscription(`${name}-dr-alarms-${email}`, { topic: topic.arn, protocol: "email", endpoint: email }, opts);
    }
    for (const [id, spec] of Object.entries(instanceAlarms(args, true))) {
        createAlarm(`${name}-${identifier}-${id}`, identifier, id, replica, spec, topic.arn, args.tags, opts);
    }
    new aws.rds.EventSubscription(`${name}-dr-events`, {
        name: `${identifier}-events`,
        snsTopic: topic.arn,
        sourceType: "db-instance",
        sourceIds: [replica.identifier],
        eventCategories: RDS_EVENT_CATEGORIES,
        enabled: true,
        tags: args.tags,
    }, opts);
    return replica;
}

/** arn:aws:rds:eu-west-1:123456789012:db:x → 123456789012 / aws. */
function accountOfArn(arn: string): string {
    return arn.split(":")[4];
}

function partitionOfArn(arn: string): string {
    return arn.split(":")[1];
}

/** The master credentials in Secrets Manager (replicated to the DR region, when there is one). */
function createSecrets(name: string, args: MultiAzMysqlArgs, deps: {
    kmsKeyArn: pulumi.Output<string>; password: pulumi.Output<string>; host: pulumi.Output<string>; drKeyArn?: pulumi.Output<string>;
}, parent: pulumi.Resource): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(`${name}-master`, {
        namePrefix: `${args.identifier}-mysql-master-`,
        description: `Master credentials of RDS ${args.identifier} (also in the Kubernetes Secret ${args.kubernetes.secretName})`,
        kmsKeyId: deps.kmsKeyArn,
        recoveryWindowInDays: args.backups.deletionProtection ? 30 : 7,
        // With a DR region the credentials are there too, for a restore when this region is gone.
        replicas: args.dr && deps.drKeyArn ? [{ region: args.dr.region, kmsKeyId: deps.drKeyArn }] : undefined,
        tags: args.tags,
    }, { parent });
    new aws.secretsmanager.SecretVersion(`${name}-master`, {
        secretId: secret.id,
        secretString: pulumi.secret(pulumi.jsonStringify({
            engine: "mysql",
            host: deps.host,
            port: args.port,
            username: args.username,
            password: deps.password,
            dbname: args.databaseName,
            dbInstanceIdentifier: args.identifier,
        })),
    }, { parent });
    return secret;
}

/** The Kubernetes Secret the backend reads the password from. */
function createCredentials(name: string, args: MultiAzMysqlArgs, password: pulumi.Output<string>, parent: pulumi.Resource): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(`${name}-credentials`, {
        metadata: { name: args.kubernetes.secretName, namespace: args.kubernetes.namespace, labels: args.kubernetes.labels },
        type: "Opaque",
        stringData: { [PASSWORD_KEY]: password },
    }, { parent });
}

/**
 * The storage alarm's threshold, a share of the initial allocation. RDS storage autoscaling grows
 * the volume whenever free space falls below 10 % of the allocation (never less than the initial
 * one), so in normal growth free space stays near or above 10 % of the initial allocation; half of
 * that is reached only when growth has not kept up: at maxAllocatedStorage, or when writes outrun
 * the last growth during the 6 hours RDS waits before the next one. The old alarm at 10 % paged on
 * every normal growth step.
 */
export const STORAGE_ALARM_FRACTION = 0.05;
/**
 * The connection alarm fires above this share of max_connections. max_connections is every backend
 * pool at the HPA maximum plus a surge pod, plus a reserve (config/database.ts), so the backend alone
 * reaches 90 % only with nearly every pool full at (almost) full scale: the moment to page, while the
 * last pools and the operators' reserve still have room (prod: 2120, alarm above 1908).
 */
export const CONNECTIONS_ALARM_FRACTION = 0.9;

/** One CloudWatch alarm on one instance. */
interface AlarmSpec {
    metricName: string;
    comparisonOperator: string;
    threshold: number;
    statistic: string;
    period: number;
    evaluationPeriods: number;
    description: string;
}

/** What pages on every instance (and on replicas their lag), from the instance's size and max_connections. */
function instanceAlarms(args: MultiAzMysqlArgs, replica: boolean): Record<string, AlarmSpec> {
    const { allocatedStorageGiB, maxAllocatedStorageGiB } = args.instance;
    const alarms: Record<string, AlarmSpec> = {
        "cpu-high": {
            metricName: "CPUUtilization", comparisonOperator: "GreaterThanThreshold", threshold: 80,
            statistic: "Average", period: 300, evaluationPeriods: 3, description: "CPU above 80 % for 15 minutes",
        },
        "storage-headroom-low": {
            metricName: "FreeStorageSpace", comparisonOperator: "LessThanThreshold",
            threshold: Math.round(STORAGE_ALARM_FRACTION * allocatedStorageGiB * 1024 ** 3),
            statistic: "Minimum", period: 300, evaluationPeriods: 3,
            description: `Free storage below ${STORAGE_ALARM_FRACTION * 100} % of the initial ${allocatedStorageGiB} GiB for 15 minutes: `
                + "storage autoscaling grows the volume when free space falls to 10 % of it, but at most once in 6 hours (and after "
                + `the last growth's storage optimization) and never past maxAllocatedStorage (${maxAllocatedStorageGiB} GiB), so free `
                + "space this low means growth has not kept up: writes outran the last growth during its cooldown, or the volume is at "
                + "maxAllocatedStorage. Free space (no storage change is possible during the cooldown) and raise maxAllocatedStorage "
                + "if it was reached, before writes fail",
        },
        "connections-high": {
            metricName: "DatabaseConnections", comparisonOperator: "GreaterThanThreshold", threshold: Math.floor(CONNECTIONS_ALARM_FRACTION * args.maxConnections),
            statistic: "Maximum", period: 60, evaluationPeriods: 5,
            description: `Connections above ${CONNECTIONS_ALARM_FRACTION * 100} % of max_connections (${args.maxConnections})`,
        },
    };
    if (replica) {
        alarms["replica-lag-high"] = {
            metricName: "ReplicaLag", comparisonOperator: "GreaterThanThreshold", threshold: 60,
            statistic: "Maximum", period: 60, evaluationPeriods: 5,
            description: "Replica more than 60 seconds behind the writer for 5 minutes: a promotion now would lose that much",
        };
    }
    return alarms;
}

function createAlarm(resourceName: string, instanceId: string, id: string, instance: aws.rds.Instance, spec: AlarmSpec,
    topicArn: pulumi.Input<string>, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
    return new aws.cloudwatch.MetricAlarm(resourceName, {
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
        alarmActions: [topicArn],
        okActions: [topicArn],
        tags,
    }, opts);
}

/** CloudWatch alarms on every instance and an RDS event subscription, all to one SNS topic. */
function createAlarms(name: string, args: MultiAzMysqlArgs, kmsKeyArn: pulumi.Output<string>, primary: aws.rds.Instance,
    replicas: aws.rds.Instance[], parent: pulumi.Resource): pulumi.Output<string> {
    const { identifier, tags, monitoring } = args;
    const topicArn = monitoring.alarmTopicArn !== undefined
        ? pulumi.output(monitoring.alarmTopicArn)
        : new aws.sns.Topic(`${name}-alarms`, { name: `${identifier}-database-alarms`, kmsMasterKeyId: kmsKeyArn, tags }, { parent }).arn;
    for (const email of monitoring.alarmEmails) {
        new aws.sns.TopicSubscription(`${name}-alarms-${email}`, { topic: topicArn, protocol: "email", endpoint: email }, { parent });
    }

    const replicaIds = replicaIdentifiers(args);
    const instances = [
        { instance: primary, instanceId: identifier, replica: false },
        ...replicas.map((instance, i) => ({ instance, instanceId: replicaIds[i], replica: true })),
    ];
    for (const { instance, instanceId, replica } of instances) {
        for (const [id, spec] of Object.entries(instanceAlarms(args, replica))) {
            createAlarm(`${name}-${instanceId}-${id}`, instanceId, id, instance, spec, topicArn, tags, { parent });
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
    }, { parent });
    return topicArn;
}
