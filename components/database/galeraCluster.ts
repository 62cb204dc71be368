// The in-cluster database, highly available without a cloud: a MariaDB Galera cluster of an odd
// number of members (three by default), one per node and spread over the zones. Galera replicates
// every commit synchronously to all members, and any member of the primary component (the
// majority) accepts writes, so losing one member (its pod, node or zone) loses no committed write
// and leaves two that keep writing. See docs/database.md for why Galera and not primary–replica.
//
//   Service <release>-mysql          what the backend connects to: only members that are synced
//                                    in the primary component are Ready, so it always reaches a
//                                    member that takes writes
//   Service <release>-mysql-peers    headless, lists members before they are ready: how members
//                                    find each other (gcomm://) and say where they stand
//   StatefulSet                      members start in parallel; galera/start.sh (a ConfigMap the
//                                    program owns) decides join / bootstrap / re-form / wait
//   PodDisruptionBudget              a drain never takes the cluster below its quorum
//   NetworkPolicy                    replication between members only (the baseline admits the backend)
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TOPOLOGY_KEYS } from "../../policy/facts";
import { WAIVERS, imageUserWaivers, pullPolicyWaivers, waiverAnnotations } from "../checkerWaivers";
import { withEphemeralStorage } from "../ephemeralStorage";
import { componentName, podLabels } from "../labels";
import { restrictedContainerSecurity, restrictedPodSecurity } from "../podSecurity";
import { DatabaseConnection, inClusterConnection, PASSWORD_KEY, ROOT_PASSWORD_KEY } from "./connection";
import { createCredentials, InClusterDatabaseArgs, MYSQL_USER, MysqlMetadata } from "./inClusterMysql";

const DATA_MOUNT = "/var/lib/mysql";
const RUN_MOUNT = "/run/mysqld";
const SCRIPTS_MOUNT = "/galera";
/** The run folder holds the socket, the pid file and the member's settings with the SST password: in memory. */
const RUN_SIZE_LIMIT = "16Mi";
const TMP_SIZE_LIMIT = "1Gi";

/** Galera's ports: group communication, incremental state transfer, full state transfer (mariadb-backup). */
export const GALERA_PORTS = { galera: 4567, ist: 4568, sst: 4444 } as const;
/** Where a starting member tells the others where it stands (galera/start.sh; no standard port exists). */
export const STANDING_PORT = 4560;

const SCRIPTS = {
    "start.sh": fs.readFileSync(path.join(__dirname, "galera", "start.sh"), "utf8"),
    "ready.sh": fs.readFileSync(path.join(__dirname, "galera", "ready.sh"), "utf8"),
    "drain.sh": fs.readFileSync(path.join(__dirname, "galera", "drain.sh"), "utf8"),
};

type Container = k8s.types.input.core.v1.Container;

/** The image must be MariaDB 10.6+ with Galera 4, mariadb-backup and socat (the official mariadb image). */
export interface GaleraClusterArgs extends InClusterDatabaseArgs {
    /** How many members: odd, at least 3 (a majority must survive the loss of one). Required. */
    members: number;
}

/** The most members a voluntary disruption may take while the rest keep a majority (Galera's quorum). */
export function galeraMaxUnavailable(members: number): number {
    return members - (Math.floor(members / 2) + 1);
}

