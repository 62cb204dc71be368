// Every stack setting is read here, once, validated, and frozen into a typed object.
// Components never read pulumi.Config: they receive slices of AppConfig as typed args.
//
// `parseConfig` is pure (plain strings in, AppConfig out) so scripts and tests can call it on a
// stack file without the Pulumi runtime; `loadConfig` feeds it the running stack's config.
import * as pulumi from "@pulumi/pulumi";
import { BACKEND, FRONTEND } from "./app/kubepolaris";
import { componentName } from "./components/labels";

export const CONFIG_NAMESPACE = "kubepolaris";

export const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const TIERS = ["small", "medium", "large"] as const;
export type Tier = (typeof TIERS)[number];

export interface ResourceSpec {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface WorkloadSizing {
    /** HPA minimum; also the Deployment's initial replica count. */
    minReplicas: number;
    maxReplicas: number;
    resources: ResourceSpec;
}

export interface DatabaseSizing {
    instanceClass: string;
    /** Read replicas (read/write split), seed 000: only the large tier. */
    readReplicas: number;
    allocatedStorageGiB: number;
    maxAllocatedStorageGiB: number;
}

export interface TierProfile {
    backend: WorkloadSizing;
    frontend: WorkloadSizing;
    database: DatabaseSizing;
}

/**
 * Size tiers, seed 000 "推荐配置": small 2/2 replicas with a primary/replica DB, medium 3/3 on
 * cloud RDS, large 5+/3+ on cloud RDS with read/write split. Backend requests/limits of the HA
 * values file (1 CPU/1Gi, 4 CPU/4Gi) apply from medium up; HPA bounds start at the tier's
 * replica count (seed: min 3, max 10 for the HA values).
 */
export const TIER_PROFILES: Readonly<Record<Tier, TierProfile>> = deepFreeze({
    small: {
        backend: {
            minReplicas: 2, maxReplicas: 4,
            resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
        },
        frontend: {
            minReplicas: 2, maxReplicas: 4,
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        },
        database: { instanceClass: "db.t4g.medium", readReplicas: 0, allocatedStorageGiB: 50, maxAllocatedStorageGiB: 200 },
    },
    medium: {
        backend: {
            minReplicas: 3, maxReplicas: 10,
            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } },
        },
        frontend: {
            minReplicas: 3, maxReplicas: 6,
            resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        },
        database: { instanceClass: "db.r6g.large", readReplicas: 0, allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500 },
    },
    large: {
        backend: {
            minReplicas: 5, maxReplicas: 20,
            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } },
        },
        frontend: {
            minReplicas: 3, maxReplicas: 10,
            resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        },
        database: { instanceClass: "db.r6g.xlarge", readReplicas: 2, allocatedStorageGiB: 200, maxAllocatedStorageGiB: 1000 },
    },
});

export type AntiAffinity = "preferred" | "required";

export interface WorkloadConfig extends WorkloadSizing {
    image: string;
    antiAffinity: AntiAffinity;
    /** HPA targets, seed 000: CPU 70 %, memory 80 %. */
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
    /** "8.0" (or a full 8.0.x): with auto minor upgrades, RDS keeps the newest 8.0 minor. */
    engineVersion: string;
    parameterGroupFamily: string;
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
    readReplicas: number;
    performanceInsightsRetentionDays: number;
    monitoringIntervalSeconds: number;
    logRetentionDays: number;
    /** An existing SNS topic for alarms and RDS events; unset, the component creates one. */
    alarmTopicArn?: string;
    alarmEmails: string[];
    dr?: DatabaseDrConfig;
}

/** Automated backups (snapshots and transaction logs) replicated to a second region. */
export interface DatabaseDrConfig {
    region: string;
    kmsKeyArn?: string;
    backupRetentionDays: number;
}

export interface InClusterMysqlConfig {
    image: string;
    storageSize: string;
    storageClassName?: string;
    resources: ResourceSpec;
}

export interface EdgeConfig {
    /** LoadBalancer (an AWS NLB) everywhere but the local stack, which uses NodePort. */
    serviceType: "LoadBalancer" | "NodePort";
    scheme: "internal" | "internet-facing";
    sourceRanges: string[];
    /** Where the ingress-nginx controller runs and how its pods are labelled. */
    controllerNamespace: string;
    controllerLabels: Record<string, string>;
    /** False: the Ingress is not awaited (no controller will publish an address, e.g. local). */
    awaitLoadBalancer: boolean;
}

export interface NetworkConfig {
    /** Where the backend may open HTTPS to managed clusters' API servers (KubePolaris' job). */
    apiServerEgressCidrs: string[];
    apiServerPorts: number[];
}

export interface MonitoringConfig {
    /** Namespace Prometheus runs in (allowed to scrape the backend). */
    prometheusNamespace: string;
    /** Labels the Prometheus Operator selects ServiceMonitors/PrometheusRules by. */
    selectorLabels: Record<string, string>;
    runbookBaseUrl: string;
}

export interface PriorityClassConfig {
    name: string;
    value: number;
}

