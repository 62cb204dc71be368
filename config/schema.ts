// The typed shape of a validated stack configuration (what parseConfig returns; index.ts maps it to
// each component's own args), and the raw input parseConfig reads. Types and key lists only: the values
// live in tiers.ts and environments.ts, the rules in the parsers.
import type { ContainerResources, ImagePullPolicy } from "../components/types";
import type { EdgeMetricsSource } from "../components/alerts/edgeMetrics";
import type { LoadBalancerArgs } from "../components/edge";
import { ENVIRONMENTS, type Environment, type Tier, TIERS } from "../policy/facts";

export { ENVIRONMENTS, type Environment, type Tier, TIERS };

/** The namespace of every stack setting: `pulumi config set kubepolaris:<key>`. */
export const CONFIG_NAMESPACE = "kubepolaris";

/** A container's requests and limits: the shape the workload components take. */
export type ResourceSpec = ContainerResources;

export interface WorkloadSizing {
    /** HPA minimum; also the Deployment's initial replica count. */
    minReplicas: number;
    maxReplicas: number;
    resources: ResourceSpec;
}

export interface DatabaseSizing {
    instanceClass: string;
    allocatedStorageGiB: number;
    maxAllocatedStorageGiB: number;
}

export interface TierProfile {
    backend: WorkloadSizing;
    frontend: WorkloadSizing;
    database: DatabaseSizing;
}

export type AntiAffinity = "preferred" | "required";

export interface WorkloadConfig extends WorkloadSizing {
    image: string;
    antiAffinity: AntiAffinity;
    /** HPA targets of the guide's values-ha.yaml: CPU 70 %, memory 80 %. */
    targetCpuUtilization: number;
    targetMemoryUtilization: number;
}

export interface FrontendConfig extends WorkloadConfig {
    /** Port the static web server listens on inside the pod; the Service always serves 80. */
    containerPort: number;
}

/** HTTP paths the probes call, per image (defaults: what the pinned release serves). */
export interface ProbePaths {
    backend: { liveness: string; readiness: string };
    frontend: { readiness: string };
}

export type TlsConfig =
    | { mode: "existingSecret"; secretName: string }
    | { mode: "certManager"; secretName: string; clusterIssuer: string };

export interface DatabaseConfig {
    mode: "rds" | "in-cluster";
    name: string;
    user: string;
    port: number;
    sizing: DatabaseSizing;
    /**
     * The server's max_connections: every backend pod the HPA may run (plus a rollout surge)
     * holding the app's full pool (hard-coded in the backend), plus room for operators.
     */
    maxConnections: number;
    /**
     * Whether the server refuses connections without TLS (RDS require_secure_transport). Off by
     * default because the backend cannot speak TLS to MySQL; on, it could not connect at all.
     */
    requireTls: boolean;
    /** Set exactly when mode is "rds". */
    rds?: RdsConfig;
    /** Set exactly when mode is "in-cluster". */
    inCluster?: InClusterMysqlConfig;
}

/** A private subnet of the DB subnet group. Its AZ and CIDR come from config so that a single-AZ
 * subnet list is refused before anything is registered, and the NetworkPolicy egress to the
 * database is known without a cloud look-up (also during preview). */
export interface DbSubnet {
    id: string;
    az: string;
    cidr: string;
}

export interface RdsConfig {
    /** "8.4" (or a full 8.4.x): with auto minor upgrades, RDS keeps the newest minor of the major. */
    engineVersion: string;
    parameterGroupFamily: string;
    /**
     * RDS Extended Support (paid) past the major version's end of standard support: enabled only
     * for a retired major the stack opted into by name (database.extendedSupportOptIn).
     */
    engineLifecycleSupport: "open-source-rds-extended-support" | "open-source-rds-extended-support-disabled";
    /** The region the subnets' AZs belong to (the stack's aws:region). */
    region: string;
    vpcId: string;
    subnets: DbSubnet[];
    /**
     * The AZ operators keep the writer in. RDS picks a Multi-AZ writer's AZ itself (the API refuses
     * an AvailabilityZone with MultiAZ), so this is where read replicas are kept out of.
     */
    primaryAz: string;
    /** Security groups allowed to reach the database (the EKS cluster/node security group). */
    allowedSecurityGroupIds: string[];
    allowedCidrs: string[];
    backupRetentionDays: number;
    /** Daily, UTC, "hh:mm-hh:mm". */
    backupWindow: string;
    /** Weekly, UTC, "ddd:hh:mm-ddd:hh:mm"; never overlaps the backup window. */
    maintenanceWindow: string;
    deletionProtection: boolean;
    finalSnapshot: boolean;
    /** A customer managed KMS key to use; unset, the component creates one. */
    kmsKeyArn?: string;
    /** In-region read replicas: 0 unless asked for with a reason (the backend never reads from them). */
    readReplicas: number;
    /** Why the stack runs in-region read replicas (required when readReplicas > 0). */
    readReplicasReason?: string;
    performanceInsightsRetentionDays: number;
    monitoringIntervalSeconds: number;
    logRetentionDays: number;
    /** An existing SNS topic for alarms and RDS events; unset, the component creates one. */
    alarmTopicArn?: string;
    alarmEmails: string[];
    dr?: DatabaseDrConfig;
}