export class GaleraCluster extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    public readonly port: number;
    public readonly statefulSetName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly peerServiceName: pulumi.Output<string>;
    public readonly secretName: pulumi.Output<string>;
    /** The pod labels, also every selector of this workload. */
    public readonly selector: Record<string, string>;
    public readonly connection: DatabaseConnection;

    constructor(name: string, args: GaleraClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:database:GaleraCluster", name, {}, opts);
        if (!Number.isInteger(args.members) || args.members < 3 || args.members % 2 === 0) {
            throw new Error(`GaleraCluster ${name}: members is ${args.members}; allowed: an odd whole number of at least 3`);
        }

        const selector = podLabels(args.release, "mysql");
        const baseName = componentName(args.release, "mysql");
        const labels = { ...args.labels, ...selector };
        const metadata = { name: baseName, namespace: args.namespace, labels };
        const peersName = `${baseName}-peers`;

        const secret = createCredentials(name, args, labels, this);
        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata, automountServiceAccountToken: false }, { parent: this });
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, {
            metadata: { ...metadata, name: `${baseName}-galera` },
            data: SCRIPTS,
        }, { parent: this });
        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata,
            spec: {
                type: "ClusterIP",
                selector,
                ports: [{ name: "mysql", port: args.port, targetPort: "mysql", protocol: "TCP" }],
            },
        }, { parent: this });
        const peers = new k8s.core.v1.Service(`${name}-peers`, {
            metadata: { ...metadata, name: peersName },
            spec: {
                clusterIP: "None",
                // Members find each other while none is ready yet (the first start, a full restart).
                publishNotReadyAddresses: true,
                selector,
                ports: [
                    ...Object.entries(GALERA_PORTS).map(([portName, port]) => ({ name: portName, port, targetPort: port, protocol: "TCP" })),
                    { name: "standing", port: STANDING_PORT, targetPort: STANDING_PORT, protocol: "TCP" },
                ],
            },
        }, { parent: this });
        const statefulSet = createStatefulSet(name, args, metadata, selector, {
            peersName, serviceAccountName: serviceAccount.metadata.name, secretName: secret.metadata.name, scriptsName: scripts.metadata.name,
        }, peers, this);
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
            metadata,
            spec: { maxUnavailable: galeraMaxUnavailable(args.members), selector: { matchLabels: selector } },
        }, { parent: this });
        // Members replicate to each other; the namespace's default deny would cut them apart.
        const replication = [...Object.values(GALERA_PORTS), STANDING_PORT].map((port) => ({ protocol: "TCP", port }));
        new k8s.networking.v1.NetworkPolicy(`${name}-replication`, {
            metadata: { ...metadata, name: "allow-database-replication" },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [{ podSelector: { matchLabels: selector } }], ports: replication }],
                egress: [{ to: [{ podSelector: { matchLabels: selector } }], ports: replication }],
            },
        }, { parent: this });

        this.selector = selector;
        this.port = args.port;
        this.connection = inClusterConnection(service, secret, args);
        this.host = this.connection.host;
        this.statefulSetName = statefulSet.metadata.name;
        this.serviceName = service.metadata.name;
        this.peerServiceName = peers.metadata.name;
        this.secretName = secret.metadata.name;
        this.registerOutputs({
            host: this.host,
            statefulSetName: this.statefulSetName,
            serviceName: this.serviceName,
            peerServiceName: this.peerServiceName,
            secretName: this.secretName,
        });
    }
}

interface Refs {
    peersName: string;
    serviceAccountName: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    scriptsName: pulumi.Input<string>;
}

function createStatefulSet(name: string, args: GaleraClusterArgs, metadata: MysqlMetadata, selector: Record<string, string>, refs: Refs,
    peers: k8s.core.v1.Service, parent: pulumi.Resource): k8s.apps.v1.StatefulSet {
    // A new start script rolls the members (one at a time, each waiting for the last to be synced).
    const scriptsHash = crypto.createHash("sha256").update(JSON.stringify(SCRIPTS)).digest("hex").slice(0, 16);
    return new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
        metadata: {
            ...metadata,
            annotations: waiverAnnotations(imageUserWaivers(MYSQL_USER), WAIVERS.secretEnvFollowUp,
                pullPolicyWaivers(args.imagePullPolicy, args.image)),
        },
        spec: {
            serviceName: refs.peersName,
            replicas: args.members,
            selector: { matchLabels: selector },
            // Parallel: after a full stop the member holding the newest commit may be any ordinal,
            // and the others must be up to tell it so (galera/start.sh). Rolling updates still go
            // one member at a time.
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            // The data outlives the StatefulSet: deleting the stack never deletes the volumes.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            template: {
                metadata: { labels: metadata.labels, annotations: { "kubepolaris.io/galera-scripts": scriptsHash } },
                spec: {
                    serviceAccountName: refs.serviceAccountName,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    priorityClassName: args.priorityClassName,
                    // mariadbd leaves the cluster cleanly on SIGTERM (the last to leave may bootstrap alone).
                    terminationGracePeriodSeconds: 90,
                    securityContext: restrictedPodSecurity(MYSQL_USER, { fsGroupChangePolicy: "OnRootMismatch" }),
                    // One member per node, and the members over the zones: a node or a zone takes one.
                    affinity: {
                        podAntiAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: selector }, topologyKey: TOPOLOGY_KEYS.hostname }],
                        },
                    },
                    topologySpreadConstraints: [{
                        maxSkew: 1,
                        topologyKey: TOPOLOGY_KEYS.zone,
                        // Hard: two members in one zone would let a zone loss take the majority.
                        whenUnsatisfiable: "DoNotSchedule",
                        labelSelector: { matchLabels: selector },
                    }],
                    containers: [galeraContainer(args, refs)],
                    volumes: [
                        { name: "run", emptyDir: { medium: "Memory", sizeLimit: RUN_SIZE_LIMIT } },
                        { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
                        { name: "scripts", configMap: { name: refs.scriptsName, defaultMode: 0o555 } },
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
    }, { parent, dependsOn: [peers] });
}

