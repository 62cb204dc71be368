// The drill runner: start (or reuse) a local control plane, deploy each configuration in turn,
// run each drill on it from the same healthy state while a pod watch samples the ready pods, and
// hand back the series and figures. The CLI (cli.ts) and the CI test (test/drill) both call runDrills.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { componentName, podLabels } from "../../components/labels";
import { TIERS, Tier } from "../../config";
import { budgetsAt, configuration, Configuration, floorsAt, localStackFacts, REPO } from "./configs";
import { DatabaseTarget, Drill, DrillContext, drillRecoveries, DrillWrites, DRILLS, DrillTimings, drillWrites, NodeControl, REAL_DRILLS, rolledOut, ScaleSample, scaleSamples, setUnschedulable } from "./drills";
import { ONE_POD_DATABASE, onePodDatabaseObjects, RecoveryFigures, searchListName } from "./dbWrites";
import { perSecond, SecondPoint, startTraffic, trafficFigures, TrafficFigures, vegetaPath, loginToken } from "./traffic";
import { holdSockets, SocketFigures } from "./sockets";
import { socketSummary } from "./report";
import { Sample, Workload, WorkloadFigures, workloadFigures, WORKLOADS } from "./figures";
import { sleep, until } from "../../tools/until";
import { BACKEND } from "../../app/kubepolaris";
import { isNodeReady, isPodReady, Kube, unlessNotFound } from "./kube";
import { PodWatch, SAMPLE_MS } from "./sampler";

/** How long full capacity must hold before a drill counts as over. */
const STABLE_S = 3;

export interface RunOptions {
    /** kwok's fake nodes (many, pods only counted) or real nodes (three, requests served and measured). */
    nodes: "kwok" | "real";
    /** Real nodes: requests per second through the edge during every drill. */
    trafficRate: number;
    configs: string[];
    drills: string[];
    timings: DrillTimings;
    /** Where the cluster's state, the Pulumi state and the stack's mirror live. */
    workDir: string;
    portBase: number;
    /** kwok's pod start-up delay for a cluster this run starts (e.g. "10s"). */
    startDelay: string;
    /** Stop the cluster at the end only if this run started it. */
    keepCluster: boolean;
    /** After the disruption, how long to wait for full capacity before giving up. */
    settleS: number;
    log: (message: string) => void;
}

export interface DrillResult {
    drill: string;
    title: string;
    config: string;
    wallS: number;
    notes: string[];
    figures: Record<Workload, Omit<WorkloadFigures, "belowFloorS">>;
    samples: Sample[];
    /** The scale-out drill: the backend's size, zones, PDB and HPA, once a second. */
    scale?: ScaleSample[];
    /** The database drills: what numbered writes through the backend's database Service met, and the failover check's problems. */
    writes?: DrillWrites;
    /** The recovery drill: RTO, RPO, writes missing after the restore. */
    recovery?: RecoveryFigures;
    /** Real nodes: what the traffic through the edge met (`t` and seconds count from the traffic's start). */
    traffic?: {
        figures: TrafficFigures;
        series: SecondPoint[];
        /** The WebSockets held open on the backend's terminal through the edge. */
        sockets: SocketFigures;
        /** When the disruption started and when it returned (its run() was over), in seconds of traffic. */
        disruptionS: [number, number];
    };
    error?: string;
}

export interface RunResult {
    startedAt: string;
    finishedAt: string;
    nodes: "kwok" | "real";
    /** Real nodes: requests per second through the edge. */
    trafficRate?: number;
    startDelayMs: number;
    sampleMs: number;
    cluster: { nodes: number; zones: string[]; kubernetes: string };
    loadAverage: { start: number[]; end: number[] };
    timings: DrillTimings;
    /** Our PDB floors per tier, the floor every configuration is judged against at that tier. */
    floors: Record<Tier, Record<Workload, number>>;
    results: DrillResult[];
}

/**
 * Real nodes for the drills: four, so that with the database's node left alone two nodes holding
 * app pods can still be drained at once, and a zone (zone-a: node1 and node4) loses two machines.
 */
export const REAL_DRILL_NODES = 4;

