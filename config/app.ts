// The app's half of the stack config: every top-level section but `database` (database.ts), read
// from plain strings into a frozen AppConfig. Pure (no Pulumi runtime), so scripts and tests call
// it on a stack file; load.ts feeds it the running stack's config.
import { BACKEND, FRONTEND } from "../app/kubepolaris";
import { EDGE_METRICS_SOURCES } from "../components/alerts/edgeMetrics";
import { APP_NAME } from "../components/labels";
import { maxPodsDuringRollout } from "../components/rollout";
import { DEFAULT_EDGE_CONTROLLER } from "../policy/facts";
import { parseDatabase } from "./database";
import { parseImages, type ParsedImages } from "./images";
import { decisionsFor, environmentsWhere, type EnvironmentDecisions } from "./environments";
import {
    type AppConfig, type EdgeConfig, type EdgeControllerConfig, ENVIRONMENTS, type FrontendConfig, type GrafanaConfig, type KubernetesProviderConfig, type MonitoringConfig,
    NETWORK_POLICY_ENFORCERS, type NetworkConfig, type PriorityClassConfig, type ProbePaths, type RawConfig, SECRET_KEYS, type TierProfile, TIERS,
    type TlsConfig, type WorkloadConfig,
} from "./schema";
import { HPA_UTILIZATION_TARGETS, TIER_PROFILES } from "./tiers";
import {
    bool, cidrs, deepFreeze, dnsLabel, dnsName, httpPath, image, integer, labels, listOf, matching, object, oneOf, optionalString, orDefault,
    port, Problems, url,
} from "./validators";

const TOP_LEVEL_KEYS = [
    "environment", "tier", "release", "namespace", "host", "images", "scaling", "probes", "tls", "database",
    "edge", "network", "monitoring", "priorityClass", "kubernetes", ...SECRET_KEYS,
] as const;

/** Kubernetes' default cluster domain (EKS does not change it). */
const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** The default release name: the prefix of every object name. */
const RELEASE = "kubepolaris";

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

    const environment = oneOf(ENVIRONMENTS)(p, "environment", values.environment);
    const tier = oneOf(TIERS)(p, "tier", values.tier);
    const decisions = decisionsFor(environment);
    const profile = TIER_PROFILES[tier ?? "small"];
    const onEnvironment = environment ? `environment ${environment}` : undefined;

    const release = dnsLabel(p, "release", values.release ?? RELEASE);
    const namespace = dnsLabel(p, "namespace", values.namespace ?? APP_NAME);
    const host = dnsName()(p, "host", values.host);

    const images = parseImages(p, values.images, { stack: raw.stack, release: release ?? RELEASE, environment, decisions, awsRegion: raw.awsRegion });
    const { backend, frontend } = parseWorkloads(p, values, images, profile, decisions, onEnvironment);
    const probePaths = parseProbePaths(p, values.probes);

    const tlsRaw = object(p, "tls", values.tls, ["secretName", "clusterIssuer"], true);
    const tlsSecret = orDefault(p, "tls.secretName", tlsRaw.secretName, `${release ?? RELEASE}-tls`, dnsName(1));
    const tls: TlsConfig = tlsRaw.clusterIssuer !== undefined
        ? { mode: "certManager", secretName: tlsSecret, clusterIssuer: dnsName(1)(p, "tls.clusterIssuer", tlsRaw.clusterIssuer) ?? "" }
        : { mode: "existingSecret", secretName: tlsSecret };

    const edge = parseEdge(p, values.edge, decisions, environment);
    const network = parseNetwork(p, values.network, decisions, environment);
    const monitoring = parseMonitoring(p, values.monitoring, edge);
    const priorityClass = parsePriorityClass(p, values.priorityClass);

    const k8sRaw = object(p, "kubernetes", values.kubernetes, ["renderYamlToDirectory", "context", "clusterDomain"], false);
    const kubernetes: KubernetesProviderConfig = {
        renderYamlToDirectory: optionalString(p, "kubernetes.renderYamlToDirectory", k8sRaw.renderYamlToDirectory),
        context: optionalString(p, "kubernetes.context", k8sRaw.context),
        clusterDomain: orDefault(p, "kubernetes.clusterDomain", k8sRaw.clusterDomain, DEFAULT_CLUSTER_DOMAIN, dnsName(1)),
    };
    // Rendered manifests hold Secrets in plaintext: fine for the local stack's throwaway
    // passwords, never for a real database password or JWT key.
    if (kubernetes.renderYamlToDirectory !== undefined && environment && !decisions.mayRenderManifests) {
        p.add("kubernetes.renderYamlToDirectory", kubernetes.renderYamlToDirectory,
            `nothing on environment ${environment} (rendering writes Secrets in plaintext; it is for ${environmentsWhere((d) => d.mayRenderManifests)} only)`);
    }

    const database = parseDatabase(p, values.database, {
        environment, tier, profile, decisions, secretKeys: raw.secretKeys, awsRegion: raw.awsRegion,
        backendMaxPods: maxPodsDuringRollout(backend.maxReplicas),
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
        imagePullPolicy: images.imagePullPolicy,
        // The mirror replicates to the database's DR region: a region loss leaves the images where the data is.
        imageMirror: images.mirror && { ...images.mirror, replicaRegion: database.rds?.dr?.region },
        tls,
        database,
        edge,
        network,
        monitoring,
        priorityClass,
        kubernetes,
        serverMode: decisions.serverMode,
        secretsSet: new Set(SECRET_KEYS.filter((key) => raw.secretKeys.has(key))),
    });
}

