// Every stack setting is read here, once, validated, and frozen into a typed object.
// Components never read pulumi.Config: they receive slices of AppConfig as typed args.
//
// `parseConfig` is pure (plain strings in, AppConfig out) so scripts and tests can call it on a
// stack file without the Pulumi runtime; `loadConfig` feeds it the running stack's config.
import * as pulumi from "@pulumi/pulumi";

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

export type TlsConfig =
    | { mode: "existingSecret"; secretName: string }
    | { mode: "certManager"; secretName: string; clusterIssuer: string };

export interface DatabasePool {
    maxIdleConns: number;
    maxOpenConns: number;
    connMaxLifetimeSeconds: number;
}

export interface DatabaseConfig {
    mode: "rds" | "in-cluster";
    name: string;
    user: string;
    port: number;
    /** Connection pool, seed 000 "连接池配置". */
    pool: DatabasePool;
    sizing: DatabaseSizing;
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
    tls: TlsConfig;
    database: DatabaseConfig;
    edge: EdgeConfig;
    network: NetworkConfig;
    monitoring: MonitoringConfig;
    priorityClass?: PriorityClassConfig;
    kubernetes: KubernetesProviderConfig;
    /** Keys of secrets the stack sets (values are read separately, as Pulumi secrets). */
    secretsSet: ReadonlySet<SecretKey>;
}

/** Config keys that may only be set as secrets (`pulumi config set --secret`). */
export const SECRET_KEYS = ["jwtSecret"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const TOP_LEVEL_KEYS = [
    "environment", "tier", "release", "namespace", "host", "images", "scaling", "tls", "database",
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
    const frontendPort = integer(p, "scaling.frontendPort", scaling.frontendPort ?? 8080, 1, undefined, 65535);

    const tlsRaw = object(p, "tls", values.tls, ["secretName", "clusterIssuer"], true);
    const tlsSecret = dnsName(p, "tls.secretName", tlsRaw.secretName ?? `${release ?? "kubepolaris"}-tls`, 1);
    const tls: TlsConfig = tlsRaw.clusterIssuer !== undefined
        ? { mode: "certManager", secretName: tlsSecret ?? "", clusterIssuer: dnsName(p, "tls.clusterIssuer", tlsRaw.clusterIssuer, 1) ?? "" }
        : { mode: "existingSecret", secretName: tlsSecret ?? "" };

    const dbRaw = object(p, "database", values.database, ["mode", "name", "user", "port", "pool"], true);
    const dbMode = oneOf(p, "database.mode", dbRaw.mode, ["rds", "in-cluster"] as const);
    if (dbMode === "in-cluster" && environment && !["local", "dev"].includes(environment)) {
        p.add("database.mode", dbMode, `"rds" on environment ${environment} ("in-cluster" is for local and dev only)`);
    }
    const poolRaw = object(p, "database.pool", dbRaw.pool, ["maxIdleConns", "maxOpenConns", "connMaxLifetimeSeconds"], false);
    const pool: DatabasePool = {
        maxIdleConns: integer(p, "database.pool.maxIdleConns", poolRaw.maxIdleConns ?? 20, 0) ?? 20,
        maxOpenConns: integer(p, "database.pool.maxOpenConns", poolRaw.maxOpenConns ?? 200, 1) ?? 200,
        connMaxLifetimeSeconds: integer(p, "database.pool.connMaxLifetimeSeconds", poolRaw.connMaxLifetimeSeconds ?? 3600, 0) ?? 3600,
    };
    if (pool.maxIdleConns > pool.maxOpenConns) {
        p.add("database.pool.maxIdleConns", pool.maxIdleConns, `an integer ≤ database.pool.maxOpenConns (${pool.maxOpenConns})`);
    }
    const database: DatabaseConfig = {
        mode: dbMode ?? "rds",
        name: identifier(p, "database.name", dbRaw.name ?? "kubepolaris") ?? "kubepolaris",
        user: identifier(p, "database.user", dbRaw.user ?? "kubepolaris") ?? "kubepolaris",
        port: integer(p, "database.port", dbRaw.port ?? 3306, 1, undefined, 65535) ?? 3306,
        pool,
        sizing: profile.database,
    };

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

    const backend = workload("backend");
    const frontend: FrontendConfig = { ...workload("frontend"), containerPort: frontendPort ?? 8080 };

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
        tls,
        database,
        edge,
        network,
        monitoring,
        priorityClass,
        kubernetes,
        secretsSet: new Set(SECRET_KEYS.filter((key) => raw.secretKeys.has(key))),
    });
}

/** Reads the running stack's config (the only place that touches pulumi.Config). */
export function loadConfig(): AppConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (!key.startsWith(prefix)) {
            continue;
        }
        const short = key.slice(prefix.length);
        if (isSecretKey(key)) {
            secretKeys.add(short);
            continue; // never copy a secret's plaintext into the config object
        }
        values[short] = value;
    }
    for (const key of SECRET_KEYS) {
        if (secretKeys.has(key)) {
            values[key] = "<secret>";
        }
    }
    return parseConfig({ stack: pulumi.getStack(), values, secretKeys });
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
