// Helpers for the local control plane tests: find the binaries scripts/cluster/ensure.sh built,
// run scripts/cluster/cluster.sh and kubectl against a cluster of the test's own.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { until } from "../../tools/until";
import { describeFailure, REPO, RunResult, runAsync, tempDir } from "../engine/engine";

export const CLUSTER_SCRIPT = path.join(REPO, "scripts", "cluster", "cluster.sh");

/** The bin dir of the control plane binaries, or undefined when not installed. Never builds. */
export function clusterBinDir(): string | undefined {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "cluster", "ensure.sh"), "--check"], { encoding: "utf8" });
    const dir = r.stdout?.trim().split("\n").pop();
    return r.status === 0 && dir ? dir : undefined;
}

export interface Cluster {
    env: NodeJS.ProcessEnv;
    stateDir: string;
    kubectl: string;
    kubeconfig?: string;
}

/** scripts/cluster/cluster.sh <verb> (or <verb> <args...>) with the cluster's environment. */
export function clusterScript(c: Cluster, verb: string | string[], timeoutMs = 180_000): SpawnSyncReturns<string> {
    return spawnSync("bash", [CLUSTER_SCRIPT, ...[verb].flat()], { cwd: REPO, env: c.env, encoding: "utf8", timeout: timeoutMs });
}

/** A cluster of the test's own: its state in `work/<stateSubdir>` (a temp dir), its own ports and kind of nodes. */
export interface TestCluster extends Cluster {
    /** The test's temp dir; stopCluster removes it. */
    work: string;
}

export function testCluster(o: {
    /** Prefix of the temp dir's name. */
    prefix: string;
    kind: "kwok" | "real";
    portBase: number;
    /** Where kubectl is (clusterBinDir()); undefined when the binaries are missing. */
    bin: string | undefined;
    /** The state dir's name in the temp dir. Default: "state". */
    stateSubdir?: string;
    /** More environment for cluster.sh (and scripts/up.sh), given the temp dir. */
    env?: (work: string) => NodeJS.ProcessEnv;
}): TestCluster {
    const work = tempDir(o.prefix);
    const stateDir = path.join(work, o.stateSubdir ?? "state");
    return {
        work, stateDir,
        kubectl: path.join(o.bin ?? "/nonexistent", "kubectl"),
        env: {
            ...process.env,
            KUBEPOLARIS_CLUSTER_KIND: o.kind,
            KUBEPOLARIS_CLUSTER_DIR: stateDir,
            KUBEPOLARIS_CLUSTER_PORT_BASE: String(o.portBase),
            ...o.env?.(work),
        },
    };
}

/** `cluster.sh up`: sets the kubeconfig and returns the seconds it took; when up fails, `down`, then throw with its output. */
export function startCluster(c: Cluster, timeoutMs?: number): number {
    const t0 = Date.now();
    const r = clusterScript(c, "up", timeoutMs);
    if (r.status !== 0) {
        clusterScript(c, "down");
        throw new Error(describeFailure("cluster.sh up", r));
    }
    c.kubeconfig = r.stdout.trim().split("\n").pop();
    return (Date.now() - t0) / 1000;
}

/** `cluster.sh down`, then the test's temp dir removed. */
export function stopCluster(c: TestCluster, timeoutMs?: number): void {
    clusterScript(c, "down", timeoutMs);
    fs.rmSync(c.work, { recursive: true, force: true });
}

export function kubectl(c: Cluster, args: string[], input?: string): SpawnSyncReturns<string> {
    return spawnSync(c.kubectl, ["--kubeconfig", c.kubeconfig ?? "", ...args], {
        encoding: "utf8", input, timeout: 120_000, maxBuffer: 64 * 1024 * 1024,
    });
}

/** kubectl that must succeed; parsed JSON when `-o json` was asked for. */
export function kubectlOk(c: Cluster, args: string[], input?: string): string {
    const r = kubectl(c, args, input);
    if (r.status !== 0) {
        throw new Error(describeFailure(`kubectl ${args.join(" ")}`, r));
    }
    return r.stdout;
}

export function kubectlJson(c: Cluster, args: string[]): any {
    return JSON.parse(kubectlOk(c, [...args, "-o", "json"]));
}

/** Polls `probe` (awaited when async) every 500 ms until it returns a value; throws naming `what` after `timeoutMs`. */
export function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
    return until(what, timeoutMs, probe, 500);
}

/** Pids of processes whose command line names a file under `dir`. */
export function processesUsing(dir: string): number[] {
    const out: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
            continue;
        }
        try {
            const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (cmdline.some((arg) => arg.includes(`${dir}/`))) {
                out.push(Number(entry));
            }
        } catch {
            // gone while we looked
        }
    }
    return out;
}

/** Where Linux starts handing out ports for outgoing connections (net.ipv4.ip_local_port_range; 32768 by default). */
const EPHEMERAL_PORTS_START = (() => {
    try {
        return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
    } catch {
        return 32768;
    }
})();

/** Ports from here up are left to the real-node cluster test (freeRealPortBase). */
const REAL_PORTS_START = 28000;

/**
 * A block of ports nothing listens on (base+3..base+8, as cluster.sh uses them for a kwok
 * cluster), so parallel test runs do not collide. Below Linux's ephemeral range: there, a port
 * free when checked can be taken by an outgoing connection (the apiserver's to etcd) before kwok
 * binds it; and below the real-node test's block.
 */
export function freePortBase(): number {
    const blocks = Math.floor((Math.min(EPHEMERAL_PORTS_START, REAL_PORTS_START) - 20000) / 10);
    for (let i = 0; i < blocks; i++) {
        const base = 20000 + ((process.pid + i) % blocks) * 10;
        if (listening([3, 4, 5, 6, 7, 8].map((n) => base + n)).length === 0) {
            return base;
        }
    }
    throw new Error(`no free block of ports between 20000 and ${EPHEMERAL_PORTS_START}`);
}

/** A base for a real-node cluster (base+3..base+33: control plane, kubelets, kube-proxy, metrics-server), above every kwok block. */
export function freeRealPortBase(): number {
    for (let base = REAL_PORTS_START; base + 40 < EPHEMERAL_PORTS_START; base += 40) {
        if (listening(Array.from({ length: 31 }, (_, i) => base + 3 + i)).length === 0) {
            return base;
        }
    }
    throw new Error(`no free block of 40 ports between ${REAL_PORTS_START} and ${EPHEMERAL_PORTS_START}`);
}

/** The ports among `ports` something listens on (TCP, any address). */
export function listening(ports: number[]): number[] {
    const r = spawnSync("ss", ["-Htln"], { encoding: "utf8" });
    const open = new Set((r.stdout ?? "").split("\n").map((l) => Number(l.trim().split(/\s+/)[3]?.split(":").pop())));
    return ports.filter((p) => open.has(p));
}

export const UP_SCRIPT = path.join(REPO, "scripts", "up.sh");

/**
 * scripts/up.sh (npm run up / destroy) with the test's environment: `up`, `destroy`, or
 * `pulumi ARGS...` on the local stack. Asynchronous, so the cluster can be sampled while it runs.
 */
export function localStack(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 480_000): Promise<RunResult> {
    return runAsync("bash", [UP_SCRIPT, ...args], { cwd: REPO, env, timeoutMs });
}