export interface KubernetesProviderConfig {
    /** Write manifests here instead of applying them (the `npm run render` job). */
    renderYamlToDirectory?: string;
    /** kubeconfig context; unset means the ambient current context. */
    context?: string;
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

const TOP_LEVEL_KEYS = [
    "environment", "tier", "release", "namespace", "host", "images", "scaling", "probes", "tls", "database",
    "edge", "network", "monitoring", "priorityClass", "kubernetes", ...SECRET_KEYS,
] as const;

/** Tags that name a moving target: a rollout would not be reproducible. */
export const MUTABLE_TAGS = ["latest", "stable", "main", "master", "edge", "nightly", "dev", "head"];

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export interface RawConfig {
    stack: string;
    /** Config values of the `kubepolaris` namespace, keys without the namespace prefix. */
    values: Record<string, string>;
    /** Keys the stack marks secret. */
    secretKeys: ReadonlySet<string>;
    /** The stack's `aws:region` (outside the kubepolaris namespace), when set. */
    awsRegion?: string;
}

/** Parses and validates the stack's config; throws one ConfigError listing every problem. */
export function parseConfig(raw: RawConfig): AppConfig {
    const p = new Problems();
    const values = raw.values;

    for (const key of Object.keys(values)) {
        if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
            p.add(key, values[key], `one of the known keys: ${TOP_LEVEL_KEYS.join(", ")}`);
        }
    }
    for (const key of SECRET_KEYS) {
        if (key in values && !raw.secretKeys.has(key)) {
            p.add(key, "<plaintext>", "a secret: set it with `pulumi config set --secret`");
        }
    }

    const environment = oneOf(p, "environment", values.environment, ENVIRONMENTS);
    const tier = oneOf(p, "tier", values.tier, TIERS);
    const profile = TIER_PROFILES[tier ?? "small"];
    const isLocal = environment === "local";

    const release = dnsLabel(p, "release", values.release ?? "kubepolaris");
    // The frontend image's nginx proxies to a fixed Service name and will not start without it.
    if (release !== undefined && componentName(release, "backend") !== FRONTEND.backendServiceName) {
        p.add("release", release, `"kubepolaris": the frontend image's nginx resolves ${FRONTEND.backendServiceName} at start`
            + ` and exits when it does not exist (the backend Service is named <release>-backend)`);
    }
    const namespace = dnsLabel(p, "namespace", values.namespace ?? "kubepolaris");
    const host = dnsName(p, "host", values.host);

    const images = object(p, "images", values.images, ["backend", "frontend"], true);
    const backendImage = image(p, "images.backend", images.backend);
    const frontendImage = image(p, "images.frontend", images.frontend);

    const scaling = object(p, "scaling", values.scaling, ["backend", "frontend", "antiAffinity", "frontendPort"], false);
    const antiAffinity = oneOf(p, "scaling.antiAffinity", scaling.antiAffinity ?? "preferred", ["preferred", "required"] as const);
    const minimumReplicas = environment === "prod" ? 3 : isLocal ? 1 : 2;
    const workload = (name: "backend" | "frontend"): WorkloadConfig => {
        const override = object(p, `scaling.${name}`, scaling[name], ["minReplicas", "maxReplicas"], false);
        const sizing = profile[name];
        const min = integer(p, `scaling.${name}.minReplicas`, override.minReplicas ?? sizing.minReplicas, minimumReplicas,
            environment ? `environment ${environment}` : undefined);
        const max = integer(p, `scaling.${name}.maxReplicas`, override.maxReplicas ?? sizing.maxReplicas, 1);
        if (min !== undefined && max !== undefined && max < min) {
            p.add(`scaling.${name}.maxReplicas`, max, `an integer ≥ scaling.${name}.minReplicas (${min})`);
        }
        return {
            minReplicas: min ?? sizing.minReplicas,
            maxReplicas: max ?? sizing.maxReplicas,
            resources: sizing.resources,
            image: (name === "backend" ? backendImage : frontendImage) ?? "",
            antiAffinity: antiAffinity ?? "preferred",
            targetCpuUtilization: 70,
            targetMemoryUtilization: 80,
        };
    };
    const frontendPort = integer(p, "scaling.frontendPort", scaling.frontendPort ?? FRONTEND.port, 1, undefined, 65535);
    const probePaths = parseProbePaths(p, values.probes);

    const tlsRaw = object(p, "tls", values.tls, ["secretName", "clusterIssuer"], true);
    const tlsSecret = dnsName(p, "tls.secretName", tlsRaw.secretName ?? `${release ?? "kubepolaris"}-tls`, 1);
    const tls: TlsConfig = tlsRaw.clusterIssuer !== undefined
        ? { mode: "certManager", secretName: tlsSecret ?? "", clusterIssuer: dnsName(p, "tls.clusterIssuer", tlsRaw.clusterIssuer, 1) ?? "" }
        : { mode: "existingSecret", secretName: tlsSecret ?? "" };

    // The database section is parsed below, once the backend's pod count is known.

