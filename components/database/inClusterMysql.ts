// MySQL inside the cluster, for the local stack (no cloud): one StatefulSet pod with a volume,
// a headless Service and a Secret. Not highly available, by design: the local stack runs on one
// machine. Its passwords come from stack config (secrets), so this needs no random provider.
//
// Runs under Pod Security "restricted": as the image's mysql user (uid 999), read-only root
// filesystem with writable volumes only where mysqld writes (data, socket/pid, tmp).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WAIVERS, imageUserWaivers, pullPolicyWaivers, waiverAnnotations } from "../checkerWaivers";
import { withEphemeralStorage } from "../ephemeralStorage";
import { componentName, podLabels } from "../labels";
import { restrictedContainerSecurity, restrictedPodSecurity } from "../podSecurity";
import { ContainerResources, ImagePullPolicy } from "../types";
import { DatabaseConnection, inClusterConnection, PASSWORD_KEY, ROOT_PASSWORD_KEY } from "./connection";

/** The official image's mysql user and group. */
/** The mysql user and group of the official mysql and mariadb images (and of scripts/cluster/images.sh database). */
export const MYSQL_USER = { uid: 999, gid: 999 };
const DATA_MOUNT = "/var/lib/mysql";
/** emptyDirs: the socket and pid file; temporary tables and sort files. */
const RUN_SIZE_LIMIT = "16Mi";
const TMP_SIZE_LIMIT = "1Gi";

type Container = k8s.types.input.core.v1.Container;

/** What every in-cluster database takes (InClusterMysql, GaleraCluster). */
export interface InClusterDatabaseArgs {
    /** The release: prefix of the object names and part of the pod labels. Required. */
    release: string;
    /** The namespace (an Output of NamespaceBaseline, so the objects wait for it). Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object (the pods additionally get `podLabels(release, "mysql")`). Required. */
    labels: Record<string, string>;
    /** The server image, running as user 999 (each component says what else it assumes of it). Required. */
    image: string;
    /** When a node fetches the image. Default: "Always" (a tag can be pushed again). */
    imagePullPolicy?: ImagePullPolicy;
    /** Size of each data volume, a Kubernetes quantity ("10Gi"). Required. */
    storageSize: string;
    /** StorageClass of the data volumes. Default: the cluster's default StorageClass. */
    storageClassName?: string;
    /** The server container's requests and limits (ephemeral storage is added to them). Required. */
    resources: ContainerResources;
    /** The schema created on first start. Required. */
    databaseName: string;
    /** The application user created on first start. Required. */
    username: string;
    /** The port the server listens on and the Service serves. Required. */
    port: number;
    /** The cluster's DNS domain: clients get the Service's full name under it. Required. */
    clusterDomain: string;
    /** max_connections of every server. Required. */
    maxConnections: number;
    /** The application user's password (a secret from stack config). Required. */
    password: pulumi.Output<string>;
    /** The root password (a secret from stack config); root logs in over the local socket only. Required. */
    rootPassword: pulumi.Output<string>;
    /** Name of the Secret holding both passwords (the backend reads the user's from it). Required. */
    secretName: string;
    /** PriorityClass of the pods. Default: none (the cluster's default priority). */
    priorityClassName?: pulumi.Input<string>;
}

/** The official MySQL image's entrypoint is assumed (MYSQL_* variables, mysqld flags as arguments). */
export interface InClusterMysqlArgs extends InClusterDatabaseArgs {
    /** Refuse connections without TLS (only for clients that speak it). Required. */
    requireTls: boolean;
}

export class InClusterMysql extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    public readonly port: number;
    public readonly statefulSetName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly secretName: pulumi.Output<string>;
    /** The pod labels, also every selector of this workload. */
    public readonly selector: Record<string, string>;
    public readonly connection: DatabaseConnection;

    constructor(name: string, args: InClusterMysqlArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:database:InClusterMysql", name, {}, opts);

        const selector = podLabels(args.release, "mysql");
        const metadata = { name: componentName(args.release, "mysql"), namespace: args.namespace, labels: { ...args.labels, ...selector } };

        const secret = createCredentials(name, args, metadata.labels, this);
        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata, automountServiceAccountToken: false }, { parent: this });
        const service = createService(name, args, metadata, selector, this);
        const statefulSet = createStatefulSet(name, args, metadata, selector, {
            serviceName: service.metadata.name,
            serviceAccountName: serviceAccount.metadata.name,
            secretName: secret.metadata.name,
        }, this);

        this.selector = selector;
        this.port = args.port;
        this.connection = inClusterConnection(service, secret, args);
        this.host = this.connection.host;
        this.statefulSetName = statefulSet.metadata.name;
        this.serviceName = service.metadata.name;
        this.secretName = secret.metadata.name;
        this.registerOutputs({
            host: this.host,
            statefulSetName: this.statefulSetName,
            serviceName: this.serviceName,
            secretName: this.secretName,
        });
    }
}

/** The metadata every object of an in-cluster database shares (also the Galera cluster's). */
export interface MysqlMetadata {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
}

/** Both passwords, secret whatever the caller passed (also the Galera cluster's). */
export function createCredentials(name: string, args: { namespace: pulumi.Input<string>; secretName: string; password: pulumi.Output<string>; rootPassword: pulumi.Output<string> },
    labels: Record<string, string>, parent: pulumi.Resource): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(`${name}-credentials`, {
        metadata: { name: args.secretName, namespace: args.namespace, labels },
        type: "Opaque",
        stringData: {
            [PASSWORD_KEY]: pulumi.secret(args.password),
            [ROOT_PASSWORD_KEY]: pulumi.secret(args.rootPassword),
        },
    }, { parent });
}

