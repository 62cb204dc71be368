// The drills: what each does to the cluster, and how each puts the cluster back afterwards.
// Each `run` disrupts and returns when its disruption is over (the runner then waits for the
// workloads to come back); `restore` returns the cluster to the state every drill starts from.
import * as fs from "fs";
import * as path from "path";
import { Workload, WORKLOADS } from "./figures";
import type { V1Node, V1Pod, V1PodDisruptionBudgetSpec, V1PodDNSConfig } from "@kubernetes/client-node";
import { disruptionBudget } from "../../policy/rules/k8s";
import { sleep, until } from "../../tools/until";
import { httpStatus, isNodeReady, isPodReady, Kube, MERGE_PATCH, STRATEGIC_MERGE_PATCH, unlessNotFound } from "./kube";
import { failed, loginToken, RequestKind, RequestRecord, Traffic } from "./traffic";
import { PodWatch } from "./sampler";
import { MEMBER_LOSS_GOAL, memberLossProblems, recoveryFigures, RecoveryFigures, parseWriterLog, searchListName, WriteFigures, writeFigures, WriteGoal, WriterLog, writerObjects } from "./dbWrites";

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
    /** Scale-out: how long the login flood drives the backend's CPU, and its rate (logins per second). */
    scaleOutLoadS: number;
    scaleOutLoginRate: number;
    /** Scale-out: how long the HPA may take to come back to its minimum once the flood stops. */
    scaleInTimeoutS: number;
}

export const FULL_TIMINGS: DrillTimings = {
    drainTimeoutS: 120, evictionRetryS: 2, chaosDurationS: 60, chaosIntervalS: 5, zoneNotReadyHoldS: 15,
    scaleOutLoadS: 150, scaleOutLoginRate: 15, scaleInTimeoutS: 600,
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
    /** Real nodes: what only the cluster's own script can do to a node (scripts/cluster/cluster.sh). */
    nodeControl?: NodeControl;
    /** Real nodes: the edge and the admin's login, for drills that wait until logins work again. */
    login?: { url: string; username: string; password: string };
    /** Real nodes: the database (its pods and the Service the backend uses), for the database drills. */
    database?: DatabaseTarget;
    /** Real nodes: the operator's `npm run db:<verb>` (scripts/db/db.ts) against this cluster, for the recovery drill. */
    databaseCommand?: (args: string[]) => Promise<{ status: number; out: string }>;
    /** Real nodes: more load through the edge, beside the measured traffic (the scale-out drill's CPU). */
    extraLoad?: (o: { name: string; rate: number; seconds: number; mix: readonly RequestKind[] }) => Promise<Traffic>;
}