    const edgeRaw = object(p, "edge", values.edge,
        ["serviceType", "scheme", "sourceRanges", "controllerNamespace", "controllerLabels", "awaitLoadBalancer"], false);
    const serviceType = oneOf(p, "edge.serviceType", edgeRaw.serviceType ?? "LoadBalancer", ["LoadBalancer", "NodePort"] as const);
    if (serviceType === "NodePort" && environment && !isLocal) {
        p.add("edge.serviceType", serviceType, `"LoadBalancer" on environment ${environment} ("NodePort" is for local only)`);
    }
    const edge: EdgeConfig = {
        serviceType: serviceType ?? "LoadBalancer",
        scheme: oneOf(p, "edge.scheme", edgeRaw.scheme ?? "internet-facing", ["internal", "internet-facing"] as const) ?? "internet-facing",
        sourceRanges: cidrs(p, "edge.sourceRanges", edgeRaw.sourceRanges ?? ["0.0.0.0/0"]),
        controllerNamespace: dnsLabel(p, "edge.controllerNamespace", edgeRaw.controllerNamespace ?? "ingress-nginx") ?? "ingress-nginx",
        controllerLabels: labels(p, "edge.controllerLabels", edgeRaw.controllerLabels ??
            { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller" }),
        awaitLoadBalancer: bool(p, "edge.awaitLoadBalancer", edgeRaw.awaitLoadBalancer ?? !isLocal),
    };

    const networkRaw = object(p, "network", values.network, ["apiServerEgressCidrs", "apiServerPorts"], false);
    const apiServerPorts = networkRaw.apiServerPorts ?? [443, 6443];
    const network: NetworkConfig = {
        apiServerEgressCidrs: cidrs(p, "network.apiServerEgressCidrs", networkRaw.apiServerEgressCidrs ?? ["0.0.0.0/0"]),
        apiServerPorts: Array.isArray(apiServerPorts)
            ? apiServerPorts.map((port, i) => integer(p, `network.apiServerPorts[${i}]`, port, 1, undefined, 65535) ?? 443)
            : (p.add("network.apiServerPorts", apiServerPorts, "a list of port numbers"), []),
    };

    const monitoringRaw = object(p, "monitoring", values.monitoring, ["prometheusNamespace", "selectorLabels", "runbookBaseUrl"], false);
    const monitoring: MonitoringConfig = {
        prometheusNamespace: dnsLabel(p, "monitoring.prometheusNamespace", monitoringRaw.prometheusNamespace ?? "monitoring") ?? "monitoring",
        selectorLabels: labels(p, "monitoring.selectorLabels", monitoringRaw.selectorLabels ?? { release: "kube-prometheus-stack" }),
        runbookBaseUrl: url(p, "monitoring.runbookBaseUrl",
            monitoringRaw.runbookBaseUrl ?? "https://github.com/kubepolaris/kubepolaris-ha/blob/main/docs/runbooks.md") ?? "",
    };

    let priorityClass: PriorityClassConfig | undefined;
    if (values.priorityClass !== undefined) {
        const pcRaw = object(p, "priorityClass", values.priorityClass, ["name", "value"], true);
        priorityClass = {
            name: dnsName(p, "priorityClass.name", pcRaw.name, 1) ?? "",
            // Above 1e9 is reserved for system-* classes.
            value: integer(p, "priorityClass.value", pcRaw.value ?? 100000, -2147483648, undefined, 1000000000) ?? 0,
        };
    }

    const k8sRaw = object(p, "kubernetes", values.kubernetes, ["renderYamlToDirectory", "context"], false);
    const kubernetes: KubernetesProviderConfig = {
        renderYamlToDirectory: optionalString(p, "kubernetes.renderYamlToDirectory", k8sRaw.renderYamlToDirectory),
        context: optionalString(p, "kubernetes.context", k8sRaw.context),
    };
    // Rendered manifests hold Secrets in plaintext: fine for the local stack's throwaway
    // passwords, never for a real database password or JWT key.
    if (kubernetes.renderYamlToDirectory !== undefined && environment && !isLocal) {
        p.add("kubernetes.renderYamlToDirectory", kubernetes.renderYamlToDirectory,
            `nothing on environment ${environment} (rendering writes Secrets in plaintext; it is for local only)`);
    }

    const backend = workload("backend");
    const frontend: FrontendConfig = { ...workload("frontend"), containerPort: frontendPort ?? FRONTEND.port };
    const database = parseDatabase(p, values.database, {
        environment, tier, profile, secretKeys: raw.secretKeys, awsRegion: raw.awsRegion, backendMaxPods: backend.maxReplicas + 1,
    });
    // The seeded admin password is published: a stack without a generator must bring its own.
    if (database.mode === "in-cluster" && !raw.secretKeys.has("adminPassword")) {
        p.add("adminPassword", undefined, "a secret (`pulumi config set --secret adminPassword …`, at least 12 characters):"
            + ` the program replaces the published ${BACKEND.seededAdmin.username} password, and this stack has no random provider to generate one`);
    }

    p.throwIfAny();
    return deepFreeze({
        stack: raw.stack,
        environment: environment!,
        tier: tier!,
        release: release!,
        namespace: namespace!,
        host: host!,
        backend,
        frontend,
        probePaths,
        tls,
        database,
        edge,
        network,
        monitoring,
        priorityClass,
        kubernetes,
        serverMode: environment === "prod" ? "release" : "debug",
        secretsSet: new Set(SECRET_KEYS.filter((key) => raw.secretKeys.has(key))),
    });
}

/** Reads the running stack's config (the only place that touches pulumi.Config). */
export function loadConfig(): AppConfig {
    const all = pulumi.runtime.allConfig();
    const secret = Object.keys(all).filter(isSecretKey);
    // The AWS provider takes its region from aws:region, else from the environment: so do we.
    const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
    return parseConfig(rawConfig(pulumi.getStack(), all, secret, envRegion));
}

/**
 * The one way from a flat config map ("<namespace>:<key>" → value, as the engine passes it and as
 * tools/stackConfig.ts reads a stack file) to parseConfig's input. A secret's plaintext never
 * enters it: only the fact that the key is set, as a secret.
 */
export function rawConfig(stack: string, flat: Record<string, string>, secretKeys: string[], fallbackRegion?: string): RawConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, string> = {};
    const secrets = new Set<string>();
    for (const [key, value] of Object.entries(flat)) {
        if (!key.startsWith(prefix)) {
            continue; // other namespaces (aws:region, …)
        }
        const short = key.slice(prefix.length);
        if (secretKeys.includes(key)) {
            secrets.add(short);
            values[short] = "<secret>";
        } else {
            values[short] = value;
        }
    }
    return { stack, values, secretKeys: secrets, awsRegion: flat["aws:region"] || fallbackRegion };
}

/** A secret config value as a Pulumi secret Output, or undefined when the stack does not set it. */
export function secretSetting(config: AppConfig, key: SecretKey): pulumi.Output<string> | undefined {
    return config.secretsSet.has(key) ? new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key) : undefined;
}

