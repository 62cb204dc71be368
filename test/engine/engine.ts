// Helpers for the engine tests: find the toolchain that scripts/toolchain.sh installs, run the
// real Pulumi CLI against a throwaway file backend, read what it rendered or reported.
import { spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";

export const REPO = path.resolve(__dirname, "..", "..");
export const LOCAL_PASSPHRASE = "kubepolaris-local";
const BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"];

function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return dir;
        } catch {
            // not here
        }
    }
    return undefined;
}

/**
 * The directory holding pulumi, pulumi-language-nodejs and pulumi-resource-kubernetes, or
 * undefined when the toolchain is not installed (the engine tests then skip). Never builds.
 */
export function toolchainBinDir(): string | undefined {
    const check = spawnSync("bash", [path.join(REPO, "scripts", "toolchain.sh"), "--check"], { encoding: "utf8" });
    if (check.status === 0 && check.stdout.trim()) {
        return check.stdout.trim();
    }
    const dirs = BINARIES.map(onPath);
    return dirs.every((d) => d !== undefined) ? dirs[0] : undefined;
}

/** Where scripts/toolchain.sh put the preview-only aws/random test doubles, if installed. */
export function toolchainTestDoublesDir(): string | undefined {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "toolchain.sh"), "--test-doubles"], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

export function commandExists(name: string): boolean {
    return onPath(name) !== undefined;
}

export function engineEnv(binDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? LOCAL_PASSPHRASE,
        // Colour codes would get in the way of the assertions' messages.
        NO_COLOR: "1",
        ...extra,
    };
}

export function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        cwd: options.cwd,
        env: options.env,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 300_000,
    });
}

export function describeFailure(what: string, r: { status: number | null; stdout: string | null; stderr: string | null; error?: Error }): string {
    const tail = (s: string | null) => (s ?? "").split("\n").slice(-40).join("\n");
    return `${what} exited ${r.status}${r.error ? ` (${r.error.message})` : ""}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Manifest {
    file: string;
    object: Record<string, any>;
}

/** Every YAML document under `dir` (recursively), as npm run render wrote it. */
export function readManifests(dir: string): Manifest[] {
    const out: Manifest[] = [];
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, entry.name);
            if (entry.isDirectory()) {
                walk(p);
            } else if (/\.ya?ml$/.test(entry.name)) {
                for (const doc of yaml.loadAll(fs.readFileSync(p, "utf8"))) {
                    if (doc && typeof doc === "object") {
                        out.push({ file: path.relative(dir, p), object: doc as Record<string, any> });
                    }
                }
            }
        }
    };
    walk(dir);
    return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** apiVersion/kind/namespace/name: how the API server identifies an object. */
export function objectKey(o: Record<string, any>): string {
    return [o.apiVersion, o.kind, o.metadata?.namespace ?? "", o.metadata?.name].join(" ");
}

/** Drops nulls/undefined and empty objects the engine would not send, for comparisons. */
export function normalize(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(normalize);
    }
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            if (v === null || v === undefined) {
                continue;
            }
            out[k] = normalize(v);
        }
        return out;
    }
    return value;
}

/** The policy names of the violations a streamed `pulumi preview --json` reported. */
export function policyNamesFromEvents(stdout: string): string[] {
    const names = new Set<string>();
    for (const line of stdout.split("\n")) {
        if (!line.includes("\"policyEvent\"")) {
            continue;
        }
        try {
            const ev = JSON.parse(line);
            if (ev.policyEvent?.policyName) {
                names.add(ev.policyEvent.policyName);
            }
        } catch {
            // not an event line
        }
    }
    return [...names].sort();
}

/**
 * Policy names of the violations in `npm run policy:check -- --json` output: every
 * "policyName" (or "policy" holding a string) found anywhere in the JSON document.
 */
export function policyNamesFromRunnerJson(stdout: string): string[] {
    const start = stdout.search(/^[[{]/m);
    if (start < 0) {
        throw new Error(`policy:check --json printed no JSON:\n${stdout.slice(0, 2000)}`);
    }
    const doc = JSON.parse(stdout.slice(start));
    const names = new Set<string>();
    const walk = (v: unknown) => {
        if (Array.isArray(v)) {
            v.forEach(walk);
        } else if (v && typeof v === "object") {
            for (const [k, child] of Object.entries(v)) {
                if ((k === "policyName" || k === "policy") && typeof child === "string") {
                    names.add(child);
                } else {
                    walk(child);
                }
            }
        }
    };
    const violations = (doc as any)?.violations ?? doc;
    walk(violations);
    return [...names].sort();
}

export interface RunResult {
    status: number | null;
    stdout: string;
    stderr: string;
    error?: Error;
}

/** Like run(), without blocking the event loop (so several can run at once). */
export function runAsync(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
    return new Promise((resolve) => {
        const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 300_000 });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        child.on("error", (error) => resolve({ status: null, stdout, stderr, error }));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const item = items[next++];
            await fn(item);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Stack names with a Pulumi.<stack>.yaml in `dir`. */
export function stacksIn(dir: string): string[] {
    return fs.readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}