export function clusterEnv(o: Pick<RunOptions, "workDir" | "portBase" | "startDelay"> & { nodes?: RunOptions["nodes"] }): NodeJS.ProcessEnv {
    return {
        ...(o.nodes === "real" ? { KUBEPOLARIS_CLUSTER_NODES: String(REAL_DRILL_NODES) } : {}),
        ...process.env,
        // kwok: more nodes than this host can run for real (drains of several, zone loss); real: served requests.
        KUBEPOLARIS_CLUSTER_KIND: o.nodes ?? "kwok",
        KUBEPOLARIS_CLUSTER_DIR: path.join(o.workDir, "cluster"),
        KUBEPOLARIS_CLUSTER_PORT_BASE: String(o.portBase),
        KUBEPOLARIS_POD_START_DELAY: o.startDelay,
        KUBEPOLARIS_STATE_DIR: path.join(o.workDir, "state"),
        KUBEPOLARIS_STACK_WORKDIR: path.join(o.workDir, "project"),
        NO_COLOR: "1",
    };
}

function clusterScript(env: NodeJS.ProcessEnv, verb: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "cluster", "cluster.sh"), verb, ...args], { env, encoding: "utf8", timeout: 300_000 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** scripts/up.sh with the run's environment; its output goes to a log file, the tail into the error. */
function upScript(env: NodeJS.ProcessEnv, logFile: string, log: (m: string) => void) {
    return (args: string[]): Promise<void> => new Promise((resolve, reject) => {
        log(`scripts/up.sh ${args.join(" ")} (log: ${logFile})`);
        const out = fs.openSync(logFile, "a");
        fs.writeSync(out, `\n==== ${new Date().toISOString()} scripts/up.sh ${args.join(" ")}\n`);
        const child = spawn("bash", [path.join(REPO, "scripts", "up.sh"), ...args], { cwd: REPO, env, stdio: ["ignore", out, out] });
        const timer = setTimeout(() => child.kill("SIGTERM"), 900_000);
        child.on("exit", (code) => {
            clearTimeout(timer);
            fs.closeSync(out);
            if (code === 0) {
                resolve();
            } else {
                const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
                reject(new Error(`scripts/up.sh ${args.join(" ")} exited ${code}; the end of ${logFile}:\n${tail}`));
            }
        });
    });
}

/** The local stack's outputs (scripts/up.sh pulumi stack output), secrets shown: the edge's URL and the admin password. */
function stackOutputs(env: NodeJS.ProcessEnv): Record<string, unknown> {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "up.sh"), "pulumi", "stack", "output", "--json", "--show-secrets"],
        { cwd: REPO, env, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) {
        throw new Error(`scripts/up.sh pulumi stack output failed: ${(r.stderr ?? "").split("\n").slice(-10).join("\n")}`);
    }
    return JSON.parse(r.stdout);
}

/** kwok's start-up delay as the running cluster has it (cluster.sh writes it into kwok's stage file). */
function startDelayOf(clusterDir: string): number {
    const stages = yaml.loadAll(fs.readFileSync(path.join(clusterDir, "kwok-pod-stages.yaml"), "utf8")) as any[];
    const ready = stages.find((s) => s?.kind === "Stage" && s.metadata?.name === "kubepolaris-pod-ready");
    const delay = ready?.spec?.delay?.durationMilliseconds;
    if (typeof delay !== "number") {
        throw new Error(`${clusterDir}/kwok-pod-stages.yaml: no kubepolaris-pod-ready Stage with spec.delay.durationMilliseconds`);
    }
    return delay;
}

interface Healthy {
    full: Record<Workload, number>;
}

/** The state every drill starts from: every node Ready and schedulable, every desired pod of both workloads ready, nothing Pending or terminating. */
async function waitHealthy(kube: Kube, watch: PodWatch, namespace: string, deployments: Record<Workload, string>, nodeCount: number, timeoutS: number): Promise<Healthy> {
    return until("a healthy starting state (all nodes Ready, all pods ready)", timeoutS * 1000, async () => {
        const nodes = (await kube.core.listNode()).items;
        if (nodes.length < nodeCount || !nodes.every((n) => isNodeReady(n) && !n.spec?.unschedulable)) {
            return undefined;
        }
        const full = {} as Record<Workload, number>;
        for (const w of WORKLOADS) {
            const ref = { name: deployments[w], namespace };
            const d = await kube.apps.readNamespacedDeployment(ref);
            const s = d.status ?? {};
            const want = d.spec?.replicas ?? 1;
            // An HPA owns the count: wait until it has raised it to its minimum (after a tier change).
            const hpa = await unlessNotFound(kube.autoscaling.readNamespacedHorizontalPodAutoscaler(ref));
            if (hpa && want < (hpa.spec?.minReplicas ?? 1)) {
                return undefined;
            }
            const pods = watch.podsOf(w);
            if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || s.updatedReplicas !== want || s.readyReplicas !== want
                || s.availableReplicas !== want || s.replicas !== want || pods.length !== want
                || pods.some((p) => !watch.serving(p))) {
                return undefined;
            }
            full[w] = want;
        }
        return { full };
    }, 500);
}