/** Automated backups (snapshots and transaction logs) replicated to a second region, and a read replica there. */
export interface DatabaseDrConfig {
    region: string;
    /** A key in the DR region for the replica, the replicated backups and the secret's replica; unset, one is created. */
    kmsKeyArn?: string;
    backupRetentionDays: number;
    /** A cross-region read replica, promotable when the primary region is lost (database.drReplica). */
    replica?: DrReplicaConfig;
}

/** Where the cross-region read replica lives in the DR region, and who may reach it. */
export interface DrReplicaConfig {
    vpcId: string;
    subnets: DbSubnet[];
    allowedSecurityGroupIds: string[];
    allowedCidrs: string[];
}

export interface InClusterMysqlConfig {
    /** 1: one MySQL pod (not highly available); an odd number ≥ 3: a MariaDB Galera cluster of that many members. */
    members: number;
    image: string;
    storageSize: string;
    storageClassName?: string;
    resources: ResourceSpec;
    backups: InClusterBackupsConfig;
}

/** Dumps of the in-cluster database (components/database/backups.ts): RDS stacks use RDS's own backups. */
export interface InClusterBackupsConfig {
    /** Minutes between dumps: 5, 10, 15, 20 or 30 (database.backupIntervalMinutes; default 30). */
    intervalMinutes: number;
    /** Days a dump is kept (database.backupRetentionDays; the environment's floor by default). */
    retentionDays: number;
    /** The dumps' volume (database.backupStorageSize; default 5Gi). */
    storageSize: string;
    /** Its StorageClass (database.backupStorageClassName): storage that outlives a node in production. Default: the cluster's default. */
    storageClassName?: string;
}

/** The edge as parsed: the NLB Service's settings (LoadBalancerArgs, which the Edge component takes as they are) and the rest. */
export interface EdgeConfig extends LoadBalancerArgs {
    /**
     * "gateway" (the default): a Gateway API Gateway and HTTPRoutes, served by a maintained Gateway API
     * controller (docs/edge.md). "ingress": a networking.k8s.io Ingress, for clusters that already run a
     * maintained Ingress controller.
     */
    kind: "gateway" | "ingress";
    /** The GatewayClass (gateway) or IngressClass (ingress) the routes are for. Default: "traefik". */
    className: string;
    /**
     * Whether the listener serves HTTPS with the stack's certificate (and redirects HTTP to it). From the
     * environment: every stack but local, which has no certificate and serves plain HTTP.
     */
    https: boolean;
    /**
     * Whether the routes serve any Host header, not only `host`: from the environment (local, opened
     * as http://127.0.0.1:<NodePort>/ with no DNS name).
     */
    anyHost: boolean;
    /**
     * The controller the stack installs itself (Traefik, in `controllerNamespace` with
     * `controllerLabels`), or undefined: the cluster runs one already (the default).
     */
    controller?: EdgeControllerConfig;
}

/** `edge.controller`: Traefik installed by the stack (components/edgeController.ts). */
export interface EdgeControllerConfig {
    /** A Traefik v3 image. Default: EDGE_CONTROLLER_DEFAULTS.image. */
    image: string;
    /** Default: 2 (one may be drained while the other serves). */
    replicas: number;
    resources: ContainerResources;
    /**
     * Where its pods reach the Kubernetes API server, as the endpoint's own addresses and ports (after
     * kube-proxy's DNAT). Default: the private ranges on 443 (an EKS endpoint's ENIs in the VPC); no
     * ports: any port at those addresses.
     */
    apiServer: { cidrs: string[]; ports?: number[] };
}

export interface NetworkConfig {
    /** Where the backend may open HTTPS to managed clusters' API servers (KubePolaris' job). */
    apiServerEgressCidrs: string[];
    apiServerPorts: number[];
    /** What enforces NetworkPolicies in the cluster; "none": they are objects only, nothing is isolated. */
    policyEnforcer: NetworkPolicyEnforcer;
}

export const NETWORK_POLICY_ENFORCERS = ["vpc-cni-network-policy-agent", "calico", "cilium", "antrea", "kube-router", "none"] as const;
export type NetworkPolicyEnforcer = (typeof NETWORK_POLICY_ENFORCERS)[number];

