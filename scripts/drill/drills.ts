// The drills: what each does to the cluster, and how each puts the cluster back afterwards.
// Each `run` disrupts and returns when its disruption is over (the runner then waits for the
// workloads to come back); `restore` returns the cluster to the state every drill starts from.
import { Workload, WORKLOADS } from "./figures";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { sleep, until } from "../../tools/until";
import { httpStatus, isNodeReady, Kube, MERGE_PATCH, STRATEGIC_MERGE_PATCH, unlessNotFound } from "./kube";
import { PodWatch } from "./sampler";

export const KWOK_NODE_LABEL = "kwok.x-k8s.io/node";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export interface DrillTimings {
    /** A drain gives up on the pods it could not evict after this long (kubectl drain --timeout). */
    drainTimeoutS: number;
    /** Between two eviction attempts of a pod a PDB refused (kubectl drain waits 5 s). */
    evictionRetryS: number;
    chaosDurationS: number;
    chaosIntervalS: number;
    /** How long a lost zone's nodes stay NotReady, once the node controller has noticed, before they are deleted. */
    zoneNotReadyHoldS: number;
}

export const FULL_TIMINGS: DrillTimings = {
    drainTimeoutS: 120, evictionRetryS: 2, chaosDurationS: 60, chaosIntervalS: 5, zoneNotReadyHoldS: 15,
};

export interface DrillContext {
    kube: Kube;
    watch: PodWatch;
    namespace: string;
    /** The Deployment of each workload in `namespace`. */
    deployments: Record<Workload, string>;
    timings: DrillTimings;
    log: (message: string) => void;
    /** Nodes no drill drains or loses (real nodes: the single database's). */
    protectedNodes?: ReadonlySet<string>;
}

export interface DrillOutcome {
    /** Evictions refused by a PDB (HTTP 429), per workload; retries count again. */
    refused: Record<Workload, number>;
    /** What the drill did, for the report (nodes drained, zone lost, pods deleted...). */
    notes: string[];
    /** Seconds the cluster needs before it is back to normal: added to the runner's wait. */
    extraSettleS?: number;
}

export interface Drill {
    name: string;
    title: string;
    run(ctx: DrillContext): Promise<DrillOutcome>;
    restore(ctx: DrillContext): Promise<void>;
}

const noRefusals = (): Record<Workload, number> => ({ backend: 0, frontend: 0 });

export function workloadOf(ctx: DrillContext, pod: V1Pod): Workload | undefined {
    if (pod.metadata?.namespace !== ctx.namespace) {
        return undefined;
    }
    return WORKLOADS.find((w) => ctx.watch.podsOf(w).some((p) => p.metadata?.uid === pod.metadata?.uid));
}

/** Nodes ordered by how many of the configuration's pods they hold (backend first), busiest first. */
export function busiestNodes(ctx: DrillContext): string[] {
    const score = new Map<string, [number, number]>();
    for (const w of WORKLOADS) {
        for (const p of ctx.watch.podsOf(w)) {
            const node = p.spec?.nodeName;
            if (!node) {
                continue;
            }
            const [b, all] = score.get(node) ?? [0, 0];
            score.set(node, [b + (w === "backend" ? 1 : 0), all + 1]);
        }
    }
    return [...score.entries()]
        .filter(([n]) => !ctx.protectedNodes?.has(n))
        .sort(([na, [ba, ta]], [nb, [bb, tb]]) => bb - ba || tb - ta || na.localeCompare(nb))
        .map(([n]) => n);
}

async function nodes(kube: Kube): Promise<V1Node[]> {
    return (await kube.core.listNode()).items;
}

export async function setUnschedulable(kube: Kube, node: string, unschedulable: boolean): Promise<void> {
    await kube.core.patchNode({ name: node, body: { spec: { unschedulable: unschedulable ? true : null } } }, MERGE_PATCH);
}