/** `images` and `scaling`: each component's image, replica bounds and placement. */
function parseWorkloads(p: Problems, values: Record<string, string>, images: ParsedImages, profile: TierProfile, decisions: EnvironmentDecisions,
    onEnvironment: string | undefined): { backend: WorkloadConfig; frontend: FrontendConfig } {
    const scaling = object(p, "scaling", values.scaling, ["backend", "frontend", "antiAffinity", "frontendPort"], false);
    const antiAffinity = orDefault(p, "scaling.antiAffinity", scaling.antiAffinity, "preferred", oneOf(["preferred", "required"] as const));
    const workload = (name: "backend" | "frontend"): WorkloadConfig => {
        const override = object(p, `scaling.${name}`, scaling[name], ["minReplicas", "maxReplicas"], false);
        const sizing = profile[name];
        const min = orDefault(p, `scaling.${name}.minReplicas`, override.minReplicas, sizing.minReplicas,
            integer(decisions.minReplicas, undefined, onEnvironment));
        const max = orDefault(p, `scaling.${name}.maxReplicas`, override.maxReplicas, sizing.maxReplicas, integer(1));
        if (max < min && !p.has(`scaling.${name}.minReplicas`) && !p.has(`scaling.${name}.maxReplicas`)) {
            p.add(`scaling.${name}.maxReplicas`, max, `an integer ≥ scaling.${name}.minReplicas (${min})`);
        }
        return {
            minReplicas: min,
            maxReplicas: max,
            resources: sizing.resources,
            image: images[name],
            antiAffinity,
            targetCpuUtilization: HPA_UTILIZATION_TARGETS.cpu,
            targetMemoryUtilization: HPA_UTILIZATION_TARGETS.memory,
        };
    };
    return {
        backend: workload("backend"),
        frontend: { ...workload("frontend"), containerPort: orDefault(p, "scaling.frontendPort", scaling.frontendPort, FRONTEND.port, port) },
    };
}

/** `probes`: the HTTP paths of each image's health checks (defaults: what the pinned release serves). */
function parseProbePaths(p: Problems, raw: unknown): ProbePaths {
    const probes = object(p, "probes", raw, ["backend", "frontend"], false);
    const backendRaw = object(p, "probes.backend", probes.backend, ["liveness", "readiness"], false);
    const frontendRaw = object(p, "probes.frontend", probes.frontend, ["readiness"], false);
    const paths: ProbePaths = {
        backend: {
            liveness: orDefault(p, "probes.backend.liveness", backendRaw.liveness, BACKEND.livenessPath, httpPath),
            readiness: orDefault(p, "probes.backend.readiness", backendRaw.readiness, BACKEND.readinessPath, httpPath),
        },
        frontend: {
            readiness: orDefault(p, "probes.frontend.readiness", frontendRaw.readiness, FRONTEND.healthPath, httpPath),
        },
    };
    // One endpoint for both would restart every pod whenever readiness fails (a slow database).
    if (paths.backend.liveness === paths.backend.readiness) {
        p.add("probes.backend.readiness", paths.backend.readiness, `a path other than probes.backend.liveness (${paths.backend.liveness})`);
    }
    return paths;
}

/** What an edge without `edge.controllerNamespace`/`controllerLabels` fronts (the pack's default, too): Traefik as its Helm chart installs it. */
export { DEFAULT_EDGE_CONTROLLER };

/**
 * What `edge.controller` installs unless it says otherwise: Traefik at the release scripts/edge/traefik.sh
 * builds for the local stack (TRAEFIK_VERSION in scripts/toolchain.versions; a test keeps them equal),
 * two replicas, sized for a few thousand requests a second.
 */
