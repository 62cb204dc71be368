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
const rds = new MultiAzMysql("careless-rds", {
    identifier: "careless-rds",
    rds: config.database.rds!,
    sizing: config.database.sizing,
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
    mysql: {
        image: IN_CLUSTER_MYSQL_IMAGE,
        storageSize: "1Gi",
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    databaseName: "kubepolaris",
    username: "kubepolaris",
    port: 3306,
    maxConnections: 100,
    requireTls: false,
    password: pulumi.output(PLAINTEXT_PASSWORD),
    rootPassword: pulumi.output(PLAINTEXT_ROOT_PASSWORD),
    secretName: "careless-local-credentials",
});

export const writer = rds.writerEndpoint;
export const secretArn = rds.secretArn;
export const localHost = local.host;