/** Headless: the name resolves to the pod's address only while it is ready. */
function createService(name: string, args: InClusterMysqlArgs, metadata: MysqlMetadata, selector: Record<string, string>,
    parent: pulumi.Resource): k8s.core.v1.Service {
    return new k8s.core.v1.Service(`${name}-service`, {
        metadata,
        spec: {
            clusterIP: "None",
            selector,
            ports: [{ name: "mysql", port: args.port, targetPort: "mysql", protocol: "TCP" }],
        },
    }, { parent });
}

function createStatefulSet(name: string, args: InClusterMysqlArgs, metadata: MysqlMetadata, selector: Record<string, string>,
    refs: { serviceName: pulumi.Input<string>; serviceAccountName: pulumi.Input<string>; secretName: pulumi.Input<string> },
    parent: pulumi.Resource): k8s.apps.v1.StatefulSet {
    return new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
        metadata: {
            ...metadata,
            annotations: waiverAnnotations(imageUserWaivers(MYSQL_USER), WAIVERS.secretEnvFollowUp,
                pullPolicyWaivers(args.imagePullPolicy, args.image)),
        },
        spec: {
            serviceName: refs.serviceName,
            replicas: 1,
            selector: { matchLabels: selector },
            podManagementPolicy: "OrderedReady",
            updateStrategy: { type: "RollingUpdate" },
            // The data outlives the StatefulSet: deleting the stack never deletes the volume.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            template: {
                metadata: { labels: metadata.labels },
                spec: {
                    serviceAccountName: refs.serviceAccountName,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    priorityClassName: args.priorityClassName,
                    // mysqld flushes its buffer pool and closes cleanly on SIGTERM.
                    terminationGracePeriodSeconds: 60,
                    // The data volume only needs its ownership fixed once, not on every start.
                    securityContext: restrictedPodSecurity(MYSQL_USER, { fsGroupChangePolicy: "OnRootMismatch" }),
                    containers: [mysqlContainer(args, refs.secretName)],
                    volumes: [
                        { name: "run", emptyDir: { sizeLimit: RUN_SIZE_LIMIT } },
                        { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
                    ],
                },
            },
            volumeClaimTemplates: [{
                metadata: { name: "data", labels: metadata.labels },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: args.storageClassName,
                    resources: { requests: { storage: args.storageSize } },
                },
            }],
        },
    }, { parent });
}

/** mysqld with its flags, the credentials from the Secret, and probes that tell booting, alive and ready apart. */
function mysqlContainer(args: InClusterMysqlArgs, secretName: pulumi.Input<string>): Container {
    const port = args.port;
    const fromSecret = (key: string) => ({ secretKeyRef: { name: secretName, key } });
    return {
        name: "mysql",
        image: args.image,
        // The tag is a moving minor line: every start resolves it (see HaWorkload).
        imagePullPolicy: args.imagePullPolicy ?? "Always",
        // The image's entrypoint initialises the data directory on first start and passes these
        // flags on to mysqld.
        args: [
            // A subdirectory: a fresh volume's lost+found would stop the initialisation.
            `--datadir=${DATA_MOUNT}/data`,
            `--port=${port}`,
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--skip-name-resolve",
            "--slow-query-log=ON",
            "--long-query-time=1",
            `--max-connections=${args.maxConnections}`,
            `--require-secure-transport=${args.requireTls ? "ON" : "OFF"}`,
        ],
        ports: [{ name: "mysql", containerPort: port, protocol: "TCP" }],
        env: [
            { name: "MYSQL_DATABASE", value: args.databaseName },
            { name: "MYSQL_USER", value: args.username },
            { name: "MYSQL_PASSWORD", valueFrom: fromSecret(PASSWORD_KEY) },
            { name: "MYSQL_ROOT_PASSWORD", valueFrom: fromSecret(ROOT_PASSWORD_KEY) },
            // root only over the local socket, never from another pod.
            { name: "MYSQL_ROOT_HOST", value: "localhost" },
        ],
        resources: withEphemeralStorage(args.resources, [RUN_SIZE_LIMIT, TMP_SIZE_LIMIT]),
        // The first start initialises the data directory (a temporary server without
        // networking): up to 5 minutes before liveness takes over.
        startupProbe: {
            tcpSocket: { port },
            periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60,
        },
        // Alive: mysqld answers on its socket (a refused login still counts).
        livenessProbe: {
            exec: { command: ["mysqladmin", "--protocol=socket", "ping"] },
            periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6,
        },
        // Ready: the application user can log in over TCP and run a query.
        readinessProbe: {
            exec: {
                command: ["sh", "-c",
                    `MYSQL_PWD="$MYSQL_PASSWORD" exec mysql --protocol=TCP --host=127.0.0.1 --port=${port} `
                    + `--user="$MYSQL_USER" --execute="SELECT 1" "$MYSQL_DATABASE"`],
            },
            periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3,
        },
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
            { name: "data", mountPath: DATA_MOUNT },
            // Socket and pid file.
            { name: "run", mountPath: "/var/run/mysqld" },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}