export const EDGE_CONTROLLER_DEFAULTS = {
    image: "docker.io/library/traefik:v3.7.13",
    replicas: 2,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
} as const;

function parseEdge(p: Problems, raw: unknown, decisions: EnvironmentDecisions, environment: string | undefined): EdgeConfig {
    const edgeRaw = object(p, "edge", raw,
        ["kind", "className", "serviceType", "scheme", "sourceRanges", "controllerNamespace", "controllerLabels", "awaitLoadBalancer", "controller"], false);
    const serviceType = orDefault(p, "edge.serviceType", edgeRaw.serviceType, "LoadBalancer", oneOf(["LoadBalancer", "NodePort"] as const));
    if (environment && !decisions.edgeServiceTypes.includes(serviceType)) {
        p.add("edge.serviceType", serviceType, `${decisions.edgeServiceTypes.map((t) => `"${t}"`).join(", ")} on environment ${environment}`
            + ` ("${serviceType}" is for ${environmentsWhere((d) => d.edgeServiceTypes.includes(serviceType))} only)`);
    }
    return {
        kind: orDefault(p, "edge.kind", edgeRaw.kind, "gateway", oneOf(["gateway", "ingress"] as const)),
        className: orDefault(p, "edge.className", edgeRaw.className, DEFAULT_EDGE_CONTROLLER.className, dnsName(1)),
        https: decisions.edgeHttps,
        serviceType,
        scheme: orDefault(p, "edge.scheme", edgeRaw.scheme, "internet-facing", oneOf(["internal", "internet-facing"] as const)),
        sourceRanges: orDefault(p, "edge.sourceRanges", edgeRaw.sourceRanges, ["0.0.0.0/0"], cidrs),
        controllerNamespace: orDefault(p, "edge.controllerNamespace", edgeRaw.controllerNamespace, DEFAULT_EDGE_CONTROLLER.namespace, dnsLabel),
        controllerLabels: orDefault(p, "edge.controllerLabels", edgeRaw.controllerLabels, { ...DEFAULT_EDGE_CONTROLLER.labels }, labels),
        awaitLoadBalancer: orDefault(p, "edge.awaitLoadBalancer", edgeRaw.awaitLoadBalancer, decisions.awaitLoadBalancer, bool),
        anyHost: decisions.edgeAnyHost,
        controller: parseEdgeController(p, edgeRaw.controller, decisions, environment),
    };
}

/** `edge.controller`: absent, or the Traefik the stack installs (an object; `{}` takes every default). */
function parseEdgeController(p: Problems, raw: unknown, decisions: EnvironmentDecisions, environment: string | undefined): EdgeControllerConfig | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const c = object(p, "edge.controller", raw, ["image", "replicas", "apiServer"], true);
    const apiServer = object(p, "edge.controller.apiServer", c.apiServer, ["cidrs", "ports"], false);
    return {
        image: orDefault(p, "edge.controller.image", c.image, EDGE_CONTROLLER_DEFAULTS.image, image),
        // As many as the app's own floor: the edge is on every request's path.
        replicas: orDefault(p, "edge.controller.replicas", c.replicas, Math.max(EDGE_CONTROLLER_DEFAULTS.replicas, decisions.minReplicas),
            integer(decisions.minReplicas, 20, environment && `environment ${environment} (its replica floor)`)),
        resources: structuredClone(EDGE_CONTROLLER_DEFAULTS.resources) as EdgeControllerConfig["resources"],
        apiServer: {
            cidrs: orDefault(p, "edge.controller.apiServer.cidrs", apiServer.cidrs, DEFAULT_API_SERVER_EGRESS_CIDRS, cidrs),
            ports: c.apiServer === undefined ? [443]
                : apiServer.ports === undefined ? undefined : listOf(port, "a list of port numbers", { nonEmpty: true })(p, "edge.controller.apiServer.ports", apiServer.ports),
        },
    };
}

/**
 * Where the backend may reach managed clusters' API servers unless the stack says otherwise: the
 * private address ranges (RFC 1918), where a VPC-internal endpoint lives. Not 0.0.0.0/0, which made
 * the egress policy nominal; a cluster with a public endpoint is added by its CIDR.
 */
export const DEFAULT_API_SERVER_EGRESS_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

