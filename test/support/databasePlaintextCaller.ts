// A deliberately careless caller of the database components: it hands them passwords as plain
// (non-secret) Outputs. Run under mocks by test/database.test.ts to show that the components
// themselves keep a password secret wherever it flows, whatever the caller passes.
import * as pulumi from "@pulumi/pulumi";
import { IN_CLUSTER_MYSQL_IMAGE, loadConfig } from "../../config";
import { InClusterMysql } from "../../components/database/inClusterMysql";
import { MultiAzMysql } from "../../components/database/multiAzMysql";

const PLAINTEXT_PASSWORD = "plaintext-password-from-a-careless-caller";
const PLAINTEXT_ROOT_PASSWORD = "plaintext-root-password-from-a-careless-caller";

const config = loadConfig();
const rds = config.database.rds!;
const rdsDatabase = new MultiAzMysql("careless-rds", {
    identifier: "careless-rds",
    engine: { version: rds.engineVersion, parameterGroupFamily: rds.parameterGroupFamily, lifecycleSupport: rds.engineLifecycleSupport },
    instance: {
        instanceClass: config.database.sizing.instanceClass,
        allocatedStorageGiB: config.database.sizing.allocatedStorageGiB,
        maxAllocatedStorageGiB: config.database.sizing.maxAllocatedStorageGiB,
        readReplicas: rds.readReplicas,
    },
    network: {
        vpcId: rds.vpcId,
        subnets: rds.subnets,
        primaryAz: rds.primaryAz,
        allowedSecurityGroupIds: rds.allowedSecurityGroupIds,
        allowedCidrs: rds.allowedCidrs,
    },
    backups: {
        retentionDays: rds.backupRetentionDays,
        window: rds.backupWindow,
        maintenanceWindow: rds.maintenanceWindow,
        deletionProtection: rds.deletionProtection,
        finalSnapshot: rds.finalSnapshot,
    },
    monitoring: {
        performanceInsightsRetentionDays: rds.performanceInsightsRetentionDays,
        intervalSeconds: rds.monitoringIntervalSeconds,
        logRetentionDays: rds.logRetentionDays,
        alarmTopicArn: rds.alarmTopicArn,
        alarmEmails: rds.alarmEmails,
    },
    kmsKeyArn: rds.kmsKeyArn,
    dr: rds.dr,
    databaseName: "kubepolaris",
    username: "kubepolaris",
    port: 3306,
    maxConnections: 100,
    requireTls: false,
    password: pulumi.output(PLAINTEXT_PASSWORD),
    kubernetes: { namespace: "careless", secretName: "careless-rds-credentials", labels: {} },
    tags: {},
});
const local = new InClusterMysql("careless-local", {
    release: "careless",
    namespace: "careless",
    labels: {},
    image: IN_CLUSTER_MYSQL_IMAGE,
    storageSize: "1Gi",
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    databaseName: "kubepolaris",
    username: "kubepolaris",
    port: 3306,
    clusterDomain: "cluster.local",
    maxConnections: 100,
    requireTls: false,
    password: pulumi.output(PLAINTEXT_PASSWORD),
    rootPassword: pulumi.output(PLAINTEXT_ROOT_PASSWORD),
    secretName: "careless-local-credentials",
});

export const writer = rdsDatabase.writerEndpoint;
export const secretArn = rdsDatabase.secretArn;
export const localHost = local.host;