/** Pods a drain must move off `node`: not DaemonSet pods, not static (mirror) pods, not finished. */
async function podsToEvict(kube: Kube, node: string): Promise<V1Pod[]> {
    const pods = (await kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
    return pods.filter((p) =>
        !p.metadata?.ownerReferences?.some((o) => o.kind === "DaemonSet")
        && !p.metadata?.annotations?.["kubernetes.io/config.mirror"]
        && !["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
}

/**
 * Evict one pod through the Eviction API until it is accepted, the pod is gone, or the deadline
 * passes; a 429 is a PDB refusal: counted, then retried after `evictionRetryS`.
 */
async function evict(ctx: DrillContext, pod: V1Pod, deadline: number, refused: Record<Workload, number>): Promise<boolean> {
    const name = pod.metadata?.name as string;
    const namespace = pod.metadata?.namespace as string;
    const workload = workloadOf(ctx, pod);
    for (;;) {
        try {
            await ctx.kube.core.createNamespacedPodEviction({
                name, namespace, body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
            });
            return true;
        } catch (e) {
            const status = httpStatus(e);
            if (status === 404) {
                return true;
            }
            if (status === 429) {
                if (workload) {
                    refused[workload]++;
                }
            } else {
                ctx.log(`eviction of ${namespace}/${name}: ${status === undefined ? "" : `HTTP ${status} `}${(e as Error).message}`);
            }
        }
        if (Date.now() + ctx.timings.evictionRetryS * 1000 > deadline) {
            return false;
        }
        await sleep(ctx.timings.evictionRetryS * 1000);
    }
}

/** kubectl drain semantics for several nodes at once: cordon, then evict all their pods in parallel, honouring PDBs, with a timeout. */
async function drain(ctx: DrillContext, names: string[]): Promise<DrillOutcome> {
    if (names.length === 0) {
        // A drill that disrupts nothing would report a clean run: refuse instead.
        throw new Error(`no node${ctx.protectedNodes?.size ? ` outside ${[...ctx.protectedNodes].join(", ")}` : ""} holds a pod of the configuration: nothing to drain`);
    }
    const refused = noRefusals();
    for (const n of names) {
        await setUnschedulable(ctx.kube, n, true);
    }
    const deadline = Date.now() + ctx.timings.drainTimeoutS * 1000;
    const pods = (await Promise.all(names.map((n) => podsToEvict(ctx.kube, n)))).flat();
    const ours = pods.filter((p) => workloadOf(ctx, p)).length;
    const results = await Promise.all(pods.map((p) => evict(ctx, p, deadline, refused)));
    const key = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;
    const stuck = pods.filter((_, i) => !results[i]).map(key);
    // As kubectl drain does: wait for the evicted pods to be gone.
    await until(`the evicted pods to leave ${names.join(", ")}`, Math.max(5_000, deadline - Date.now()), async () =>
        (await Promise.all(names.map((n) => podsToEvict(ctx.kube, n)))).flat()
            .every((p) => stuck.includes(key(p))) ? true : undefined, 200)
        .catch(() => undefined);
    const notes = [`drained ${names.join(", ")}: ${pods.length} pods evicted (${ours} of backend/frontend), PDB refusals retried every ${ctx.timings.evictionRetryS} s`];
    if (stuck.length > 0) {
        notes.push(`drain timed out after ${ctx.timings.drainTimeoutS} s; not evicted: ${stuck.join(", ")}`);
    }
    return { refused, notes };
}

async function uncordonAll(ctx: DrillContext): Promise<void> {
    for (const n of await nodes(ctx.kube)) {
        if (n.spec?.unschedulable) {
            await setUnschedulable(ctx.kube, n.metadata?.name as string, false);
        }
    }
}

/** Drain the `count` busiest nodes at once (a node-pool upgrade drains several). */
function drainDrill(name: string, title: string, count: number): Drill {
    return { name, title, run: (ctx) => drain(ctx, busiestNodes(ctx).slice(0, count)), restore: uncordonAll };
}

export const drainOne = drainDrill("drain-one", "drain one node", 1);
export const drainTwo = drainDrill("drain-two", "drain two nodes at once", 2);

// ---------------------------------------------------------------------------------- zone loss
const lostNodes = new Map<string, V1Node>();

export const zoneLoss: Drill = {
    name: "zone-loss",
    title: "lose a zone",
    async run(ctx) {
        const all = await nodes(ctx.kube);
        const zoneOf = new Map(all.map((n) => [n.metadata?.name, n.metadata?.labels?.[ZONE_LABEL]]));
        const busiest = busiestNodes(ctx);
        const zone = zoneOf.get(busiest[0]) as string;
        const victims = all.filter((n) => n.metadata?.labels?.[ZONE_LABEL] === zone);
        const names = victims.map((n) => n.metadata?.name as string);
        const t0 = Date.now();
        // The zone fails: its nodes stop heartbeating (kwok stops managing a node without its
        // label) and nothing on them serves any more, whatever the API server still believes.
        for (const [i, n] of victims.entries()) {
            lostNodes.set(names[i], n);
            ctx.watch.deadNodes.add(names[i]);
            await ctx.kube.core.patchNode({ name: names[i], body: { metadata: { labels: { [KWOK_NODE_LABEL]: null } } } }, MERGE_PATCH);
        }
        // The node lifecycle controller marks them NotReady (Unknown) after its grace period.
        await until(`the node controller to mark ${zone}'s nodes NotReady`, 180_000, async () => {
            const now = await nodes(ctx.kube);
            return names.every((name) => !isNodeReady(now.find((n) => n.metadata?.name === name))) ? true : undefined;
        }, 500);
        const detectedS = (Date.now() - t0) / 1000;
        await sleep(ctx.timings.zoneNotReadyHoldS * 1000);
        for (const name of names) {
            await ctx.kube.core.deleteNode({ name });
        }
        const deletedS = (Date.now() - t0) / 1000;
        return {
            refused: noRefusals(),
            notes: [`lost ${zone} (${names.join(", ")}): heartbeats stopped at 0 s, `
                + `NotReady (node controller) at ${detectedS.toFixed(1)} s, nodes deleted at ${deletedS.toFixed(1)} s `
                + `(NotReady for ${(deletedS - detectedS).toFixed(1)} s); their pods counted as not serving from 0 s`],
            // The pod garbage collector deletes the pods of a deleted node after a 40 s quarantine.
            extraSettleS: 90,
        };
    },
    async restore(ctx) {
        // Recreate the zone's nodes as scripts/cluster/cluster.sh made them; kwok takes them over again.
        for (const [name, n] of lostNodes) {
            const node: V1Node = {
                apiVersion: "v1", kind: "Node",
                metadata: { name, labels: { ...n.metadata?.labels, [KWOK_NODE_LABEL]: "fake" }, annotations: n.metadata?.annotations },
                status: { capacity: n.status?.capacity, allocatable: n.status?.allocatable, nodeInfo: n.status?.nodeInfo },
            };
            await ctx.kube.core.createNode({ body: node });
            ctx.watch.deadNodes.delete(name);
        }
        const names = [...lostNodes.keys()];
        lostNodes.clear();
        await until(`recreated nodes ${names.join(", ")} Ready`, 120_000, async () => {
            const now = await nodes(ctx.kube);
            return names.every((name) => isNodeReady(now.find((n) => n.metadata?.name === name))) ? true : undefined;
        }, 500);
    },
};

// ---------------------------------------------------------------------------------- rollout
/** Waits until the Deployment's rollout is complete: every replica updated, ready and available, nothing old left. */
export async function rolledOut(kube: Kube, ref: { name: string; namespace: string }, timeoutMs = 600_000): Promise<void> {
    await until(`the rollout of ${ref.namespace}/${ref.name}`, timeoutMs, async () => {
        const now = await kube.apps.readNamespacedDeployment(ref);
        const s = now.status ?? {};
        const want = now.spec?.replicas;
        return (s.observedGeneration ?? 0) >= (now.metadata?.generation ?? 0) && s.updatedReplicas === want
            && s.replicas === want && s.readyReplicas === want && s.availableReplicas === want ? true : undefined;
    }, 500);
}

/** The pod-template annotation a rollout changes (what `kubectl rollout restart` does with its own key). */
export const ROLLOUT_ANNOTATION = "kubepolaris.io/drill-rollout";

export const rollout: Drill = {
    name: "rollout",
    title: "rolling update of the backend",
    async run(ctx) {
        const ref = { name: ctx.deployments.backend, namespace: ctx.namespace };
        const d = await ctx.kube.apps.readNamespacedDeployment(ref);
        const strategy = d.spec?.strategy?.rollingUpdate ?? {};
        // A new pod template makes the same rolling update a new image does, with an image every
        // node already has (real nodes pull nothing).
        await ctx.kube.apps.patchNamespacedDeployment({ ...ref, body: { spec: { template: { metadata: { annotations: {
            [ROLLOUT_ANNOTATION]: new Date().toISOString() } } } } } }, STRATEGIC_MERGE_PATCH);
        await rolledOut(ctx.kube, ref);
        return {
            refused: noRefusals(),
            notes: [`backend pod template changed (${ROLLOUT_ANNOTATION}): maxSurge ${strategy.maxSurge ?? "25%"}, maxUnavailable ${strategy.maxUnavailable ?? "25%"}, minReadySeconds ${d.spec?.minReadySeconds ?? 0}`],
        };
    },
    async restore() {
        // Nothing to undo: the new template is as good as the old one.
    },
};

// ---------------------------------------------------------------------------------- chaos
/** A small seeded generator (mulberry32), so every configuration meets the same sequence of choices. */
export function seededRandom(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export const chaos: Drill = {
    name: "chaos",
    title: "chaos: delete a random pod every few seconds",
    async run(ctx) {
        const random = seededRandom(11);
        const deleted = noRefusals();
        const end = Date.now() + ctx.timings.chaosDurationS * 1000;
        while (Date.now() < end) {
            const workload = random() < 0.5 ? "backend" : "frontend";
            const candidates = ctx.watch.podsOf(workload).filter((p) => !p.metadata?.deletionTimestamp)
                .map((p) => p.metadata?.name as string).sort((a, b) => a.localeCompare(b));
            const pick = random();
            if (candidates.length > 0) {
                const name = candidates[Math.floor(pick * candidates.length)];
                // Already gone (the watch lags behind): not counted.
                if (await unlessNotFound(ctx.kube.core.deleteNamespacedPod({ name, namespace: ctx.namespace })) !== undefined) {
                    deleted[workload]++;
                }
            }
            await sleep(Math.min(ctx.timings.chaosIntervalS * 1000, Math.max(0, end - Date.now())));
        }
        return {
            refused: noRefusals(),
            notes: [`deleted ${deleted.backend + deleted.frontend} pods in ${ctx.timings.chaosDurationS} s, one every ${ctx.timings.chaosIntervalS} s `
                + `(${deleted.backend} backend, ${deleted.frontend} frontend; deletions bypass PDBs)`],
        };
    },
    async restore() {
        // Nothing to undo: the ReplicaSets replaced the pods.
    },
};

export const DRILLS: readonly Drill[] = [drainOne, drainTwo, rollout, chaos, zoneLoss];
/** What runs on real nodes today (a zone loss there stops the zone's processes: not built yet). */
export const REAL_DRILLS: readonly Drill[] = [drainOne, drainTwo, rollout, chaos];
