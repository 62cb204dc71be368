// Served traffic during a drill: vegeta (scripts/drill/vegeta.sh, pinned in toolchain.versions)
// sends a steady mix through the edge at a constant rate — logins, authenticated API reads and the
// UI's page — and records every request; the figures are read from its results afterwards.
// Bounded by design: a fixed rate, a duration it never exceeds, a 10 s timeout per request, and
// only the edge's URL on 127.0.0.1 as target.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BACKEND } from "../../app/kubepolaris";
import { REPO } from "./configs";

/** What a request was: the mix vegeta cycles through. */
export const REQUEST_KINDS = ["login", "api-read", "ui"] as const;
export type RequestKind = typeof REQUEST_KINDS[number];

/**
 * The mix, in vegeta's order: per cycle of 10, one login (bcrypt: ~0.1 s of a core each, so the
 * logins alone must not saturate two shared cores), six authenticated reads, three pages.
 */
export const MIX: readonly RequestKind[] = ["login", "api-read", "api-read", "ui", "api-read", "api-read", "ui", "api-read", "api-read", "ui"];

export interface TrafficOptions {
    /** The edge's URL, e.g. http://127.0.0.1:32309/ (must be on 127.0.0.1). */
    url: string;
    username: string;
    password: string;
    /** Requests per second. */
    rate: number;
    /** vegeta stops by itself after this long even if nobody stops it. */
    maxSeconds: number;
    /** Where the targets and the results go. */
    dir: string;
    /** The requests, in turn (default MIX). */
    mix?: readonly RequestKind[];
}

export interface RequestRecord {
    /** Seconds since the traffic started. */
    t: number;
    kind: RequestKind;
    /** HTTP status; 0 when the request got no answer (connection refused, reset, timeout). */
    code: number;
    /** The connection error, if any. */
    error: string;
    latencyMs: number;
}

export interface Traffic {
    /** Epoch ms of the first request (what `t` counts from). */
    startedAt: number;
    /** Stops vegeta (it writes out what it sent) and returns every request. */
    stop(): Promise<RequestRecord[]>;
}

export function vegetaPath(): string {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "drill", "vegeta.sh")], { encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) {
        throw new Error(`scripts/drill/vegeta.sh failed: ${(r.stderr ?? "").split("\n").slice(-10).join("\n")}`);
    }
    return r.stdout.trim().split("\n").pop() as string;
}

/** The edge answers a login: the token the API reads (and the drills' WebSockets) carry. */
export async function loginToken(o: Pick<TrafficOptions, "url" | "username" | "password">): Promise<string> {
    const res = await fetch(new URL(BACKEND.api.login, o.url), {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: o.username, password: o.password }), signal: AbortSignal.timeout(15_000),
    });
    const body = await res.json() as { data?: { token?: string } };
    if (res.status !== 200 || !body.data?.token) {
        throw new Error(`traffic: the login through ${o.url} answered ${res.status}`);
    }
    return body.data.token;
}

function targets(o: TrafficOptions, token: string): string {
    const target = (kind: RequestKind) => {
        switch (kind) {
            case "login": return {
                method: "POST", url: new URL(BACKEND.api.login, o.url).href,
                body: Buffer.from(JSON.stringify({ username: o.username, password: o.password })).toString("base64"),
                header: { "Content-Type": ["application/json"] },
            };
            case "api-read": return { method: "GET", url: new URL(BACKEND.api.me, o.url).href, header: { Authorization: [`Bearer ${token}`] } };
            case "ui": return { method: "GET", url: new URL("/", o.url).href };
        }
    };
    return (o.mix ?? MIX).map((k) => JSON.stringify(target(k))).join("\n") + "\n";
}

export function kindOf(method: string, url: string): RequestKind {
    const p = new URL(url).pathname;
    if (method === "POST" && p === BACKEND.api.login) {
        return "login";
    }
    return p.startsWith("/api/") ? "api-read" : "ui";
}