function galeraContainer(args: GaleraClusterArgs, refs: Refs): Container {
    const fromSecret = (key: string) => ({ secretKeyRef: { name: refs.secretName, key } });
    // Stable names through the headless Service, in ordinal order (the script's "ordinal" is the pod name's suffix).
    const memberHosts = Array.from({ length: args.members }, (_, i) =>
        pulumi.interpolate`${componentName(args.release, "mysql")}-${i}.${refs.peersName}.${args.namespace}.svc`);
    const alive = ["mariadb-admin", "--no-defaults", `--socket=${RUN_MOUNT}/mysqld.sock`, "ping"];
    return {
        name: "mariadb",
        image: args.image,
        imagePullPolicy: args.imagePullPolicy ?? "Always",
        command: ["sh", `${SCRIPTS_MOUNT}/start.sh`],
        ports: [
            { name: "mysql", containerPort: args.port, protocol: "TCP" },
            ...Object.entries(GALERA_PORTS).map(([portName, port]) => ({ name: portName, containerPort: port, protocol: "TCP" })),
            { name: "standing", containerPort: STANDING_PORT, protocol: "TCP" },
        ],
        env: [
            { name: "MEMBER_HOSTS", value: pulumi.all(memberHosts).apply((hosts) => hosts.join(" ")) },
            { name: "CLUSTER_NAME", value: componentName(args.release, "mysql") },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "LISTEN_PORT", value: String(args.port) },
            { name: "STATE_PORT", value: String(STANDING_PORT) },
            { name: "MAX_CONNECTIONS", value: String(args.maxConnections) },
            { name: "DATADIR", value: `${DATA_MOUNT}/data` },
            { name: "RUN_DIR", value: RUN_MOUNT },
            { name: "MYSQL_DATABASE", value: args.databaseName },
            { name: "MYSQL_USER", value: args.username },
            { name: "MYSQL_PASSWORD", valueFrom: fromSecret(PASSWORD_KEY) },
            { name: "MYSQL_ROOT_PASSWORD", valueFrom: fromSecret(ROOT_PASSWORD_KEY) },
        ],
        resources: withEphemeralStorage(args.resources, [TMP_SIZE_LIMIT]),
        // Waiting for the other members, then a full copy from a donor: up to 10 minutes.
        startupProbe: { exec: { command: alive }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 60 },
        // Alive: mariadbd answers on its socket, also while it is outside the primary component.
        livenessProbe: { exec: { command: alive }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        // Ready: synced in the primary component, so it takes writes (galera/ready.sh).
        readinessProbe: { exec: { command: ["sh", `${SCRIPTS_MOUNT}/ready.sh`] }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 2 },
        // Out of the endpoints, close the clients' idle connections before mariadbd stops (galera/drain.sh).
        lifecycle: { preStop: { exec: { command: ["sh", `${SCRIPTS_MOUNT}/drain.sh`] } } },
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
            { name: "data", mountPath: DATA_MOUNT },
            { name: "run", mountPath: RUN_MOUNT },
            { name: "tmp", mountPath: "/tmp" },
            { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
        ],
    };
}