function isSecretKey(fullKey: string): boolean {
    // The engine names secret keys in PULUMI_CONFIG_SECRET_KEYS; the SDK keeps that list in its
    // runtime store (also under mocks, via setAllConfig) and answers through isConfigSecret.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    return runtime.isConfigSecret?.(fullKey) ?? false;
}

// ---------------------------------------------------------------------------------------------
// The database section. Keys of one mode are refused in the other, so a stack cannot carry
// settings that silently do nothing.

// "pool" is known only to be refused with a reason (the backend fixes its pool in code).
const DB_COMMON_KEYS = ["mode", "name", "user", "port", "requireTls", "pool"];
const DB_RDS_KEYS = [
    "engineVersion", "vpcId", "subnets", "primaryAz", "allowedSecurityGroupIds", "allowedCidrs", "publiclyAccessible",
    "backupRetentionDays", "backupWindow", "maintenanceWindow", "kmsKeyArn", "readReplicas", "alarmTopicArn",
    "alarmEmails", "drRegion", "drKmsKeyArn", "drBackupRetentionDays",
];
const DB_IN_CLUSTER_KEYS = ["image", "storageSize", "storageClassName"];

/** Connections kept out of the backend pools' reach: operators, monitoring, replication. */
export const DB_RESERVED_CONNECTIONS = 20;
/** The most read replicas a stack may ask for (RDS allows 15; more would be a new design). */
export const MAX_READ_REPLICAS = 5;
/** RDS keeps automated backups for at most 35 days. */
const MAX_BACKUP_RETENTION_DAYS = 35;
export const IN_CLUSTER_MYSQL_IMAGE = "docker.io/library/mysql:8.0.40";
const IN_CLUSTER_MYSQL_RESOURCES: ResourceSpec = {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
};

const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const AZ_NAME = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+[a-z]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HH_MM = "([01]\\d|2[0-3]):([0-5]\\d)";
const BACKUP_WINDOW = new RegExp(`^${HH_MM}-${HH_MM}$`);
const MAINTENANCE_WINDOW = new RegExp(`^(${DAYS.join("|")}):${HH_MM}-(${DAYS.join("|")}):${HH_MM}$`);
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;

interface DatabaseContext {
    environment: Environment | undefined;
    tier: Tier | undefined;
    profile: TierProfile;
    /** Keys the stack sets as secrets. */
    secretKeys: ReadonlySet<string>;
    awsRegion: string | undefined;
    /** Backend pods that may run at once: the HPA maximum plus a rollout surge. */
    backendMaxPods: number;
}

function parseDatabase(p: Problems, raw: unknown, ctx: DatabaseContext): DatabaseConfig {
    const db = object(p, "database", raw, [...DB_COMMON_KEYS, ...DB_RDS_KEYS, ...DB_IN_CLUSTER_KEYS], true);
    const mode = oneOf(p, "database.mode", db.mode, ["rds", "in-cluster"] as const);
    if (mode === "in-cluster" && ctx.environment && !["local", "dev"].includes(ctx.environment)) {
        p.add("database.mode", mode, `"rds" on environment ${ctx.environment} ("in-cluster" is for local and dev only)`);
    }
    if (mode) {
        const other = mode === "rds" ? "in-cluster" : "rds";
        for (const key of mode === "rds" ? DB_IN_CLUSTER_KEYS : DB_RDS_KEYS) {
            if (key in db) {
                p.add(`database.${key}`, db[key], `nothing with database.mode "${mode}" (the key is for mode "${other}")`);
            }
        }
    }

    // The backend hard-codes its pool and reads no DB_MAX_* variable: a pool setting would lie.
    if ("pool" in db) {
        p.add("database.pool", db.pool, `nothing: the backend's pool is fixed in its code (${BACKEND.dbPool.maxOpenConns} open,`
            + ` ${BACKEND.dbPool.maxIdleConns} idle, ${BACKEND.dbPool.connMaxLifetimeSeconds} s lifetime) and max_connections is sized from it`);
    }
    const requireTls = bool(p, "database.requireTls", db.requireTls ?? BACKEND.supportsDatabaseTls);
    if (requireTls && !BACKEND.supportsDatabaseTls) {
        p.add("database.requireTls", requireTls, "false: the backend's MySQL DSN has no TLS option, so with TLS required"
            + " it cannot connect and exits at start-up (see README, \"What the app really does\")");
    }

    // Passwords: RDS generates its master password unless databasePassword is set; the in-cluster
    // MySQL takes both from stack config, so the local stack needs no random provider.
    if (mode === "in-cluster") {
        for (const key of ["databasePassword", "databaseRootPassword"]) {
            if (!ctx.secretKeys.has(key)) {
                p.add(key, undefined, `a secret (\`pulumi config set --secret ${key} …\`): database.mode "in-cluster" takes its passwords from stack config`);
            }
        }
    } else if (mode === "rds" && ctx.secretKeys.has("databaseRootPassword")) {
        p.add("databaseRootPassword", "<secret>", `nothing with database.mode "rds" (RDS has one master user, its password is databasePassword)`);
    }

    return {
        mode: mode ?? "rds",
        name: identifier(p, "database.name", db.name ?? "kubepolaris") ?? "kubepolaris",
        user: identifier(p, "database.user", db.user ?? "kubepolaris") ?? "kubepolaris",
        port: integer(p, "database.port", db.port ?? 3306, 1, undefined, 65535) ?? 3306,
        sizing: ctx.profile.database,
        maxConnections: BACKEND.dbPool.maxOpenConns * ctx.backendMaxPods + DB_RESERVED_CONNECTIONS,
        requireTls,
        rds: mode === "rds" ? parseRds(p, db, ctx) : undefined,
        inCluster: mode === "in-cluster" ? parseInCluster(p, db) : undefined,
    };
}