/** Starts the load; resolves once vegeta runs. */
export async function startTraffic(o: TrafficOptions, vegeta = vegetaPath()): Promise<Traffic> {
    if (new URL(o.url).hostname !== "127.0.0.1") {
        throw new Error(`traffic: the target must be the edge on 127.0.0.1, got ${o.url}`);
    }
    fs.mkdirSync(o.dir, { recursive: true });
    const token = await loginToken(o);
    // The targets hold the password and a token: readable by the owner only, removed at stop.
    const targetsFile = path.join(o.dir, "targets.json");
    fs.writeFileSync(targetsFile, targets(o, token), { mode: 0o600 });
    const results = path.join(o.dir, "results.bin");
    const child: ChildProcess = spawn(vegeta, ["attack", "-format=json", `-targets=${targetsFile}`, `-rate=${o.rate}/1s`,
        `-duration=${o.maxSeconds}s`, "-timeout=10s", "-max-workers=200", "-redirects=0", `-output=${results}`], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const startedAt = Date.now();
    return {
        startedAt,
        async stop() {
            // SIGINT: vegeta stops attacking, waits for the requests in flight and writes them out.
            child.kill("SIGINT");
            const code = await exited;
            fs.rmSync(targetsFile, { force: true });
            if (code !== 0 && code !== null) {
                throw new Error(`vegeta attack exited ${code}: ${stderr.slice(-500)}`);
            }
            const encoded = spawnSync(vegeta, ["encode", "--to", "json", results], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
            if (encoded.status !== 0) {
                throw new Error(`vegeta encode failed: ${encoded.stderr}`);
            }
            return parseResults(encoded.stdout, startedAt);
        },
    };
}

/** vegeta's JSON results (one object per line) as records, `t` in seconds since `startedAt`. */
export function parseResults(lines: string, startedAt: number): RequestRecord[] {
    return lines.split("\n").filter((l) => l.trim()).map((l) => {
        const r = JSON.parse(l) as { timestamp: string; latency: number; code: number; error: string; method: string; url: string };
        return {
            t: (Date.parse(r.timestamp) - startedAt) / 1000,
            kind: kindOf(r.method, r.url),
            code: r.code,
            error: r.error ?? "",
            latencyMs: r.latency / 1e6,
        };
    }).sort((a, b) => a.t - b.t);
}

/** A request failed when it got no answer or an answer the client cannot use (5xx, or a 4xx the healthy app never gives this mix). */
export function failed(r: RequestRecord): boolean {
    return r.code === 0 || r.code >= 400;
}

/** Why a request failed: its status, or "connection" for no answer at all. */
export function cause(r: RequestRecord): string {
    return r.code === 0 ? (/timeout|deadline/i.test(r.error) ? "timeout" : "connection") : String(r.code);
}

function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) {
        return 0;
    }
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export interface SecondPoint {
    /** The second since the traffic started. */
    s: number;
    sent: number;
    failed: number;
    byCause: Record<string, number>;
    p50Ms: number;
    p99Ms: number;
}

/** Per second of sending: sent, failed (by status or connection error), p50/p99 latency. */
export function perSecond(records: readonly RequestRecord[]): SecondPoint[] {
    const buckets = new Map<number, RequestRecord[]>();
    for (const r of records) {
        const s = Math.floor(r.t);
        if (!buckets.has(s)) {
            buckets.set(s, []);
        }
        buckets.get(s)!.push(r);
    }
    const last = Math.max(-1, ...buckets.keys());
    const out: SecondPoint[] = [];
    for (let s = 0; s <= last; s++) {
        const rs = buckets.get(s) ?? [];
        const byCause: Record<string, number> = {};
        for (const r of rs.filter(failed)) {
            byCause[cause(r)] = (byCause[cause(r)] ?? 0) + 1;
        }
        const lat = rs.map((r) => r.latencyMs).sort((a, b) => a - b);
        out.push({ s, sent: rs.length, failed: rs.filter(failed).length, byCause, p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)) });
    }
    return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

export interface TrafficFigures {
    sent: number;
    failed: number;
    byCause: Record<string, number>;
    byKind: Record<RequestKind, { sent: number; failed: number }>;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Seconds with at least one failed request. */
    secondsWithFailures: number;
    /** From the first failed request to the last one, in seconds (0 when none failed). */
    failureWindowS: number;
}

export function trafficFigures(records: readonly RequestRecord[]): TrafficFigures {
    const bad = records.filter(failed);
    const byCause: Record<string, number> = {};
    for (const r of bad) {
        byCause[cause(r)] = (byCause[cause(r)] ?? 0) + 1;
    }
    const byKind = Object.fromEntries(REQUEST_KINDS.map((k) => [k, {
        sent: records.filter((r) => r.kind === k).length,
        failed: bad.filter((r) => r.kind === k).length,
    }])) as TrafficFigures["byKind"];
    const lat = records.map((r) => r.latencyMs).sort((a, b) => a - b);
    return {
        sent: records.length,
        failed: bad.length,
        byCause,
        byKind,
        p50Ms: round(percentile(lat, 50)),
        p99Ms: round(percentile(lat, 99)),
        maxMs: round(lat[lat.length - 1] ?? 0),
        secondsWithFailures: new Set(bad.map((r) => Math.floor(r.t))).size,
        failureWindowS: bad.length ? round(bad[bad.length - 1].t - bad[0].t) : 0,
    };
}