export async function runDrills(o: RunOptions): Promise<RunResult> {
    const env = clusterEnv(o);
    const clusterDir = env.KUBEPOLARIS_CLUSTER_DIR as string;
    fs.mkdirSync(o.workDir, { recursive: true });
    // The stack's mirror links to the checkout that made it and copies its stack file: make it
    // anew from this checkout (each configuration sets its tier in it; the Pulumi state is kept).
    fs.rmSync(env.KUBEPOLARIS_STACK_WORKDIR as string, { recursive: true, force: true });
    const wasRunning = clusterScript(env, "kubeconfig").status === 0;
    const loadStart = os.loadavg();
    const startedAt = new Date().toISOString();
    const results: DrillResult[] = [];
    const available = o.nodes === "real" ? REAL_DRILLS : DRILLS;
    const drills = o.drills.map((name) => {
        const d = available.find((x) => x.name === name);
        if (!d) {
            throw new Error(`--drills: got '${name}'; allowed on ${o.nodes} nodes: ${available.map((x) => x.name).join(", ")}`);
        }
        return d;
    });
    const configs = o.configs.map((c) => configuration(c, o.nodes));
    const vegeta = o.nodes === "real" ? vegetaPath() : undefined;
    try {
        o.log(wasRunning ? `reusing the cluster in ${clusterDir}` : `starting a cluster in ${clusterDir} (ports ${o.portBase}+, pod start-up delay ${o.startDelay})`);
        const up = clusterScript(env, "up");
        if (up.status !== 0) {
            throw new Error(`scripts/cluster/cluster.sh up failed:\n${up.stderr.split("\n").slice(-30).join("\n")}`);
        }
        const kube = new Kube(path.join(clusterDir, "kubeconfig"));
        const startDelayMs = o.nodes === "kwok" ? startDelayOf(clusterDir) : 0;
        const nodes = (await kube.core.listNode()).items;
        const version = await kube.version.getCode();
        const cluster = {
            nodes: nodes.length,
            zones: [...new Set(nodes.map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"] ?? ""))].sort(),
            kubernetes: version.gitVersion,
        };
        const deployCtx = { kube, upScript: upScript(env, path.join(o.workDir, "up.log"), o.log), log: o.log };
        const { release } = localStackFacts();
        for (const config of configs) {
            o.log(`${config.name}: deploying (${config.description})`);
            // Real nodes: the drains leave the database's node alone, so a configuration's pods are
            // placed elsewhere (while it deploys, that node takes no new pod); otherwise a drill could
            // find all of them on the one node it may not drain.
            const reserved = o.nodes === "real" ? [...await databaseNodes(kube, config.namespace, release)] : [];
            for (const n of reserved) {
                await setUnschedulable(kube, n, true);
            }
            try {
                await config.deploy(deployCtx);
                for (const w of WORKLOADS) {
                    await rolledOut(kube, { name: componentName(release, w), namespace: config.namespace });
                }
            } finally {
                for (const n of reserved) {
                    await setUnschedulable(kube, n, false);
                }
            }
            let served: Served | undefined;
            if (vegeta) {
                const out = stackOutputs(env);
                served = { vegeta, url: String(out.url), password: String(out.adminPassword), nodeControl: nodeControl(env), databaseCommand: databaseCommand(clusterDir) };
            }
            results.push(...await drillConfiguration(kube, config, drills, cluster.nodes, o, served));
            await config.teardown(deployCtx);
        }
        return {
            startedAt, finishedAt: new Date().toISOString(), nodes: o.nodes, trafficRate: vegeta ? o.trafficRate : undefined,
            startDelayMs, sampleMs: SAMPLE_MS, cluster,
            loadAverage: { start: loadStart, end: os.loadavg() }, timings: o.timings,
            floors: Object.fromEntries(TIERS.filter((t) => t !== "large").map((t) => [t, floorsAt(t)])) as Record<Tier, Record<Workload, number>>,
            results,
        };
    } finally {
        if (!wasRunning && !o.keepCluster) {
            o.log("stopping the cluster this run started");
            clusterScript(env, "down");
        }
    }
}

/** Real nodes: where the traffic goes, how it logs in, and what the cluster's script does to nodes. */
interface Served {
    vegeta: string;
    url: string;
    password: string;
    nodeControl: NodeControl;
    databaseCommand: NonNullable<DrillContext["databaseCommand"]>;
}

/** `npm run db:<verb>` (scripts/db/db.ts) against the cluster in `clusterDir`, as an operator runs it (the drills, the CI backups check). */
export function databaseCommand(clusterDir: string): NonNullable<DrillContext["databaseCommand"]> {
    return (args) => new Promise((resolve) => {
        const child = spawn("npx", ["--no-install", "ts-node", "--transpile-only", "--project", "tsconfig.json", "scripts/db/db.ts", ...args], {
            cwd: REPO, env: { ...process.env, KUBECONFIG: path.join(clusterDir, "kubeconfig") }, stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d) => { out += d; });
        child.stderr.on("data", (d) => { out += d; });
        const timer = setTimeout(() => child.kill("SIGTERM"), 900_000);
        child.on("close", (code) => { clearTimeout(timer); resolve({ status: code ?? 1, out }); });
    });
}

function nodeControl(env: NodeJS.ProcessEnv): NodeControl {
    const run = (verb: string, nodes: string[]) => {
        const r = clusterScript(env, verb, ...nodes);
        if (r.status !== 0) {
            throw new Error(`scripts/cluster/cluster.sh ${verb} ${nodes.join(" ")} failed: ${r.stderr.split("\n").slice(-5).join("\n")}`);
        }
    };
    return { partition: (nodes) => run("partition", nodes), heal: (nodes) => run("heal", nodes) };
}

function databaseSelector(release: string): string {
    return Object.entries(podLabels(release, "mysql")).map(([k, v]) => `${k}=${v}`).join(",");
}

/** WebSockets held open during each drill (each pins one backend pod; several land on every replica). */
const SOCKETS = 8;

/** Seconds of traffic before the disruption and after capacity is back: the steady state on both sides. */
const TRAFFIC_MARGIN_S = 3;

/**
 * Nodes the drills leave alone on real nodes: the node of a single database pod. Draining it stops
 * the database (its own drills measure that), which would hide what the workloads' measures do. A
 * Galera cluster's members are not protected: its PDB keeps the quorum through a drain.
 */
async function databaseNodes(kube: Kube, namespace: string, release: string): Promise<Set<string>> {
    const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: databaseSelector(release) })).items;
    return pods.length === 1 ? new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n))) : new Set<string>();
}

