// The configurations the drills compare, on the same cluster, one at a time:
//  - ours: the local stack as `pulumi up` deploys it (scripts/up.sh), at a size tier;
//  - seed-ha: the HA guide's values-ha.yaml (its Kubernetes 部署 section) taken literally, as plain manifests in a namespace of its own;
//  - naive: what a quick install gives: 2 replicas, no anti-affinity, no spread, no PDB.
// Baselines are generated here, never by changing the stack's files.
import type { V1Deployment } from "@kubernetes/client-node";
import * as path from "path";
import { pdbBudget } from "../../components/haWorkload";
import { componentName, podLabels } from "../../components/labels";
import { parseConfig, rawConfig, Tier, TIER_PROFILES } from "../../config";
import { loadStackConfig } from "../../tools/stackConfig";
import { Workload, WORKLOADS } from "./figures";
import { until } from "../../tools/until";
import { Kube, unlessNotFound } from "./kube";
import { BACKEND } from "../../app/kubepolaris";

export const REPO = path.resolve(__dirname, "..", "..");

/** The local stack's settings, parsed as the program parses them (the repo's Pulumi.local.yaml: never edited). */
export function localStackFacts(): { namespace: string; release: string; images: Record<Workload, string>; backupIntervalMinutes: number } {
    const { config: flat, secretKeys } = loadStackConfig(REPO, "local");
    const config = parseConfig(rawConfig("local", flat, secretKeys));
    return {
        namespace: config.namespace,
        release: config.release,
        images: { backend: config.backend.image, frontend: config.frontend.image },
        backupIntervalMinutes: config.database.inCluster?.backups.intervalMinutes ?? 0,
    };
}

/** Our PDB's maxUnavailable at a tier (pdbBudget), per workload; undefined where no PDB is made. */
export function budgetsAt(tier: Tier): Record<Workload, string | undefined> {
    const budget = (w: Workload) => pdbBudget(TIER_PROFILES[tier][w].minReplicas)?.maxUnavailable;
    return { backend: budget("backend"), frontend: budget("frontend") };
}

/** The availability floor at a tier: what our PDB keeps at the HPA minimum, the same for every configuration compared there. */
export function floorsAt(tier: Tier): Record<Workload, number> {
    const floor = (w: Workload) => {
        const minReplicas = TIER_PROFILES[tier][w].minReplicas;
        return pdbBudget(minReplicas)?.floorAt(minReplicas) ?? 0;
    };
    return { backend: floor("backend"), frontend: floor("frontend") };
}

export interface DeployContext {
    kube: Kube;
    /** Runs scripts/up.sh with the runner's cluster, state and mirror settings. */
    upScript: (args: string[]) => Promise<void>;
    log: (message: string) => void;
}

export interface Configuration {
    name: string;
    description: string;
    namespace: string;
    /** Ours only: the tier it runs at (its figures are compared at that tier's floor). */
    tier?: Tier;
    deploy(ctx: DeployContext): Promise<void>;
    /** Removes it from the cluster (ours stays: the cluster is stopped at the end anyway). */
    teardown(ctx: DeployContext): Promise<void>;
    /** Real nodes: the database drills disrupt a one-pod database of the configuration's own (a quick install's), not the stack's Galera cluster. */
    onePodDatabase?: boolean;
}

export function ours(tier: Tier): Configuration {
    const facts = localStackFacts();
    return {
        name: `ours-${tier}`,
        description: `the local stack as pulumi up deploys it, tier ${tier}`,
        namespace: facts.namespace,
        tier,
        async deploy(ctx) {
            await ctx.upScript(["pulumi", "config", "set", "--stack", "local", "kubepolaris:tier", tier]);
            await ctx.upScript(["up"]);
        },
        async teardown() {
            // Left in place: a later tier is a `pulumi up` over it.
        },
    };
}

// --------------------------------------------------------------------------------- baselines
interface BaselineWorkload {
    replicas: number;
    affinity?: any;
    topologySpreadConstraints?: any[];
    resources?: any;
    probes?: any;
}