/** A real node stopped as a lost machine stops (its pods frozen, kubelet, containerd and shims stopped), and brought back. */
export interface NodeControl {
    partition(nodes: string[]): void;
    heal(nodes: string[]): void;
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
    /** How long its disruption may last (the traffic is bounded by it); default: the drain timeout. */
    maxRunS?: (t: DrillTimings) => number;
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

// ------------------------------------------------------------------- zone loss, real nodes
/** The default `node.kubernetes.io/unreachable` toleration (DefaultTolerationSeconds admission): the slowest a real zone loss can be. */
const DEFAULT_TOLERATION_S = 300;
/** How long the zone-loss drill writes (from outside the zone): past the nodes' NotReady (about 50 s). */
const ZONE_LOSS_WRITE_S = 100;

/** The zone of the busiest node outside the protected ones, and every node in it (none protected). */
async function zoneToLose(ctx: DrillContext): Promise<{ zone: string; names: string[] }> {
    const all = await nodes(ctx.kube);
    const zoneOf = (name: string) => all.find((n) => n.metadata?.name === name)?.metadata?.labels?.[ZONE_LABEL];
    const guarded = new Set([...ctx.protectedNodes ?? []].map(zoneOf));
    const zone = busiestNodes(ctx).map(zoneOf).find((z) => z !== undefined && !guarded.has(z));
    if (!zone) {
        throw new Error(`no zone outside the protected nodes' (${[...ctx.protectedNodes ?? []].join(", ")}) holds a pod of the configuration: nothing to lose`);
    }
    return { zone, names: all.filter((n) => n.metadata?.labels?.[ZONE_LABEL] === zone).map((n) => n.metadata?.name as string) };
}

const lostZones = new Map<DrillContext, string[]>();

/**
 * A zone lost as it happens on real nodes: its machines stop (scripts/cluster/cluster.sh partition:
 * pods frozen, kubelet, containerd and shims stopped), the nodes go NotReady and stay (nobody
 * deletes them). The endpoints drop the pods once the node controller marks them not ready; the
 * pods are evicted when their unreachable/not-ready toleration runs out, and the ReplicaSets
 * replace them elsewhere. It returns once they are evicted; the runner then waits for capacity.
 */
export const zoneLossReal: Drill = {
    name: "zone-loss",
    title: "lose a zone (its machines stop)",
    maxRunS: () => 120 + DEFAULT_TOLERATION_S + 60,
    async run(ctx) {
        const control = ctx.nodeControl;
        if (!control) {
            throw new Error("zone loss on real nodes needs the cluster's partition command");
        }
        const { zone, names } = await zoneToLose(ctx);
        const lost = (p: V1Pod) => names.includes(p.spec?.nodeName ?? "");
        const ours = () => WORKLOADS.flatMap((w) => ctx.watch.podsOf(w)).filter(lost);
        const victims = ours().map((p) => p.metadata?.uid);
        // With the database in the cluster: numbered writes from outside the zone through the
        // backend's database Service, and the worst case for them: a cluster DNS pod in the zone
        // (every new connection looks the Service's name up).
        const dnsLost = ctx.database ? await clusterDnsPodIn(ctx, names) : [];
        const writer = ctx.database && await startWriterPair(ctx, ctx.database, ZONE_LOSS_WRITE_S, names);
        if (writer) {
            await sleep(WRITE_LEAD_S * 1000);
        }
        const t0 = Date.now();
        const at = () => ((Date.now() - t0) / 1000).toFixed(1);
        for (const n of names) {
            ctx.watch.deadNodes.add(n);
        }
        lostZones.set(ctx, names);
        control.partition(names);
        await until(`the node controller to mark ${zone}'s nodes NotReady`, 180_000, async () => {
            const now = await nodes(ctx.kube);
            return names.every((name) => !isNodeReady(now.find((n) => n.metadata?.name === name))) ? true : undefined;
        }, 500);
        const notReadyS = at();
        // The node controller sets the pods' Ready condition to False: the endpoints drop them.
        await until(`${zone}'s pods marked not ready`, 60_000, async () =>
            ours().every((p) => !isPodReady(p)) ? true : undefined, 200);
        const podsNotReadyS = at();
        const podsNotReadyAt = Date.now();
        // The taint manager evicts them when their toleration runs out (deleted, never finished:
        // their kubelet is stopped); the ReplicaSets replace them at once.
        const tolerations = new Set(ours().flatMap((p) => (p.spec?.tolerations ?? [])
            .filter((t) => t.key === "node.kubernetes.io/unreachable").map((t) => t.tolerationSeconds)));
        await until(`${zone}'s pods evicted`, (DEFAULT_TOLERATION_S + 120) * 1000, async () =>
            ours().filter((p) => victims.includes(p.metadata?.uid)).every((p) => p.metadata?.deletionTimestamp) ? true : undefined, 200);
        const notes = [`lost ${zone} (${names.join(", ")}, ${victims.length} pods of backend/frontend): machines stopped at 0 s, `
            + `nodes NotReady at ${notReadyS} s, their pods not ready (out of the endpoints) at ${podsNotReadyS} s, `
            + `evicted at ${at()} s (unreachable toleration ${[...tolerations].join("/") || "none"} s); the nodes are kept, NotReady`];
        if (writer) {
            const { asBackend, plain } = await writer.finish(t0 / 1000 - WRITE_LEAD_S / 2, { from: t0 / 1000, to: podsNotReadyAt / 1000 }, MACHINE_LOSS_GOAL);
            notes.push(`cluster DNS pods lost with the zone: ${dnsLost.join(", ") || "none"}; ${asBackend}`, plain);
        }
        return { refused: noRefusals(), notes };
    },
    async restore(ctx) {
        const names = lostZones.get(ctx) ?? [];
        lostZones.delete(ctx);
        if (names.length === 0) {
            return;
        }
        ctx.nodeControl?.heal(names);
        for (const n of names) {
            ctx.watch.deadNodes.delete(n);
        }
        await until(`healed nodes ${names.join(", ")} Ready`, 180_000, async () => {
            const now = await nodes(ctx.kube);
            return names.every((name) => isNodeReady(now.find((n) => n.metadata?.name === name))) ? true : undefined;
        }, 500);
    },
};

// ------------------------------------------------------------------------------ database
/** Where the drills write numbered rows: the database Service the backend uses (scripts/drill/dbWrites.ts). */
export interface DatabaseTarget {
    /** Label selector of the database's pods (one pod, or the Galera members). */
    selector: string;
    /** The database pods' labels where their namespace denies traffic by default (the writer gets NetworkPolicies); undefined: it does not. */
    labels?: Record<string, string>;
    /** Where the database's pods, Service and Secret are (the writer runs there too). */
    namespace: string;
    /** Whether the app uses this database (false: a baseline's own, measured by the writes alone). */
    servesTheApp: boolean;
    /** What it is, for the report ("Galera, 3 members", "one pod", "one pod of its own"). */
    description: string;
    host: string;
    /** The backend pods' resolver options (the writer looks the host up as they do). */
    dnsConfig?: V1PodDNSConfig;
    port: number;
    database: string;
    user: string;
    passwordSecret: { name: string; key: string };
    /** The database's own image (it has the client), as the pods run it, and its user. */
    image: string;
    uid: number;
    /** The database's StatefulSet. */
    statefulSet: string;
    /** Minutes between scheduled dumps (the schedule's worst RPO). */
    backupIntervalMinutes: number;
}

/** The recovery drill's figures (DrillResult.recovery). */
export const drillRecoveries = new Map<DrillContext, RecoveryFigures>();

/** What the numbered writes met during a database drill (DrillResult.writes), judged against the drill's goal. */
export const drillWrites = new Map<DrillContext, DrillWrites>();

/** A database drill's writes as the report shows them. */
export type DrillWrites = WriteFigures & {
    goal: string;
    problems: string[];
    /** Which database the drill disrupted (DatabaseTarget.description). */
    database: string;
    /** The plain client's longest pause in the same loss, where one ran beside (startWriterPair). */
    plainLongestGapS?: number;
};

/** The database issue's goals: a member loss (its pod or its machine) gets writes back within 30 s; a full restart comes back by itself; nothing acknowledged is ever lost. */
const MACHINE_LOSS_GOAL: WriteGoal = { maxGapS: 30, whileAway: true, text: "none lost, writes go on while it is away, never stopped more than 30 s" };
const FULL_RESTART_GOAL: WriteGoal = { whileAway: false, text: "none lost, back without a human" };

const CLUSTER_DNS = { namespace: "kube-system", labelSelector: "k8s-app=kube-dns" };

/**
 * The worst case a machine or zone loss can meet, made on purpose: at least one cluster DNS pod on
 * the machines about to be lost and at least one elsewhere (a loss that takes every DNS pod is a
 * DNS outage, not this). Moves pods by cordoning and deleting: one onto `lost[0]` if the lost
 * machines run none, one away from them if they run all. Returns the DNS pods on the lost machines.
 */
async function clusterDnsPodIn(ctx: DrillContext, lost: string[]): Promise<string[]> {
    const dnsPods = async () => (await ctx.kube.core.listNamespacedPod(CLUSTER_DNS)).items.filter((p) => !p.metadata?.deletionTimestamp);
    const inLost = (p: V1Pod) => lost.includes(p.spec?.nodeName ?? "");
    const wanted = (await dnsPods()).length;
    // Deletes `victim` while only `allowed` take pods, and waits for its replacement there.
    const move = async (victim: V1Pod, allowed: (node: string) => boolean, placed: (pods: V1Pod[]) => boolean) => {
        // Only the nodes that take pods now are cordoned, and only they are given back.
        const cordon = (await nodes(ctx.kube)).filter((n) => !n.spec?.unschedulable).map((n) => n.metadata!.name!).filter((n) => !allowed(n));
        try {
            for (const n of cordon) {
                await setUnschedulable(ctx.kube, n, true);
            }
            await ctx.kube.core.deleteNamespacedPod({ namespace: CLUSTER_DNS.namespace, name: victim.metadata!.name! });
            await until("the moved cluster DNS pod ready", 120_000, async () => {
                const now = (await dnsPods()).filter(isPodReady);
                return now.length >= wanted && placed(now) ? true : undefined;
            }, 500);
        } finally {
            for (const n of cordon) {
                await setUnschedulable(ctx.kube, n, false);
            }
        }
    };
    let pods = await dnsPods();
    if (!pods.some(inLost)) {
        await move(pods[0], (n) => n === lost[0], (now) => now.some(inLost));
        pods = await dnsPods();
    }
    if (pods.every(inLost)) {
        await move(pods.find(inLost)!, (n) => !lost.includes(n), (now) => now.some(inLost) && !now.every(inLost));
        pods = await dnsPods();
    }
    return pods.filter(inLost).map((p) => p.metadata!.name!);
}

async function databasePods(ctx: DrillContext, target: DatabaseTarget): Promise<V1Pod[]> {
    return (await ctx.kube.core.listNamespacedPod({ namespace: target.namespace, labelSelector: target.selector })).items
        .filter((p) => !p.metadata?.deletionTimestamp)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/**
 * Starts the writer for `seconds` (not on `avoidNodes`); `finish` waits for its read-back and removes it.
 * `client` changes how it looks the database up (default: as the backend does).
 */
async function startWriter(ctx: DrillContext, target: DatabaseTarget, seconds: number, avoidNodes: string[] = [],
    client: { suffix: string; host: string; dnsConfig?: V1PodDNSConfig } = { suffix: "", host: target.host, dnsConfig: target.dnsConfig }) {
    const name = `drill-writer-${Date.now() % 1_000_000}${client.suffix}`;
    const objects = writerObjects({
        name, namespace: target.namespace, image: target.image, uid: target.uid, host: client.host, port: target.port,
        database: target.database, user: target.user, passwordSecret: target.passwordSecret, databaseLabels: target.labels,
        dnsConfig: client.dnsConfig, seconds, avoidNodes,
    });
    for (const o of objects) {
        await ctx.kube.apply(o as any);
    }
    const logText = async () => unlessNotFound(ctx.kube.core.readNamespacedPodLog({ name, namespace: target.namespace })).catch(() => undefined);
    await until("the writer's first acknowledged write", 120_000, async () => /^ok /m.test((await logText()) ?? "") ? true : undefined, 500);
    return {
        async finish(): Promise<WriterLog> {
            try {
                await until("the writer to finish and read back", (seconds + 300) * 1000, async () => {
                    const pod = await unlessNotFound(ctx.kube.core.readNamespacedPod({ name, namespace: target.namespace }));
                    return pod && ["Succeeded", "Failed"].includes(pod.status?.phase ?? "") ? true : undefined;
                }, 1000);
                return parseWriterLog((await logText()) ?? "");
            } finally {
                for (const o of objects) {
                    await ctx.kube.remove(o as any);
                }
            }
        },
    };
}

/**
 * Two writers from outside `avoidNodes` for `seconds`: one that looks the database up as the
 * backend does (its name and resolver options: the one judged), and beside it a plain client (the
 * cluster's default resolver, the short name the search list completes): the same loss at the
 * same moment, so the report shows what the resolver settings are worth.
 */
async function startWriterPair(ctx: DrillContext, target: DatabaseTarget, seconds: number, avoidNodes: string[]) {
    const [asBackend, plain] = await Promise.all([
        startWriter(ctx, target, seconds, avoidNodes),
        startWriter(ctx, target, seconds, avoidNodes, { suffix: "-plain", host: searchListName(target.host) }),
    ]);
    return {
        /** Both logs read back; `asBackend` is recorded against `goal`; each says its figures in a note. */
        async finish(since: number, away: { from: number; to: number }, goal: WriteGoal): Promise<{ asBackend: string; plain: string }> {
            const [log, plainLog] = await Promise.all([asBackend.finish(), plain.finish()]);
            const f = writeFigures(plainLog, since, away);
            return {
                asBackend: recordWrites(ctx, target, log, since, away, goal, f.longestGapS),
                plain: writesNote(`beside it, a plain client (the cluster's default resolver, the short name ${searchListName(target.host)})`, f, plainLog),
            };
        },
    };
}

/** Records the writes' figures for the report and says them in a note. */
function recordWrites(ctx: DrillContext, target: DatabaseTarget, log: WriterLog, since: number, away: { from: number; to: number }, goal: WriteGoal,
    plainLongestGapS?: number): string {
    const f = writeFigures(log, since, away);
    const problems = memberLossProblems(f, log.present !== undefined, goal);
    drillWrites.set(ctx, { ...f, goal: goal.text, problems, database: target.description, plainLongestGapS });
    return writesNote("numbered writes through the Service", f, log);
}

/** One writer's figures in a sentence, for the report's notes. */
function writesNote(who: string, f: WriteFigures, log: WriterLog): string {
    return `${who}: ${f.acknowledged} acknowledged, ${f.failed} failed${Object.keys(f.errors).length ? ` (${Object.entries(f.errors).map(([e, n]) => `${n}× ${e}`).join("; ")})` : ""}, `
        + `${f.acknowledgedWhileAway} acknowledged while it was away, longest without a write ${f.longestGapS} s (from ${f.gapStartS} s), `
        + `${log.present ? `${f.lost.length} acknowledged writes lost` : "never read back"}`;
}

function databaseTarget(ctx: DrillContext): { target: DatabaseTarget; login: NonNullable<DrillContext["login"]> } {
    if (!ctx.database || !ctx.login) {
        throw new Error("the database drills need real nodes (the edge's login and the database's Service)");
    }
    return { target: ctx.database, login: ctx.login };
}

const WRITE_LEAD_S = 10;

/** Waits (up to 2 minutes) until a login through the edge works again. */
function untilLogin(login: NonNullable<DrillContext["login"]>): Promise<true> {
    return until("a login through the edge", 120_000, () => loginToken(login).then(() => true as const, () => undefined), 250);
}

/**
 * A database pod killed (deleted with its grace period, as a node's OOM kill or an operator
 * would): a Galera member (the first), or the single pod. The StatefulSet starts it again on its
 * volume. Measured: numbered writes through the backend's Service, when the pod is back and ready
 * (for a member: synced again), when a login through the edge works.
 */
export const databaseRestart: Drill = {
    name: "database-restart",
    title: "kill a database pod (a Galera member, or the single pod)",
    maxRunS: () => 360,
    async run(ctx) {
        const { target, login } = databaseTarget(ctx);
        const pods = await databasePods(ctx, target);
        const old = pods[0];
        const writer = await startWriter(ctx, target, 60);
        await sleep(WRITE_LEAD_S * 1000);
        const t0 = Date.now();
        const at = () => ((Date.now() - t0) / 1000).toFixed(1);
        await ctx.kube.core.deleteNamespacedPod({ name: old.metadata?.name as string, namespace: target.namespace });
        await until("the new database pod ready", 300_000, async () =>
            (await databasePods(ctx, target)).some((p) => p.metadata?.name === old.metadata?.name && p.metadata?.uid !== old.metadata?.uid && isPodReady(p)) ? true : undefined, 250);
        const backAt = Date.now();
        const readyS = at();
        const loginS = target.servesTheApp ? (await untilLogin(login), `a login through the edge worked at ${at()} s`) : "the app does not use it";
        const log = await writer.finish();
        return {
            refused: noRefusals(),
            notes: [`database pod ${old.metadata?.name} (${pods.length} pod(s)) deleted at 0 s (grace ${old.spec?.terminationGracePeriodSeconds ?? 30} s): `
                + `back and ready at ${readyS} s, ${loginS}`,
            recordWrites(ctx, target, log, t0 / 1000 - WRITE_LEAD_S / 2, { from: t0 / 1000, to: backAt / 1000 }, MEMBER_LOSS_GOAL)],
        };
    },
    async restore() {
        // Nothing to undo: the StatefulSet started the pod again on the same volume.
    },
};

const lostDatabaseNodes = new Map<DrillContext, string[]>();
/** How long a database drill keeps a node lost before it heals it. */
const DATABASE_NODE_LOSS_S = 90;

/**
 * The machine under a database pod (the first Galera member, or the single pod) stops as a lost
 * machine does (scripts/cluster/cluster.sh partition): its pods stop answering without closing a
 * connection, the node goes NotReady and stays. After DATABASE_NODE_LOSS_S the machine comes back.
 * Measured: writes while it is gone, and how long until every member is synced again.
 */
export const databaseNodeLoss: Drill = {
    name: "database-node-loss",
    title: "lose the machine under a database pod",
    maxRunS: () => DATABASE_NODE_LOSS_S + 300,
    async run(ctx) {
        const { target } = databaseTarget(ctx);
        const control = ctx.nodeControl;
        if (!control) {
            throw new Error("losing a machine needs the cluster's partition command");
        }
        const pods = await databasePods(ctx, target);
        const victim = pods[0];
        const node = victim.spec?.nodeName as string;
        // The worst case: the machine also runs a cluster DNS pod (the other stays up elsewhere).
        const dnsLost = await clusterDnsPodIn(ctx, [node]);
        const writer = await startWriterPair(ctx, target, DATABASE_NODE_LOSS_S + 40, [node]);
        await sleep(WRITE_LEAD_S * 1000);
        const t0 = Date.now();
        const at = () => ((Date.now() - t0) / 1000).toFixed(1);
        ctx.watch.deadNodes.add(node);
        lostDatabaseNodes.set(ctx, [node]);
        control.partition([node]);
        await until(`${node} NotReady`, 180_000, async () => !isNodeReady((await nodes(ctx.kube)).find((n) => n.metadata?.name === node)) ? true : undefined, 500);
        const notReadyS = at();
        await sleep(Math.max(0, DATABASE_NODE_LOSS_S * 1000 - (Date.now() - t0)));
        control.heal([node]);
        ctx.watch.deadNodes.delete(node);
        lostDatabaseNodes.delete(ctx);
        const healedS = at();
        await until("every database pod ready again", 600_000, async () => {
            const now = await databasePods(ctx, target);
            return now.length === pods.length && now.every(isPodReady) ? true : undefined;
        }, 500);
        const backAt = Date.now();
        const { asBackend, plain } = await writer.finish(t0 / 1000 - WRITE_LEAD_S / 2, { from: t0 / 1000, to: t0 / 1000 + DATABASE_NODE_LOSS_S }, MACHINE_LOSS_GOAL);
        return {
            refused: noRefusals(),
            notes: [`${node} (under ${victim.metadata?.name}, ${pods.length} database pod(s); cluster DNS pods on it: ${dnsLost.join(", ") || "none"}) `
                + `stopped at 0 s, NotReady at ${notReadyS} s, back at ${healedS} s; every database pod ready (synced) at ${((backAt - t0) / 1000).toFixed(1)} s`,
            asBackend, plain],
        };
    },
    async restore(ctx) {
        const lost = lostDatabaseNodes.get(ctx);
        if (lost) {
            ctx.nodeControl?.heal(lost);
            lostDatabaseNodes.delete(ctx);
        }
    },
};

/**
 * Every database pod deleted at once (a full restart: all members leave together). Galera must
 * come back without a human (galera/start.sh picks the member with the newest commit). Measured:
 * when writes resume, when every member is synced, writes lost.
 */
export const databaseFullRestart: Drill = {
    name: "database-full-restart",
    title: "restart every database pod at once",
    maxRunS: () => 420,
    async run(ctx) {
        const { target, login } = databaseTarget(ctx);
        const pods = await databasePods(ctx, target);
        const writer = await startWriter(ctx, target, 120);
        await sleep(WRITE_LEAD_S * 1000);
        const t0 = Date.now();
        const at = () => ((Date.now() - t0) / 1000).toFixed(1);
        await Promise.all(pods.map((p) => ctx.kube.core.deleteNamespacedPod({ name: p.metadata?.name as string, namespace: target.namespace })));
        await until("every database pod back and ready", 400_000, async () => {
            const now = await databasePods(ctx, target);
            return now.length === pods.length && now.every((p) => isPodReady(p) && !pods.some((o) => o.metadata?.uid === p.metadata?.uid)) ? true : undefined;
        }, 250);
        const backAt = Date.now();
        const readyS = at();
        const loginS = target.servesTheApp ? (await untilLogin(login), `a login through the edge at ${at()} s`) : "the app does not use it";
        const log = await writer.finish();
        const firstWrite = log.attempts.find((a) => a.ok && a.at > t0 / 1000 + 1);
        return {
            refused: noRefusals(),
            notes: [`all ${pods.length} database pod(s) deleted at 0 s: writes acknowledged again at `
                + `${firstWrite ? (firstWrite.at - t0 / 1000).toFixed(1) : "—"} s, every pod ready at ${readyS} s, ${loginS}`,
            recordWrites(ctx, target, log, t0 / 1000 - WRITE_LEAD_S / 2, { from: t0 / 1000, to: backAt / 1000 }, FULL_RESTART_GOAL)],
        };
    },
    async restore() {
        // Nothing to undo: the StatefulSet started every pod again on its volume.
    },
};

/**
 * The recovery drill (the HA guide's 恢复演练): the whole database lost, every member and its
 * volume, and brought back from the newest dump by the operator's commands. Numbered writes run
 * throughout; `npm run db:backup` takes a dump 10 s in; 20 s later the StatefulSet goes to 0, the
 * members' claims are deleted and their volumes wiped and handed back blank; the StatefulSet comes
 * back as an empty cluster; `npm run db:restore -- latest` loads the dump. Measured: RTO (the loss
 * until a login through the edge works), the drill's RPO (the loss minus the dump), writes
 * acknowledged before the dump that are missing (must be none), and those after it (lost by design).
 */
export const databaseRecovery: Drill = {
    name: "database-recovery",
    title: "lose every database member and its volume, restore the newest dump",
    maxRunS: () => 900,
    async run(ctx) {
        const { target, login } = databaseTarget(ctx);
        if (!ctx.databaseCommand) {
            throw new Error("the recovery drill needs the db:* commands against the cluster (real nodes)");
        }
        const statefulSet = target.statefulSet;
        const pods = await databasePods(ctx, target);
        const members = pods.length;
        const writer = await startWriter(ctx, target, 420);
        await sleep(WRITE_LEAD_S * 1000);
        const dumpStart = Date.now() / 1000;
        const backup = await ctx.databaseCommand(["backup"]);
        if (backup.status !== 0) {
            throw new Error(`npm run db:backup failed: ${backup.out.trim()}`);
        }
        const dump = /dumped (\S+\.sql\.gz)/.exec(backup.out)?.[1] ?? "?";
        await sleep(20_000);

        // The loss: no member, no volume.
        const t0 = Date.now();
        const at = () => ((Date.now() - t0) / 1000).toFixed(1);
        const claims = (await ctx.kube.core.listNamespacedPersistentVolumeClaim({ namespace: ctx.namespace })).items
            .filter((c) => pods.some((p) => c.metadata?.name === `data-${p.metadata?.name}`));
        await ctx.kube.apps.patchNamespacedStatefulSet({ name: statefulSet, namespace: ctx.namespace, body: { spec: { replicas: 0 } } }, MERGE_PATCH);
        await until("every member gone", 300_000, async () => (await databasePods(ctx, target)).length === 0 ? true : undefined, 250);
        for (const claim of claims) {
            await unlessNotFound(ctx.kube.core.deleteNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace: ctx.namespace }));
        }
        await blankVolumes(ctx, claims.map((c) => c.spec?.volumeName).filter((v): v is string => Boolean(v)));
        const lostS = at();
        ctx.log(`database-recovery: ${members} members and their ${claims.length} volumes gone at ${lostS} s`);

        // An empty cluster, then the dump.
        await ctx.kube.apps.patchNamespacedStatefulSet({ name: statefulSet, namespace: ctx.namespace, body: { spec: { replicas: members } } }, MERGE_PATCH);
        await until("an empty cluster of every member ready", 600_000, async () => {
            const now = await databasePods(ctx, target);
            return now.length === members && now.every(isPodReady) ? true : undefined;
        }, 250);
        const emptyReadyS = at();
        const restoreStart = Date.now();
        const restore = await ctx.databaseCommand(["restore", "latest"]);
        if (restore.status !== 0) {
            throw new Error(`npm run db:restore -- latest failed: ${restore.out.trim()}`);
        }
        const restoreS = ((Date.now() - restoreStart) / 1000).toFixed(1);
        await untilLogin(login);
        const rtoS = (Date.now() - t0) / 1000;
        const log = await writer.finish();
        const f = recoveryFigures(log, { dumpStart, lost: t0 / 1000, rtoS, intervalMinutes: target.backupIntervalMinutes });
        drillRecoveries.set(ctx, f);
        return {
            refused: noRefusals(),
            notes: [`dump ${dump} taken ${(t0 / 1000 - dumpStart).toFixed(1)} s before the loss; every member and volume gone at ${lostS} s, `
                + `an empty cluster ready at ${emptyReadyS} s, db:restore took ${restoreS} s, a login through the edge at ${rtoS.toFixed(1)} s (RTO)`,
            `numbered writes: ${f.acknowledgedBeforeDump} acknowledged before the dump (${f.missingBeforeDump.length} missing after the restore), `
                + `${f.lostAfterDump} acknowledged after it and lost by design; RPO in this drill ${f.drillRpoS} s, the schedule's worst ${f.scheduleRpoS} s; `
                + (f.problems.length ? `NOT MET: ${f.problems.join("; ")}` : "RTO < 30 min and RPO < 1 h: met")],
        };
    },
    async restore() {
        // Nothing to undo: the cluster was rebuilt and the dump restored (the drill's own writes are
        // in it until the writer drops its table).
    },
};