function parseRds(p: Problems, db: Record<string, any>, ctx: DatabaseContext): RdsConfig {
    const env = ctx.environment;
    const engineVersion = matching(p, "database.engineVersion", db.engineVersion ?? "8.0", /^8\.(0|4)(\.\d{1,2})?$/,
        `a MySQL 8.0 or 8.4 engine version: "8.0" (the newest minor, upgraded automatically) or a full one such as "8.0.40"`) ?? "8.0";
    const vpcId = matching(p, "database.vpcId", db.vpcId, VPC_ID, "a VPC id such as vpc-0a1b2c3d4e5f67890");

    const subnets = dbSubnets(p, db.subnets, ctx.awsRegion);
    const region = ctx.awsRegion ?? (subnets.length > 0 ? regionOfAz(subnets[0].az) : "");
    const zones = [...new Set(subnets.map((s) => s.az))];
    const primaryAz = db.primaryAz ?? subnets[0]?.az;
    if (db.primaryAz !== undefined && !zones.includes(db.primaryAz)) {
        p.add("database.primaryAz", db.primaryAz, `one of the subnets' availability zones: ${zones.join(", ") || "(no valid subnets)"}`);
    }

    const allowedSecurityGroupIds = stringList(p, "database.allowedSecurityGroupIds", db.allowedSecurityGroupIds ?? [],
        SECURITY_GROUP_ID, "a security group id such as sg-0a1b2c3d4e5f67890");
    const allowedCidrs = privateCidrs(p, "database.allowedCidrs", db.allowedCidrs ?? []);
    const isEmpty = (list: unknown) => list === undefined || (Array.isArray(list) && list.length === 0);
    if (isEmpty(db.allowedSecurityGroupIds) && isEmpty(db.allowedCidrs)) {
        p.add("database.allowedSecurityGroupIds", db.allowedSecurityGroupIds,
            "at least one security group id (the EKS cluster security group of the nodes and pods) or a CIDR in database.allowedCidrs: "
            + "port 3306 is opened to nothing else");
    }
    if (db.publiclyAccessible !== undefined && bool(p, "database.publiclyAccessible", db.publiclyAccessible)) {
        p.add("database.publiclyAccessible", db.publiclyAccessible, "false: the database gets no public address and is reached only from inside the VPC");
    }

    // Retention 0 turns automated backups and point-in-time restore off (the API default is 1).
    const minRetention = env === "prod" ? 14 : 7;
    const retentionRaw = db.backupRetentionDays ?? minRetention;
    const retentionRange = `an integer from ${minRetention} to ${MAX_BACKUP_RETENTION_DAYS}${env ? ` on environment ${env}` : ""}`;
    let backupRetentionDays: number | undefined;
    if (retentionRaw === 0 || retentionRaw === "0") {
        p.add("database.backupRetentionDays", retentionRaw, `${retentionRange} (0 turns off automated backups and point-in-time restore)`);
    } else {
        backupRetentionDays = integer(p, "database.backupRetentionDays", retentionRaw, minRetention, env ? `environment ${env}` : undefined,
            MAX_BACKUP_RETENTION_DAYS);
    }

    const backupWindow = db.backupWindow ?? "01:00-02:00";
    const maintenanceWindow = db.maintenanceWindow ?? "sun:03:00-sun:04:00";
    const backup = windowMinutes(p, "database.backupWindow", backupWindow, BACKUP_WINDOW, DAY_MINUTES,
        `a daily UTC window "hh:mm-hh:mm" of at least 30 minutes, such as "01:00-02:00"`);
    const maintenance = windowMinutes(p, "database.maintenanceWindow", maintenanceWindow, MAINTENANCE_WINDOW, WEEK_MINUTES,
        `a weekly UTC window "ddd:hh:mm-ddd:hh:mm" of at least 30 minutes, such as "sun:03:00-sun:04:00"`);
    if (backup && maintenance) {
        const clash = DAYS.some((_, day) => circularOverlap(day * DAY_MINUTES + backup.start, backup.length, maintenance.start, maintenance.length, WEEK_MINUTES));
        if (clash) {
            p.add("database.maintenanceWindow", maintenanceWindow, `a window that does not overlap the daily backup window ${backupWindow} (database.backupWindow)`);
        }
    }

    const kmsKeyArn = kmsKey(p, "database.kmsKeyArn", db.kmsKeyArn, region);

    let readReplicas = 0;
    const replicasRaw = db.readReplicas ?? ctx.profile.database.readReplicas;
    if (ctx.tier === "large") {
        readReplicas = integer(p, "database.readReplicas", replicasRaw, 1, "tier large", MAX_READ_REPLICAS) ?? 0;
    } else if (ctx.tier && !(replicasRaw === 0 || replicasRaw === "0")) {
        p.add("database.readReplicas", replicasRaw, `0 on tier ${ctx.tier}: read replicas (the read/write split) belong to the large tier `
            + `(seed 000 "推荐配置"); choose tier "large" to get them`);
    }

    let alarmTopicArn: string | undefined;
    if (db.alarmTopicArn !== undefined) {
        alarmTopicArn = matching(p, "database.alarmTopicArn", db.alarmTopicArn, SNS_TOPIC_ARN,
            "a standard (not FIFO) SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:oncall");
        const topicRegion = alarmTopicArn ? SNS_TOPIC_ARN.exec(alarmTopicArn)![1] : undefined;
        if (topicRegion && region && topicRegion !== region) {
            p.add("database.alarmTopicArn", alarmTopicArn, `a topic in ${region}: CloudWatch alarms and RDS events publish only to topics of their own region`);
        }
    }
    const alarmEmails = stringList(p, "database.alarmEmails", db.alarmEmails ?? [], EMAIL, "an e-mail address");

    let dr: DatabaseDrConfig | undefined;
    if (db.drRegion !== undefined) {
        const drRegion = matching(p, "database.drRegion", db.drRegion, REGION, "an AWS region name such as eu-central-1");
        if (drRegion && drRegion === region) {
            p.add("database.drRegion", drRegion, `a region other than the primary region ${region} (aws:region): a copy in the same region does not survive a regional outage`);
        }
        dr = {
            region: drRegion ?? "",
            kmsKeyArn: kmsKey(p, "database.drKmsKeyArn", db.drKmsKeyArn, drRegion),
            backupRetentionDays: integer(p, "database.drBackupRetentionDays", db.drBackupRetentionDays ?? backupRetentionDays ?? minRetention, 7,
                undefined, MAX_BACKUP_RETENTION_DAYS) ?? minRetention,
        };
    } else {
        for (const key of ["drKmsKeyArn", "drBackupRetentionDays"]) {
            if (key in db) {
                p.add(`database.${key}`, db[key], "nothing unless database.drRegion is set");
            }
        }
    }

    const prod = env === "prod";
    return {
        engineVersion,
        parameterGroupFamily: `mysql${engineVersion.split(".").slice(0, 2).join(".")}`,
        region,
        vpcId: vpcId ?? "",
        subnets,
        primaryAz: primaryAz ?? "",
        allowedSecurityGroupIds,
        allowedCidrs,
        backupRetentionDays: backupRetentionDays ?? minRetention,
        backupWindow,
        maintenanceWindow,
        // Only dev may be thrown away without a final snapshot.
        deletionProtection: env !== "dev",
        finalSnapshot: env !== "dev",
        kmsKeyArn,
        readReplicas,
        performanceInsightsRetentionDays: 7,
        monitoringIntervalSeconds: prod ? 15 : 60,
        logRetentionDays: prod ? 90 : 30,
        alarmTopicArn,
        alarmEmails,
        dr,
    };
}