export interface MonitoringConfig {
    /** Namespace Prometheus runs in (allowed to scrape the backend). */
    prometheusNamespace: string;
    /** Labels the Prometheus Operator selects ServiceMonitors/PrometheusRules by. */
    selectorLabels: Record<string, string>;
    runbookBaseUrl: string;
    /**
     * Whose Prometheus metrics the edge alerts (latency, 5xx rate) read: the controller serving the
     * edge. "traefik" (the default; Gateway API or Ingress) or "ingress-nginx" (edge.kind ingress only:
     * it serves no Gateway API). docs/alerts.md, "Edge metrics".
     */
    edgeMetrics: EdgeMetricsSource;
    /** A Grafana the UI embeds panels from, through the frontend's `/grafana/`; none: that path answers 404. */
    grafana?: GrafanaConfig;
}

/** An in-cluster Grafana Service (the frontend proxies `/grafana/` to it, resolving it per request). */
export interface GrafanaConfig {
    /** `http://<service>.<namespace>.svc.<cluster domain>:<port>`, fully qualified. */
    url: string;
    /** Its namespace (from the URL): the frontend's egress NetworkPolicy opens it. */
    namespace: string;
    port: number;
    /** The DNS server nginx asks per request; default: the cluster's DNS Service by name. */
    resolver: string;
}

export interface PriorityClassConfig {
    name: string;
    value: number;
}

/** The images the stack mirrors into its own registry. */
export const MIRRORED_COMPONENTS = ["backend", "frontend"] as const;
export type MirroredComponent = (typeof MIRRORED_COMPONENTS)[number];

/** One upstream image and its copy in the stack's mirror. */
export interface MirroredImage {
    component: MirroredComponent;
    /** `images.<component>`: the pinned upstream reference the mirror copies. */
    source: string;
    /** The ECR repository name ("<release>-<environment>/<component>"). */
    repository: string;
    /** `images.mirror.digests.<component>`: the copy's digest (unset only while the mirror command runs). */
    digest?: string;
}

/**
 * `images.mirror`: the stack's own registry, ECR repositories in aws:region the program creates
 * (components/imageMirror.ts) and `npm run images:mirror` fills (docs/images.md).
 */
export interface ImageMirrorConfig {
    /** `images.mirror.account`: the AWS account that owns the registry (the program refuses credentials of another). */
    account: string;
    /** aws:region. */
    region: string;
    /** `<account>.dkr.ecr.<region>.amazonaws.com`. */
    registry: string;
    /** `images.mirror.keepVersions`: tagged images each repository keeps (default 20). */
    keepVersions: number;
    /** database.drRegion, when the stack has one: the repositories are replicated there. */
    replicaRegion?: string;
    images: MirroredImage[];
}

export interface KubernetesProviderConfig {
    /** Write manifests here instead of applying them (the `npm run render` job). */
    renderYamlToDirectory?: string;
    /** kubeconfig context; unset means the ambient current context. */
    context?: string;
    /** The cluster's DNS domain (the kubelet's clusterDomain): in-cluster Service names are written out in full under it. */
    clusterDomain: string;
}

export interface AppConfig {
    stack: string;
    environment: Environment;
    tier: Tier;
    release: string;
    namespace: string;
    host: string;
    backend: WorkloadConfig;
    frontend: FrontendConfig;
    probePaths: ProbePaths;
    /** `images.pullPolicy`: every container's imagePullPolicy (default "IfNotPresent" for digests, else "Always"). */
    imagePullPolicy: ImagePullPolicy;
    /** The stack's own image mirror (dev, staging, prod); undefined on local. */
    imageMirror?: ImageMirrorConfig;
    tls: TlsConfig;
    database: DatabaseConfig;
    edge: EdgeConfig;
    network: NetworkConfig;
    monitoring: MonitoringConfig;
    priorityClass?: PriorityClassConfig;
    kubernetes: KubernetesProviderConfig;
    /** KubePolaris' SERVER_MODE: "release" in prod, "debug" (verbose) elsewhere. */
    serverMode: "release" | "debug";
    /** Keys of secrets the stack sets (values are read separately, as Pulumi secrets). */
    secretsSet: ReadonlySet<SecretKey>;
}


/** Config keys that may only be set as secrets (`pulumi config set --secret`). */
export const SECRET_KEYS = ["jwtSecret", "databasePassword", "databaseRootPassword", "adminPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export interface RawConfig {
    stack: string;
    /** Config values of the `kubepolaris` namespace, keys without the namespace prefix. */
    values: Record<string, string>;
    /** Keys the stack marks secret. */
    secretKeys: ReadonlySet<string>;
    /** The stack's `aws:region` (outside the kubepolaris namespace), when set. */
    awsRegion?: string;
}