function deployment(namespace: string, release: string, workload: Workload, image: string, port: number, spec: BaselineWorkload): any {
    const labels = podLabels(release, workload);
    return {
        apiVersion: "apps/v1", kind: "Deployment",
        metadata: { name: componentName(release, workload), namespace, labels },
        spec: {
            replicas: spec.replicas,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels },
                spec: {
                    affinity: spec.affinity,
                    topologySpreadConstraints: spec.topologySpreadConstraints,
                    containers: [{
                        name: workload, image,
                        ports: [{ name: "http", containerPort: port }],
                        resources: spec.resources,
                        ...(spec.probes ?? {}),
                    }],
                },
            },
        },
    };
}

function baseline(name: string, description: string, objects: (namespace: string) => any[]): Configuration {
    const namespace = `drill-${name}`;
    return {
        name, description, namespace,
        async deploy(ctx) {
            await ctx.kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
            await until(`namespace ${namespace}'s default ServiceAccount`, 60_000, async () =>
                await unlessNotFound(ctx.kube.core.readNamespacedServiceAccount({ name: "default", namespace })) ? true : undefined);
            for (const o of objects(namespace)) {
                await ctx.kube.apply(o);
            }
        },
        async teardown(ctx) {
            await unlessNotFound(ctx.kube.core.deleteNamespace({ name: namespace }));
            await until(`namespace ${namespace} gone`, 180_000, async () =>
                await unlessNotFound(ctx.kube.core.readNamespace({ name: namespace })) ? undefined : true, 500);
        },
    };
}


const BACKEND_PORT = 8080;
const FRONTEND_PORT = 80;

/**
 * The HA guide's values-ha.yaml (its Kubernetes 部署 section), one home for both forms of seed-ha:
 * backend 3 replicas with required hostname anti-affinity and a zone spread (ScheduleAnyway),
 * 1 CPU / 1 Gi requests, the seed's probes; frontend 3 replicas with preferred anti-affinity and no
 * spread; a PDB minAvailable 2 on the backend only; an HPA 3–10 (CPU 70 %, memory 80 %) on the
 * backend; the chart's default rolling update (25 % / 25 %), grace and no preStop. Its selectors
 * are the chart's: `app.kubernetes.io/component` alone.
 */