/**
 * The members' volumes wiped and handed back blank: what a replacement disk is. The local
 * cluster's pre-made volumes are directories on this host (scripts/cluster/parts/objects.sh);
 * the drill refuses any other kind rather than leave a real disk's data in place.
 */
async function blankVolumes(ctx: DrillContext, names: string[]): Promise<void> {
    for (const name of names) {
        await until(`volume ${name} released`, 120_000, async () =>
            (await ctx.kube.core.readPersistentVolume({ name })).status?.phase === "Released" ? true : undefined, 250);
        const pv = await ctx.kube.core.readPersistentVolume({ name });
        const dir = pv.spec?.hostPath?.path;
        if (!dir) {
            throw new Error(`volume ${name} is not one of the local cluster's directories: the drill will not wipe it`);
        }
        for (const entry of fs.readdirSync(dir)) {
            fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
        }
        await ctx.kube.core.patchPersistentVolume({ name, body: { spec: { claimRef: null } } }, MERGE_PATCH);
    }
}

// ------------------------------------------------------------------------------ scale-out
/** One look at the backend while it scales: its size, where its ready pods are, what its PDB allows. */
export interface ScaleSample {
    t: number;
    replicas: number;
    ready: number;
    /** Ready pods per zone. */
    zones: Record<string, number>;
    /** The PDB's status (undefined: no PDB). */
    pdb?: { expected: number; healthy: number; allowed: number };
    /** The HPA's CPU utilization (% of requests) and desired count (undefined: no HPA). */
    hpa?: { cpu?: number; desired: number };
}