function dbSubnets(p: Problems, raw: unknown, awsRegion: string | undefined): DbSubnet[] {
    const allowed = "a list of at least 2 private subnets in distinct availability zones, each {id: subnet-…, az: eu-west-1a, cidr: 10.0.96.0/20}";
    if (!Array.isArray(raw)) {
        p.add("database.subnets", raw, allowed);
        return [];
    }
    const subnets: DbSubnet[] = [];
    raw.forEach((entry, i) => {
        const key = `database.subnets[${i}]`;
        const s = object(p, key, entry, ["id", "az", "cidr"], true);
        const id = matching(p, `${key}.id`, s.id, SUBNET_ID, "a subnet id such as subnet-0a1b2c3d4e5f67890");
        const az = matching(p, `${key}.az`, s.az, AZ_NAME, "an availability zone name such as eu-west-1a");
        const cidr = oneCidr(p, `${key}.cidr`, s.cidr);
        if (az && awsRegion && regionOfAz(az) !== awsRegion) {
            p.add(`${key}.az`, az, `an availability zone of the stack's region ${awsRegion} (aws:region)`);
        }
        if (id && subnets.some((other) => other.id === id)) {
            p.add(`${key}.id`, id, "a subnet not listed before (each subnet once)");
        } else if (id && az && cidr) {
            subnets.push({ id, az, cidr });
        }
    });
    const zones = new Set(subnets.map((s) => s.az));
    const regions = new Set(subnets.map((s) => regionOfAz(s.az)));
    if (raw.length < 2) {
        p.add("database.subnets", raw, `${allowed}: a DB subnet group spans at least 2 AZs, and Multi-AZ keeps its standby in another AZ than the writer`);
    } else if (subnets.length === raw.length && zones.size < 2) {
        p.add("database.subnets", raw, `${allowed}: all ${raw.length} are in ${[...zones].join(", ")}, so losing that one AZ takes the writer and its standby down together`);
    } else if (!awsRegion && regions.size > 1) {
        p.add("database.subnets", raw, `${allowed}, all in one region (found ${[...regions].join(", ")})`);
    }
    return subnets;
}

function parseInCluster(p: Problems, db: Record<string, any>): InClusterMysqlConfig {
    return {
        image: image(p, "database.image", db.image ?? IN_CLUSTER_MYSQL_IMAGE) ?? IN_CLUSTER_MYSQL_IMAGE,
        storageSize: matching(p, "database.storageSize", db.storageSize ?? "10Gi", /^[1-9]\d*(Mi|Gi|Ti)$/, "a volume size such as 10Gi") ?? "10Gi",
        storageClassName: db.storageClassName === undefined ? undefined : dnsName(p, "database.storageClassName", db.storageClassName, 1),
        resources: IN_CLUSTER_MYSQL_RESOURCES,
    };
}