/** The database drills' target: the database's pods, and the Service, schema, user and password the backend uses. */
async function databaseTarget(kube: Kube, namespace: string, release: string): Promise<DatabaseTarget> {
    const sts = await kube.apps.readNamespacedStatefulSet({ name: componentName(release, "mysql"), namespace });
    const server = sts.spec!.template.spec!.containers[0];
    const backend = await kube.apps.readNamespacedDeployment({ name: componentName(release, "backend"), namespace });
    const env = new Map((backend.spec!.template.spec!.containers[0].env ?? []).map((e) => [e.name, e]));
    const value = (name: string) => {
        const v = env.get(name)?.value;
        if (!v) {
            throw new Error(`the backend Deployment sets no ${name}`);
        }
        return v;
    };
    const password = env.get(BACKEND.env.dbPassword)?.valueFrom?.secretKeyRef;
    if (!password?.name) {
        throw new Error(`the backend Deployment reads ${BACKEND.env.dbPassword} from no Secret`);
    }
    return {
        namespace, servesTheApp: true,
        description: (sts.spec!.replicas ?? 1) > 1 ? `Galera, ${sts.spec!.replicas} members` : "one pod",
        selector: databaseSelector(release), labels: podLabels(release, "mysql"),
        // As the backend resolves it: its name and its pods' resolver options.
        host: value(BACKEND.env.dbHost), dnsConfig: backend.spec!.template.spec!.dnsConfig,
        port: Number(value(BACKEND.env.dbPort)), database: value(BACKEND.env.dbName), user: value(BACKEND.env.dbUser),
        passwordSecret: { name: password.name, key: password.key },
        image: server.image as string, uid: sts.spec!.template.spec!.securityContext?.runAsUser ?? 999,
        statefulSet: sts.metadata!.name!, backupIntervalMinutes: localStackFacts().backupIntervalMinutes,
    };
}

/** The namespace (and the name of every object) of a baseline's one-pod database. */
const ONE_POD_DATABASE_NAME = "naive-db";