function parseNetwork(p: Problems, raw: unknown, decisions: EnvironmentDecisions, environment: string | undefined): NetworkConfig {
    const networkRaw = object(p, "network", raw, ["apiServerEgressCidrs", "apiServerPorts", "policyEnforcer"], false);
    const policyEnforcer = orDefault(p, "network.policyEnforcer", networkRaw.policyEnforcer, "none", oneOf(NETWORK_POLICY_ENFORCERS));
    if (policyEnforcer === "none" && decisions.requireNetworkPolicyEnforcer && [undefined, "none"].includes(networkRaw.policyEnforcer)) {
        p.add("network.policyEnforcer", networkRaw.policyEnforcer, `the NetworkPolicy enforcer the cluster runs (${NETWORK_POLICY_ENFORCERS.filter((e) => e !== "none").join(", ")}) `
            + `on environment ${environment}: its namespace is meant to be isolated by default-deny NetworkPolicies, which nothing enforces `
            + "on a default EKS cluster (the VPC CNI enforces them only with its network policy agent: enableNetworkPolicy \"true\" in the vpc-cni add-on configuration)");
    }
    return {
        apiServerEgressCidrs: orDefault(p, "network.apiServerEgressCidrs", networkRaw.apiServerEgressCidrs, DEFAULT_API_SERVER_EGRESS_CIDRS, cidrs),
        apiServerPorts: orDefault(p, "network.apiServerPorts", networkRaw.apiServerPorts, [443, 6443], listOf(port, "a list of port numbers")),
        policyEnforcer,
    };
}

/**
 * The Grafana URL nginx can resolve per request: a Service's fully qualified name (the resolver
 * applies no search list) and a port, no path (a path in a variable proxy_pass would replace every
 * request's URI).
 */
const GRAFANA_URL = /^http:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(\d{1,5})$/;

function parseGrafana(p: Problems, raw: unknown): GrafanaConfig | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const grafanaRaw = object(p, "monitoring.grafana", raw, ["url", "resolver"], true);
    const grafanaUrl = matching(GRAFANA_URL, "http://<service>.<namespace>.svc.<cluster domain>:<port>, e.g."
        + " http://grafana.monitoring.svc.cluster.local:80 (a fully qualified Service name and a port, no path)")(p, "monitoring.grafana.url", grafanaRaw.url);
    const m = grafanaUrl === undefined ? null : GRAFANA_URL.exec(grafanaUrl);
    if (!m) {
        return undefined;
    }
    const grafanaPort = port(p, "monitoring.grafana.url", Number(m[7]));
    return {
        url: grafanaUrl!,
        namespace: m[3],
        port: grafanaPort ?? 0,
        resolver: orDefault(p, "monitoring.grafana.resolver", grafanaRaw.resolver, `kube-dns.kube-system.svc.${m[5]}`, dnsName(1)),
    };
}

function parseMonitoring(p: Problems, raw: unknown, edge: EdgeConfig): MonitoringConfig {
    const monitoringRaw = object(p, "monitoring", raw, ["prometheusNamespace", "selectorLabels", "runbookBaseUrl", "edgeMetrics", "grafana"], false);
    const edgeMetrics = orDefault(p, "monitoring.edgeMetrics", monitoringRaw.edgeMetrics, "traefik", oneOf(EDGE_METRICS_SOURCES));
    // ingress-nginx implements Ingress only: on a Gateway edge its metrics would never exist.
    if (edgeMetrics === "ingress-nginx" && edge.kind !== "ingress") {
        p.add("monitoring.edgeMetrics", edgeMetrics, `"traefik" with edge.kind "${edge.kind}" ("ingress-nginx" serves Ingresses only: set edge.kind to "ingress")`);
    }
    return {
        edgeMetrics,
        grafana: parseGrafana(p, monitoringRaw.grafana),
        prometheusNamespace: orDefault(p, "monitoring.prometheusNamespace", monitoringRaw.prometheusNamespace, "monitoring", dnsLabel),
        selectorLabels: orDefault(p, "monitoring.selectorLabels", monitoringRaw.selectorLabels, { release: "kube-prometheus-stack" }, labels),
        runbookBaseUrl: orDefault(p, "monitoring.runbookBaseUrl", monitoringRaw.runbookBaseUrl,
            "https://github.com/kubepolaris/kubepolaris-ha/blob/main/docs/runbooks.md", url),
    };
}

function parsePriorityClass(p: Problems, raw: unknown): PriorityClassConfig | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const pcRaw = object(p, "priorityClass", raw, ["name", "value"], true);
    return {
        name: dnsName(1)(p, "priorityClass.name", pcRaw.name) ?? "",
        // Above 1e9 is reserved for system-* classes.
        value: orDefault(p, "priorityClass.value", pcRaw.value, 100000, integer(-2147483648, 1000000000)),
    };
}