/** "eu-west-1a" → "eu-west-1". */
function regionOfAz(az: string): string {
    return az.replace(/[a-z]$/, "");
}

function kmsKey(p: Problems, key: string, value: unknown, region: string | undefined): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    const arn = matching(p, key, value, KMS_KEY_ARN, "a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<uuid> (an alias is not enough)");
    const keyRegion = arn ? KMS_KEY_ARN.exec(arn)![1] : undefined;
    if (keyRegion && region && keyRegion !== region) {
        p.add(key, value, `a key in ${region}: a KMS key encrypts only in its own region`);
        return undefined;
    }
    return arn;
}

/** Start (minutes into the day or week) and length of an RDS window; undefined when invalid. */
function windowMinutes(p: Problems, key: string, value: unknown, pattern: RegExp, period: number, allowed: string):
    { start: number; length: number } | undefined {
    const m = typeof value === "string" ? pattern.exec(value) : null;
    if (!m) {
        p.add(key, value, allowed);
        return undefined;
    }
    const parts = m.slice(1);
    const at = (day: string | undefined, hh: string, mm: string) => (day ? DAYS.indexOf(day) * DAY_MINUTES : 0) + Number(hh) * 60 + Number(mm);
    const [start, end] = period === DAY_MINUTES
        ? [at(undefined, parts[0], parts[1]), at(undefined, parts[2], parts[3])]
        : [at(parts[0], parts[1], parts[2]), at(parts[3], parts[4], parts[5])];
    const length = (end - start + period) % period;
    if (length < 30) {
        p.add(key, value, allowed);
        return undefined;
    }
    return { start, length };
}

/** Whether [a, a+aLength) and [b, b+bLength) meet on a circle of `period` minutes. */
function circularOverlap(a: number, aLength: number, b: number, bLength: number, period: number): boolean {
    const mod = (x: number) => ((x % period) + period) % period;
    return mod(b - a) < aLength || mod(a - b) < bLength;
}

function matching(p: Problems, key: string, value: unknown, pattern: RegExp, allowed: string): string | undefined {
    if (typeof value === "string" && pattern.test(value)) {
        return value;
    }
    p.add(key, value, allowed);
    return undefined;
}

function stringList(p: Problems, key: string, raw: unknown, pattern: RegExp, allowed: string): string[] {
    if (!Array.isArray(raw)) {
        p.add(key, raw, `a list, each ${allowed}`);
        return [];
    }
    return raw.filter((value, i) => matching(p, `${key}[${i}]`, value, pattern, allowed) !== undefined);
}

function oneCidr(p: Problems, key: string, value: unknown): string | undefined {
    const m = typeof value === "string" ? CIDR.exec(value) : null;
    if (m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32) {
        return value as string;
    }
    p.add(key, value, "an IPv4 CIDR block such as 10.0.96.0/20");
    return undefined;
}

/** CIDRs that may reach the database: the cluster's own network, never the whole internet. */
function privateCidrs(p: Problems, key: string, raw: unknown): string[] {
    if (!Array.isArray(raw)) {
        p.add(key, raw, "a list of IPv4 CIDR blocks such as 10.0.0.0/16");
        return [];
    }
    return raw.filter((value, i) => {
        const cidr = oneCidr(p, `${key}[${i}]`, value);
        if (cidr && Number(cidr.split("/")[1]) < 8) {
            p.add(`${key}[${i}]`, value, "a CIDR block of /8 or narrower (the cluster's network): the database is never opened to the internet");
            return false;
        }
        return cidr !== undefined;
    });
}

// ---------------------------------------------------------------------------------------------
// Validation helpers. Each records "key: got <value>; allowed: <what>" and returns undefined on
// a bad value, so one run reports every problem at once.

class Problems {
    private readonly list: string[] = [];
    add(key: string, value: unknown, allowed: string): void {
        this.list.push(`${CONFIG_NAMESPACE}:${key}: got ${show(value)}; allowed: ${allowed}`);
    }
    throwIfAny(): void {
        if (this.list.length > 0) {
            throw new ConfigError(this.list);
        }
    }
}

function show(value: unknown): string {
    if (value === undefined) {
        return "nothing (the key is not set)";
    }
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/** A structured value: a JSON object from the stack file, with only `allowed` keys. */
function object(p: Problems, key: string, raw: unknown, allowed: string[], required: boolean): Record<string, any> {
    if (raw === undefined) {
        if (required) {
            p.add(key, raw, `an object with keys ${allowed.join(", ")}`);
        }
        return {};
    }
    let value = raw;
    if (typeof raw === "string") {
        try {
            value = JSON.parse(raw);
        } catch {
            p.add(key, raw, `an object with keys ${allowed.join(", ")}`);
            return {};
        }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        p.add(key, value, `an object with keys ${allowed.join(", ")}`);
        return {};
    }
    for (const child of Object.keys(value)) {
        if (!allowed.includes(child)) {
            p.add(`${key}.${child}`, (value as Record<string, unknown>)[child], `only the keys ${allowed.join(", ")} under ${key}`);
        }
    }
    return value as Record<string, any>;
}

function oneOf<T extends string>(p: Problems, key: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
        return value as T;
    }
    p.add(key, value, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
    return undefined;
}

function integer(p: Problems, key: string, raw: unknown, min: number, why?: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
        p.add(key, raw, why ? `${range} on ${why}` : range);
        return undefined;
    }
    return value;
}