/**
 * A baseline's own database for the database drills: one pod (onePodDatabaseObjects) in a
 * namespace of its own, from the stack's database image, looked up as the backend looks up its own.
 * The app keeps using the stack's database: these rows are measured by the writes alone.
 */
async function startOnePodDatabase(kube: Kube, app: DatabaseTarget): Promise<{ target: DatabaseTarget; remove: () => Promise<void> }> {
    const name = ONE_POD_DATABASE_NAME;
    const objects = onePodDatabaseObjects({ namespace: name, name, image: app.image, imagePullPolicy: "IfNotPresent" });
    for (const object of objects) {
        await kube.apply(object as any);
    }
    const selector = `app=${name}`;
    await until(`the one-pod database ${name} ready`, 240_000, async () =>
        (await kube.core.listNamespacedPod({ namespace: name, labelSelector: selector })).items.some(isPodReady) ? true : undefined, 1000);
    // The same cluster domain and resolver options as the app's database name.
    const domain = app.host.slice(searchListName(app.host).length);
    return {
        target: {
            // Its namespace has no NetworkPolicies: the writer needs none.
            namespace: name, servesTheApp: false, selector, description: "one pod of its own",
            host: `${name}.${name}.svc${domain}`, dnsConfig: app.dnsConfig,
            port: ONE_POD_DATABASE.port, database: ONE_POD_DATABASE.database, user: ONE_POD_DATABASE.user,
            passwordSecret: { name, key: ONE_POD_DATABASE.passwordKey },
            image: app.image, uid: ONE_POD_DATABASE.uid, statefulSet: name, backupIntervalMinutes: 0,
        },
        remove: () => kube.remove({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
    };
}

const isDatabaseDrill = (drill: Drill) => drill.name.startsWith("database-");

async function drillConfiguration(kube: Kube, config: Configuration, drills: Drill[], nodeCount: number, o: RunOptions, served?: Served): Promise<DrillResult[]> {
    const { release } = localStackFacts();
    const selectors = { backend: podLabels(release, "backend"), frontend: podLabels(release, "frontend") };
    const deployments = { backend: componentName(release, "backend"), frontend: componentName(release, "frontend") };
    const watch = new PodWatch(kube, config.namespace, selectors);
    await watch.start();
    const results: DrillResult[] = [];
    let onePod: Awaited<ReturnType<typeof startOnePodDatabase>> | undefined;
    try {
        if (config.tier) {
            await checkOurFloors(kube, config, deployments);
        }
        // The database pod is never disrupted, so its node stays the same for every drill.
        const protectedNodes = served ? await databaseNodes(kube, config.namespace, release) : new Set<string>();
        const appDatabase = served ? await databaseTarget(kube, config.namespace, release) : undefined;
        onePod = appDatabase && config.onePodDatabase && drills.some(isDatabaseDrill) ? await startOnePodDatabase(kube, appDatabase) : undefined;
        for (const drill of drills) {
            if (onePod && drill.name === "database-recovery") {
                o.log(`${config.name} / ${drill.name}: skipped (a quick install's one-pod database has no backups to restore)`);
                continue;
            }
            // A baseline with a database of its own: the database drills disrupt that one.
            const database = onePod && isDatabaseDrill(drill) ? onePod.target : appDatabase;
            const login = served && { url: served.url, username: BACKEND.seededAdmin.username, password: served.password };
            const ctx: DrillContext = {
                kube, watch, namespace: config.namespace, deployments, timings: o.timings, log: o.log, protectedNodes,
                nodeControl: served?.nodeControl, login, database, databaseCommand: served?.databaseCommand,
                extraLoad: served && login && ((x) => startTraffic({
                    ...login, rate: x.rate, maxSeconds: x.seconds, mix: x.mix, dir: path.join(o.workDir, "traffic", x.name),
                }, served.vegeta)),
            };
            const { full } = await waitHealthy(kube, watch, config.namespace, deployments, nodeCount, 600);
            o.log(`${config.name} / ${drill.name}: starting (full capacity ${JSON.stringify(full)})`);
            const sockets = login && await holdSockets(login.url, await loginToken(login), SOCKETS);
            const traffic = served && login && await startTraffic({
                ...login, rate: o.trafficRate, maxSeconds: (drill.maxRunS?.(o.timings) ?? o.timings.drainTimeoutS) + o.settleS + 120,
                dir: path.join(o.workDir, "traffic"),
            }, served.vegeta);
            if (traffic) {
                await sleep(TRAFFIC_MARGIN_S * 1000);
            }
            const t0 = Date.now();
            let disruptionEnd = t0;
            const stop = watch.record();
            const refused: Record<Workload, number> = { backend: 0, frontend: 0 };
            const notes: string[] = [];
            let error: string | undefined;
            try {
                const outcome = await drill.run(ctx);
                disruptionEnd = Date.now();
                Object.assign(refused, outcome.refused);
                notes.push(...outcome.notes);
                const settleS = o.settleS + (outcome.extraSettleS ?? 0);
                // Back: full capacity and nothing Pending, held for STABLE_S (the watch may not
                // have seen the last eviction or deletion yet when the disruption returns).
                let since: number | undefined;
                await until(`full capacity after ${drill.name}`, settleS * 1000, () => {
                    const now = watch.snapshot(0);
                    const back = WORKLOADS.every((w) => now.ready[w] >= full[w] && now.pending[w] === 0);
                    since = back ? since ?? Date.now() : undefined;
                    return since !== undefined && Date.now() - since >= STABLE_S * 1000 ? true : undefined;
                }, SAMPLE_MS).catch(() => notes.push(`not back to full capacity within ${settleS} s after the disruption`));
            } catch (e) {
                error = (e as Error).message;
                o.log(`${config.name} / ${drill.name}: ${error}`);
            }
            const samples = stop();
            const wallS = Math.round((Date.now() - t0) / 100) / 10;
            let servedFigures: DrillResult["traffic"];
            if (traffic) {
                await sleep(TRAFFIC_MARGIN_S * 1000);
                const socketFigures = sockets!.stop();
                const records = await traffic.stop();
                const at = (ms: number) => Math.round((ms - traffic.startedAt) / 100) / 10;
                // The sockets opened just before the traffic started: their times are within a second of the traffic's.
                servedFigures = { figures: trafficFigures(records), series: perSecond(records), sockets: socketFigures, disruptionS: [at(t0), at(disruptionEnd)] };
                if (protectedNodes.size > 0) {
                    notes.push(`left alone: ${[...protectedNodes].join(", ")} (the single database pod's node)`);
                }
            }
            const figures = Object.fromEntries(WORKLOADS.map((w) => {
                // The floor depends on the tier a row is compared at: report.ts applies it.
                const { belowFloorS: _unused, ...rest } = workloadFigures(samples, w, 0, full[w], refused[w]);
                return [w, rest];
            })) as DrillResult["figures"];
            const scale = scaleSamples.get(ctx);
            scaleSamples.delete(ctx);
            const writes = drillWrites.get(ctx);
            drillWrites.delete(ctx);
            const recovery = drillRecoveries.get(ctx);
            drillRecoveries.delete(ctx);
            results.push({ drill: drill.name, title: drill.title, config: config.name, wallS, notes, figures, samples, scale, writes, recovery, traffic: servedFigures, error });
            o.log(`${config.name} / ${drill.name}: ${wallS} s; ${WORKLOADS.map((w) => `${w} min ${figures[w].minReady}/${full[w]}, back after ${figures[w].recoveryS ?? "—"} s, ${refused[w]} refused`).join("; ")}`);
            if (servedFigures) {
                const f = servedFigures.figures;
                o.log(`${config.name} / ${drill.name}: ${f.sent} requests, ${f.failed} failed ${JSON.stringify(f.byCause)}, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms; `
                    + `WebSockets: ${socketSummary(servedFigures.sockets)}`);
            }
            for (const n of notes) {
                o.log(`  ${n}`);
            }
            await drill.restore(ctx);
        }
    } finally {
        watch.stop();
        await onePod?.remove();
    }
    return results;
}

/** Our live PDBs must be the budgets the report's floors are computed from. */
async function checkOurFloors(kube: Kube, config: Configuration, deployments: Record<Workload, string>): Promise<void> {
    const expected = budgetsAt(config.tier as Tier);
    for (const w of WORKLOADS) {
        const pdb = await kube.policy.readNamespacedPodDisruptionBudget({ name: deployments[w], namespace: config.namespace });
        if (pdb.spec?.maxUnavailable !== expected[w] || pdb.spec?.minAvailable !== undefined) {
            throw new Error(`${config.name}: the ${w} PDB has maxUnavailable ${pdb.spec?.maxUnavailable} (minAvailable ${pdb.spec?.minAvailable}), `
                + `the drills expected maxUnavailable ${expected[w]} (pdbBudget at tier ${config.tier})`);
        }
    }
}