/** The largest difference of ready pods between two zones (every zone counted, empty ones too). */
export function zoneSkew(zones: Record<string, number>, allZones: readonly string[]): number {
    const counts = allZones.map((z) => zones[z] ?? 0);
    return Math.max(...counts) - Math.min(...counts);
}

/** The pods a live PDB keeps at n pods, as the disruption controller computes it (the pack's arithmetic). */
export function pdbFloor(spec: V1PodDisruptionBudgetSpec, n: number): number {
    const budget = disruptionBudget(spec, n);
    if ("problem" in budget) {
        throw new Error(`the backend's PDB ${budget.problem}`);
    }
    return budget.desiredHealthy;
}

/**
 * What the scale-out drill checks at every size the backend held with all its pods ready: the
 * PDB lets at least one pod go and keeps `floorAt` (undefined: no PDB to judge), and the zones
 * differ by at most one ready pod. Each problem names its size.
 */
export function checkSizes(samples: readonly ScaleSample[], allZones: readonly string[], floorAt?: (replicas: number) => number): { sizes: number[]; problems: string[] } {
    const settled = samples.filter((x) => x.ready === x.replicas && (!x.pdb || x.pdb.expected === x.replicas));
    const sizes = [...new Set(settled.map((x) => x.replicas))].sort((a, b) => a - b);
    const problems: string[] = [];
    for (const size of sizes) {
        const at = settled.filter((x) => x.replicas === size);
        const worst = at.reduce((a, b) => zoneSkew(b.zones, allZones) > zoneSkew(a.zones, allZones) ? b : a);
        if (zoneSkew(worst.zones, allZones) > 1) {
            problems.push(`at ${size} pods the zones differ by ${zoneSkew(worst.zones, allZones)} ready pods (${JSON.stringify(worst.zones)})`);
        }
        if (floorAt) {
            const pdb = at[at.length - 1].pdb;
            if (!pdb) {
                problems.push(`at ${size} pods the PDB reported no status`);
            } else if (pdb.allowed < 1) {
                problems.push(`at ${size} pods the PDB allows no disruption (a drain would hang)`);
            } else if (pdb.healthy - pdb.allowed < floorAt(size)) {
                problems.push(`at ${size} pods the PDB lets ${pdb.allowed} of ${pdb.healthy} go: below its floor of ${floorAt(size)}`);
            }
        }
    }
    return { sizes, problems };
}