function bool(p: Problems, key: string, raw: unknown): boolean {
    if (raw === true || raw === "true") {
        return true;
    }
    if (raw === false || raw === "false") {
        return false;
    }
    p.add(key, raw, "true or false");
    return false;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function dnsLabel(p: Problems, key: string, value: unknown): string | undefined {
    if (typeof value === "string" && DNS_LABEL.test(value)) {
        return value;
    }
    p.add(key, value, "a DNS label (lowercase letters, digits and '-', at most 63 characters)");
    return undefined;
}

/** A DNS name of at least `minLabels` labels (a host name needs a domain: 2). */
function dnsName(p: Problems, key: string, value: unknown, minLabels = 2): string | undefined {
    const ok = typeof value === "string" && value.length <= 253
        && value.split(".").length >= minLabels && value.split(".").every((label) => DNS_LABEL.test(label));
    if (ok) {
        return value as string;
    }
    p.add(key, value, minLabels > 1
        ? "a fully qualified DNS name such as kubepolaris.example.com (lowercase, no wildcard, no scheme or port)"
        : "a DNS-1123 name (lowercase letters, digits, '-' and '.')");
    return undefined;
}

function identifier(p: Problems, key: string, value: unknown): string | undefined {
    if (typeof value === "string" && /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(value)) {
        return value;
    }
    p.add(key, value, "a MySQL identifier (a letter, then letters, digits or '_', at most 32 characters)");
    return undefined;
}

/** An image reference pinned to an immutable version: a digest, or a tag that is not a moving one. */
function image(p: Problems, key: string, value: unknown): string | undefined {
    const allowed = `an image pinned by digest (repo@sha256:…) or by a version tag (repo:v1.2.3), not untagged or tagged ${MUTABLE_TAGS.join("/")}`;
    if (typeof value !== "string" || value.trim() === "" || /\s/.test(value)) {
        p.add(key, value, allowed);
        return undefined;
    }
    if (/@sha256:[a-f0-9]{64}$/.test(value)) {
        return value;
    }
    const lastSlash = value.lastIndexOf("/");
    const colon = value.indexOf(":", lastSlash + 1);
    const tag = colon >= 0 ? value.slice(colon + 1) : "";
    if (tag === "" || MUTABLE_TAGS.includes(tag.toLowerCase()) || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
        p.add(key, value, allowed);
        return undefined;
    }
    return value;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function cidrs(p: Problems, key: string, raw: unknown): string[] {
    if (!Array.isArray(raw) || raw.length === 0) {
        p.add(key, raw, "a non-empty list of IPv4 CIDR blocks such as 10.0.0.0/8");
        return [];
    }
    return raw.filter((value, i) => {
        const m = typeof value === "string" ? CIDR.exec(value) : null;
        const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
        if (!ok) {
            p.add(`${key}[${i}]`, value, "an IPv4 CIDR block such as 10.0.0.0/8");
        }
        return ok;
    });
}

function labels(p: Problems, key: string, raw: unknown): Record<string, string> {
    const ok = typeof raw === "object" && raw !== null && !Array.isArray(raw) && Object.keys(raw).length > 0
        && Object.values(raw).every((v) => typeof v === "string");
    if (!ok) {
        p.add(key, raw, "a non-empty map of label names to string values");
        return {};
    }
    return raw as Record<string, string>;
}

function url(p: Problems, key: string, value: unknown): string | undefined {
    if (typeof value === "string" && /^https?:\/\/[^\s]+$/.test(value)) {
        return value;
    }
    p.add(key, value, "an http(s) URL");
    return undefined;
}

function optionalString(p: Problems, key: string, value: unknown): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (typeof value === "string" && value !== "") {
        return value;
    }
    p.add(key, value, "a non-empty string");
    return undefined;
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !(value instanceof Set)) {
        for (const child of Object.values(value)) {
            deepFreeze(child);
        }
        Object.freeze(value);
    }
    return value;
}

/** `probes`: the HTTP paths of each image's health checks. */
function parseProbePaths(p: Problems, raw: unknown): ProbePaths {
    const probes = object(p, "probes", raw, ["backend", "frontend"], false);
    const backendRaw = object(p, "probes.backend", probes.backend, ["liveness", "readiness"], false);
    const frontendRaw = object(p, "probes.frontend", probes.frontend, ["readiness"], false);
    const paths: ProbePaths = {
        backend: {
            liveness: httpPath(p, "probes.backend.liveness", backendRaw.liveness ?? BACKEND.livenessPath) ?? BACKEND.livenessPath,
            readiness: httpPath(p, "probes.backend.readiness", backendRaw.readiness ?? BACKEND.readinessPath) ?? BACKEND.readinessPath,
        },
        frontend: {
            readiness: httpPath(p, "probes.frontend.readiness", frontendRaw.readiness ?? FRONTEND.healthPath) ?? FRONTEND.healthPath,
        },
    };
    // One endpoint for both would restart every pod whenever readiness fails (a slow database).
    if (paths.backend.liveness === paths.backend.readiness) {
        p.add("probes.backend.readiness", paths.backend.readiness, `a path other than probes.backend.liveness (${paths.backend.liveness})`);
    }
    return paths;
}

function httpPath(p: Problems, key: string, value: unknown): string | undefined {
    if (typeof value === "string" && /^\/[\x21-\x7e]*$/.test(value)) {
        return value;
    }
    p.add(key, value, "an absolute HTTP path such as /healthz (printable ASCII, no spaces)");
    return undefined;
}