const SEED_HA = {
    replicas: 3,
    selector: (w: Workload) => ({ matchLabels: { "app.kubernetes.io/component": w } }),
    backendAffinity: (w: Workload) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: SEED_HA.selector(w), topologyKey: "kubernetes.io/hostname" }] } }),
    frontendAffinity: (w: Workload) => ({ podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { labelSelector: SEED_HA.selector(w), topologyKey: "kubernetes.io/hostname" } }] } }),
    backendSpread: (w: Workload) => [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: SEED_HA.selector(w) }],
    backendResources: { requests: { cpu: "1000m", memory: "1Gi" }, limits: { cpu: "4000m", memory: "4Gi" } },
    /** The seed's probe timings; its paths (/api/health, /api/health/ready) are not routes of 1.0.5. */
    backendProbes: (paths: { liveness: string; readiness: string }) => ({
        livenessProbe: { httpGet: { path: paths.liveness, port: BACKEND_PORT }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        readinessProbe: { httpGet: { path: paths.readiness, port: BACKEND_PORT }, initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
    }),
    seedProbePaths: { liveness: "/api/health", readiness: "/api/health/ready" },
    backendPdb: { minAvailable: 2 },
    backendHpa: (target: string) => ({
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
        minReplicas: 3, maxReplicas: 10,
        metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
            { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
        ],
    }),
};

/** The HA guide's backend PDB and HPA (values-ha.yaml), as both seed-ha configurations create them. */
function seedHaBackendBudgets(ns: string, release: string): Record<string, unknown>[] {
    return [
        {
            apiVersion: "policy/v1", kind: "PodDisruptionBudget",
            metadata: { name: componentName(release, "backend"), namespace: ns },
            spec: { ...SEED_HA.backendPdb, selector: SEED_HA.selector("backend") },
        },
        {
            apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler",
            metadata: { name: componentName(release, "backend"), namespace: ns },
            spec: SEED_HA.backendHpa(componentName(release, "backend")),
        },
    ];
}

/** seed-ha on kwok: the guide's values literally, as plain manifests in a namespace of its own. */
export function seedHa(): Configuration {
    const { release, images } = localStackFacts();
    return baseline("seed-ha", "the HA guide's values-ha.yaml taken literally", (ns) => [
        deployment(ns, release, "backend", images.backend, BACKEND_PORT, {
            replicas: SEED_HA.replicas,
            affinity: SEED_HA.backendAffinity("backend"),
            topologySpreadConstraints: SEED_HA.backendSpread("backend"),
            resources: SEED_HA.backendResources,
            probes: SEED_HA.backendProbes(SEED_HA.seedProbePaths),
        }),
        deployment(ns, release, "frontend", images.frontend, FRONTEND_PORT, {
            replicas: SEED_HA.replicas,
            affinity: SEED_HA.frontendAffinity("frontend"),
        }),
        ...seedHaBackendBudgets(ns, release),
    ]);
}

/** A quick install: the same images, 2 replicas each, no anti-affinity, no spread, no PDB, no HPA, the default rolling update. */
export function naive(): Configuration {
    const { release, images } = localStackFacts();
    return baseline("naive", "2 replicas, no anti-affinity, no spread, no PDB, default rolling update", (ns) =>
        WORKLOADS.map((w) => deployment(ns, release, w, images[w], w === "backend" ? BACKEND_PORT : FRONTEND_PORT, { replicas: 2 })));
}

// ------------------------------------------------------------------- naive on real nodes
/**
 * A Deployment as a quick install would have it: the same app, image, configuration and Services,
 * without the HA measures: 2 replicas, the default rolling update (25 % / 25 %, no minReadySeconds),
 * the default 30 s grace, no preStop wait, no probes, no anti-affinity, no spread, the default
 * 300 s before a lost node's pods are replaced. Pure: the input
 * is not changed.
 */
export function withoutHaMeasures(deployment: V1Deployment): V1Deployment {
    const d = JSON.parse(JSON.stringify(deployment)) as V1Deployment;
    const spec = d.spec!;
    const pod = spec.template.spec!;
    spec.replicas = 2;
    delete spec.strategy;
    delete spec.minReadySeconds;
    delete pod.terminationGracePeriodSeconds;
    delete pod.affinity;
    delete pod.topologySpreadConstraints;
    delete pod.tolerations;
    for (const c of pod.containers) {
        delete c.lifecycle;
        delete c.readinessProbe;
        delete c.startupProbe;
        delete c.livenessProbe;
    }
    delete d.status;
    delete d.metadata?.resourceVersion;
    delete d.metadata?.managedFields;
    return d;
}

/**
 * The seed's values-ha.yaml applied to one of our deployed Deployments (tier medium, whose backend
 * requests and limits are the seed's): withoutHaMeasures, then the seed's replicas, anti-affinity,
 * spread and probes. One deviation, or the backend never serves: the seed probes /api/health and
 * /api/health/ready, which 1.0.5 answers with 404 (its routes are /healthz and /readyz), so its
 * probe timings run against the app's real paths. Pure.
 */
export function asSeedHa(live: V1Deployment, workload: Workload): V1Deployment {
    const d = withoutHaMeasures(live);
    const spec = d.spec!;
    const pod = spec.template.spec!;
    spec.replicas = SEED_HA.replicas;
    if (workload === "backend") {
        pod.affinity = SEED_HA.backendAffinity(workload);
        pod.topologySpreadConstraints = SEED_HA.backendSpread(workload);
        Object.assign(pod.containers[0], { resources: SEED_HA.backendResources },
            SEED_HA.backendProbes({ liveness: BACKEND.livenessPath, readiness: BACKEND.readinessPath }));
    } else {
        pod.affinity = SEED_HA.frontendAffinity(workload);
    }
    return d;
}

/**
 * On real nodes a baseline must really serve, so it is our deployed stack changed in place: the
 * Deployments replaced (`deployment`), our PDBs and HPAs deleted and the baseline's own applied
 * (`objects`). Everything else (database, Secrets, nginx configuration, Services, edge,
 * NetworkPolicies) stays, so the comparison isolates the workloads' measures. Teardown deletes the
 * replaced Deployments and puts the stack back with `pulumi up --refresh` (the engine sees what is
 * missing and recreates it).
 */
function onOurStack(o: {
    name: string; description: string; tier: Tier;
    deployment: (live: V1Deployment, workload: Workload) => V1Deployment;
    objects: (namespace: string, release: string) => any[];
}): Configuration {
    const facts = localStackFacts();
    return {
        name: o.name,
        description: o.description,
        namespace: facts.namespace,
        async deploy(ctx) {
            await ctx.upScript(["pulumi", "config", "set", "--stack", "local", "kubepolaris:tier", o.tier]);
            await ctx.upScript(["up"]);
            for (const w of WORKLOADS) {
                const ref = { name: componentName(facts.release, w), namespace: facts.namespace };
                await unlessNotFound(ctx.kube.autoscaling.deleteNamespacedHorizontalPodAutoscaler(ref));
                await unlessNotFound(ctx.kube.policy.deleteNamespacedPodDisruptionBudget(ref));
                const live = await ctx.kube.apps.readNamespacedDeployment(ref);
                await ctx.kube.apps.replaceNamespacedDeployment({ ...ref, body: o.deployment(live, w) });
            }
            for (const object of o.objects(facts.namespace, facts.release)) {
                await ctx.kube.apply(object);
            }
            ctx.log(`${o.name}: our HPAs and PDBs deleted, Deployments replaced (${o.description})`);
        },
        async teardown(ctx) {
            for (const object of o.objects(facts.namespace, facts.release)) {
                await ctx.kube.remove(object);
            }
            // The replaced Deployments belong to this client's field manager now, so the engine's
            // server-side apply would conflict on them: delete them, and the refresh recreates them.
            for (const w of WORKLOADS) {
                const ref = { name: componentName(facts.release, w), namespace: facts.namespace };
                await unlessNotFound(ctx.kube.apps.deleteNamespacedDeployment({ ...ref, propagationPolicy: "Foreground" }));
                await until(`${o.name}'s ${ref.name} gone`, 120_000, async () =>
                    await unlessNotFound(ctx.kube.apps.readNamespacedDeployment(ref)) ? undefined : true, 500);
            }
            await ctx.upScript(["up", "--refresh"]);
        },
    };
}

/** naive on real nodes: our stack (tier small) without its HA measures (withoutHaMeasures, no PDB, no HPA). */
export function naiveOnOurStack(): Configuration {
    return { ...onOurStack({
        name: "naive", tier: "small", deployment: withoutHaMeasures, objects: () => [],
        description: "our stack without its HA measures: 2 replicas, default rolling update, no preStop, no probes, no anti-affinity, no spread, no node-loss tolerations, no PDB, no HPA; the database drills on one database pod",
    }), onePodDatabase: true };
}

/** seed-ha on real nodes: our stack (tier medium) with the seed's values-ha.yaml in place of our measures (asSeedHa, its PDB and HPA). */
export function seedHaOnOurStack(): Configuration {
    return onOurStack({
        name: "seed-ha", tier: "medium", deployment: asSeedHa,
        description: "our stack with the HA guide's values-ha.yaml in place of our measures (its probe timings on the app's real paths)",
        objects: (ns, release) => [
            ...seedHaBackendBudgets(ns, release),
        ],
    });
}

export const CONFIGURATION_NAMES = ["seed-ha", "naive", "ours-small", "ours-medium"] as const;

export function configuration(name: string, nodes: "kwok" | "real" = "kwok"): Configuration {
    switch (name) {
        case "seed-ha": return nodes === "real" ? seedHaOnOurStack() : seedHa();
        case "naive": return nodes === "real" ? naiveOnOurStack() : naive();
        case "ours-small": return ours("small");
        case "ours-medium": return ours("medium");
        default: throw new Error(`--configs: got '${name}'; allowed: ${CONFIGURATION_NAMES.join(", ")}`);
    }
}