/** The scale-out drill's samples, per drill context, for the runner's report. */
export const scaleSamples = new Map<DrillContext, ScaleSample[]>();

/**
 * Scale-out (扩容演练): a login flood through the edge (a login hashes a password: real CPU) for
 * scaleOutLoadS; the HPA scales the backend out on metrics-server's CPU figures, and back in once
 * the flood stops. The measured traffic runs all along: no request may fail while pods come and
 * go. At every size the PDB and the zone spread are checked (checkSizes).
 */
export const scaleOut: Drill = {
    name: "scale-out",
    title: "scale out under CPU load and back in",
    maxRunS: (t) => t.scaleOutLoadS + t.scaleInTimeoutS + 60,
    async run(ctx) {
        if (!ctx.extraLoad) {
            throw new Error("the scale-out drill needs real nodes (load through the edge)");
        }
        const ref = { name: ctx.deployments.backend, namespace: ctx.namespace };
        const hpa = await unlessNotFound(ctx.kube.autoscaling.readNamespacedHorizontalPodAutoscaler(ref));
        const pdbSpec = (await unlessNotFound(ctx.kube.policy.readNamespacedPodDisruptionBudget(ref)))?.spec;
        const zoneOf = new Map((await nodes(ctx.kube)).map((n) => [n.metadata?.name as string, n.metadata?.labels?.[ZONE_LABEL] ?? ""]));
        const allZones = [...new Set(zoneOf.values())].sort();
        const samples: ScaleSample[] = [];
        const t0 = Date.now();
        const sample = async (): Promise<ScaleSample> => {
            const d = await ctx.kube.apps.readNamespacedDeployment(ref);
            const zones: Record<string, number> = {};
            for (const p of ctx.watch.podsOf("backend").filter((x) => ctx.watch.serving(x))) {
                const z = zoneOf.get(p.spec?.nodeName ?? "") ?? "?";
                zones[z] = (zones[z] ?? 0) + 1;
            }
            const pdb = pdbSpec && (await ctx.kube.policy.readNamespacedPodDisruptionBudget(ref)).status;
            const h = hpa && (await ctx.kube.autoscaling.readNamespacedHorizontalPodAutoscaler(ref)).status;
            const x: ScaleSample = {
                t: Math.round((Date.now() - t0) / 100) / 10,
                replicas: d.spec?.replicas ?? 0,
                ready: d.status?.readyReplicas ?? 0,
                zones,
                pdb: pdb ? { expected: pdb.expectedPods ?? 0, healthy: pdb.currentHealthy ?? 0, allowed: pdb.disruptionsAllowed ?? 0 } : undefined,
                hpa: h ? { cpu: h.currentMetrics?.find((m) => m.resource?.name === "cpu")?.resource?.current?.averageUtilization, desired: h.desiredReplicas ?? 0 } : undefined,
            };
            samples.push(x);
            return x;
        };
        const min = hpa?.spec?.minReplicas ?? (await sample()).replicas;
        const flood = await ctx.extraLoad({ name: "flood", rate: ctx.timings.scaleOutLoginRate, seconds: ctx.timings.scaleOutLoadS + 30, mix: ["login"] });
        const floodEnd = Date.now() + ctx.timings.scaleOutLoadS * 1000;
        let logins: RequestRecord[] = [];
        try {
            while (Date.now() < floodEnd) {
                await sample();
                await sleep(1000);
            }
        } finally {
            logins = await flood.stop();
        }
        const floodS = (Date.now() - t0) / 1000;
        const peak = Math.max(...samples.map((x) => x.replicas));
        const peakAt = samples.find((x) => x.replicas === peak)?.t;
        // Back in: the HPA's scale-down window, then a pod at a time.
        let backInS: number | undefined;
        if (hpa && peak > min) {
            await until(`the backend back to ${min} pods`, ctx.timings.scaleInTimeoutS * 1000, async () => {
                const x = await sample();
                return x.replicas === min && x.ready === min ? true : undefined;
            }, 1000).then(() => { backInS = (Date.now() - t0) / 1000; }, () => undefined);
        }
        scaleSamples.set(ctx, samples);
        const { sizes, problems } = checkSizes(samples, allZones, pdbSpec && ((n) => pdbFloor(pdbSpec, n)));
        const cpuPeak = Math.max(0, ...samples.map((x) => x.hpa?.cpu ?? 0));
        const scaled = hpa
            ? `HPA ${min}–${hpa.spec?.maxReplicas}, CPU up to ${cpuPeak} % of requests: backend ${min} → ${peak} pods${peak > min ? ` (at ${peakAt} s)` : ""}`
                + (peak > min ? (backInS !== undefined ? `, back to ${min} at ${backInS.toFixed(0)} s` : `, not back to ${min} within ${ctx.timings.scaleInTimeoutS} s of the flood's end`) : "")
            : `no HPA: the backend stayed at ${peak} pods`;
        return {
            refused: noRefusals(),
            notes: [
                `login flood at ${ctx.timings.scaleOutLoginRate}/s for ${floodS.toFixed(0)} s (${logins.length} logins, ${logins.filter(failed).length} failed); ${scaled}`,
                `sizes held with every pod ready: ${sizes.join(", ") || "none"}; `
                + (problems.length ? `problems: ${problems.join("; ")}` : `at each${pdbSpec ? ", the PDB let at least one pod go and kept its floor, and" : ""} the zones differed by at most one ready pod`),
            ],
        };
    },
    async restore() {
        // Nothing to undo: the HPA brings the backend back to its minimum (the next drill's healthy wait sees to it).
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
/** On real nodes: a zone loss stops the zone's machines; the database restarts; the HPA scales on real CPU. */
export const REAL_DRILLS: readonly Drill[] = [drainOne, drainTwo, rollout, chaos, zoneLossReal, databaseRestart, databaseNodeLoss, databaseFullRestart, databaseRecovery, scaleOut];
