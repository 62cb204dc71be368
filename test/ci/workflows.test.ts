// The GitHub workflows users copy would pass on a fresh GitHub-hosted runner: every precondition
// of `npm test` is provided by the steps of the job that runs it. The preconditions are read from
// the code, not listed here: the KUBEPOLARIS_REQUIRE_* switches the suites read, the source folders
// the build scripts default to beside the repo (and the checkout scripts/toolchain.versions names
// for each), the tools the pretest's scripts run (Go, at the pinned language level; Node, at
// package.json's engines), root (the pretest's root-only parts), the toolchain cache dir the
// scripts use, the skip check .ci/run applies. Removing any providing step makes the check fail.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

const REPO = path.resolve(__dirname, "..", "..");
const WORKFLOWS = path.join(REPO, ".github", "workflows");
const TEST_WORKFLOW = "test.yml";

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, any>; env?: Record<string, string>; if?: string };
type Job = {
    "timeout-minutes"?: number; env?: Record<string, string>; steps?: Step[]; uses?: string; with?: Record<string, any>; needs?: string | string[];
    defaults?: { run?: { "working-directory"?: string } };
};
type Workflow = { jobs: Record<string, Job> };

const workflow = (file: string): Workflow => yaml.load(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;

function filesUnder(dir: string, ext: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? (e.name === "node_modules" ? [] : filesUnder(p, ext)) : p.endsWith(ext) ? [p] : [];
    });
}

/** scripts/toolchain.versions as bash sees it (its values may refer to each other). */
function versions(): Record<string, string> {
    const out = spawnSync("bash", ["-c", `set -a; source "${path.join(REPO, "scripts", "toolchain.versions")}"; env -0`], { encoding: "utf8" }).stdout;
    return Object.fromEntries(out.split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

/** Every script `npm test`'s pretest runs, following `scripts/….sh` mentions from scripts/test-prereqs.sh. */
function pretestScripts(): string[] {
    const seen = new Set<string>();
    const visit = (rel: string) => {
        if (seen.has(rel) || !fs.existsSync(path.join(REPO, rel))) {
            return;
        }
        seen.add(rel);
        for (const m of fs.readFileSync(path.join(REPO, rel), "utf8").matchAll(/scripts\/[\w./-]+\.sh/g)) {
            visit(m[0]);
        }
    };
    const pretest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).scripts.pretest as string;
    for (const m of pretest.matchAll(/scripts\/[\w./-]+\.sh/g)) {
        visit(m[0]);
    }
    return [...seen];
}

export interface Preconditions {
    /** Variables the suites compare to "1" to turn a skip into a failure. */
    requireFlags: string[];
    /** Variables naming a source folder the scripts default to beside the repo, with the checkout that provides it. */
    sources: { variable: string; repository: string; ref: string; folder?: string }[];
    /** Go language level the builds need (scripts/toolchain.versions GO_MIN_VERSION), when a pretest script runs go. */
    go?: string;
    /** Lowest Node.js major (package.json engines). */
    nodeMajor: number;
    /** The pretest has parts that only run as root. */
    root: boolean;
    /** The toolchain cache dir the scripts default to. */
    toolchainDir: string;
}

export function preconditions(): Preconditions {
    const tests = filesUnder(path.join(REPO, "test"), ".ts").map((f) => fs.readFileSync(f, "utf8"));
    const requireFlags = [...new Set(tests.flatMap((t) => [...t.matchAll(/process\.env\.(KUBEPOLARIS_REQUIRE_[A-Z_]+) === "1"/g)].map((m) => m[1])))].sort();
    const scripts = filesUnder(path.join(REPO, "scripts"), ".sh").map((f) => fs.readFileSync(f, "utf8"));
    const sourceVars = [...new Set(scripts.flatMap((s) => [...s.matchAll(/\$\{([A-Z_]+):-[^}]*shared\/vendor\//g)].map((m) => m[1])))].sort();
    const pins = versions();
    const sources = sourceVars.map((variable) => {
        const spec = pins[`CHECKOUT_${variable}`];
        const m = spec === undefined ? null : /^([\w.-]+\/[\w.-]+)@([^:]+)(?::(.+))?$/.exec(spec);
        if (!m) {
            throw new Error(`scripts default ${variable} to a folder beside the repo, but scripts/toolchain.versions has no CHECKOUT_${variable}=<owner>/<repo>@<ref>[:<folder>] for CI`);
        }
        return { variable, repository: m[1], ref: m[2], folder: m[3] };
    });
    const pretest = pretestScripts().map((rel) => fs.readFileSync(path.join(REPO, rel), "utf8"));
    const runsGo = pretest.some((s) => /(^|[\s;(&|])go (install|build|mod|list|run)\b/m.test(s));
    const engines = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).engines.node as string;
    const toolchainDir = /\$\{KUBEPOLARIS_TOOLCHAIN_DIR:-\$HOME\/([^}]+)\}/.exec(scripts.join("\n"))![1];
    return {
        requireFlags,
        sources,
        go: runsGo ? pins.GO_MIN_VERSION : undefined,
        nodeMajor: Number(/>=\s*(\d+)/.exec(engines)![1]),
        root: pretest.some((s) => /"\$\(id -u\)" -eq 0/.test(s)),
        toolchainDir: `~/${toolchainDir}`,
    };
}

/** The cold CI time measured on this project (docs/ci.md): the job's timeout must cover it with room. */
const SLOWEST_COLD_RUN_MINUTES = 80;

const minor = (v: string) => v.split(".").slice(0, 2).map(Number);
const atLeast = (have: string, need: string) => {
    const [a, b] = [minor(have), minor(need)];
    return a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]);
};

/** What the job fails to provide for `npm test` (empty: everything). */
export function missing(job: Job, pre: Preconditions): string[] {
    const problems: string[] = [];
    const steps = job.steps ?? [];
    const testAt = steps.findIndex((s) => /\bnpm test\b/.test(s.run ?? ""));
    if (testAt < 0) {
        return ["no step runs npm test"];
    }
    const test = steps[testAt];
    const before = steps.slice(0, testAt);
    const env = { ...(job.env ?? {}), ...(test.env ?? {}) };
    const uses = (action: string) => before.filter((s) => s.uses?.startsWith(`${action}@`));

    for (const flag of pre.requireFlags) {
        if (env[flag] !== "1") {
            problems.push(`${flag} is not "1": the suites that read it would skip`);
        }
    }
    if (env.KUBEPOLARIS_TEST_PREREQS === "skip") {
        problems.push("KUBEPOLARIS_TEST_PREREQS=skip: the pretest would install nothing");
    }

    const checkouts = uses("actions/checkout");
    const own = checkouts.find((s) => s.with?.repository === undefined);
    const ownPath = own?.with?.path ?? "";
    if (!own) {
        problems.push("no checkout of this repository before npm test");
    } else if ((job.defaults?.run?.["working-directory"] ?? "") !== ownPath) {
        problems.push(`the repository is checked out at "${ownPath}" but steps run in "${job.defaults?.run?.["working-directory"] ?? ""}"`);
    }
    for (const source of pre.sources) {
        const where = `${source.repository}@${source.ref}${source.folder ? `:${source.folder}` : ""}`;
        const checkout = checkouts.find((s) => s.with?.repository === source.repository && s.with?.ref === source.ref && s.with?.path);
        const expected = checkout && `\${{ github.workspace }}/${checkout.with!.path}${source.folder ? `/${source.folder}` : ""}`;
        if (!checkout) {
            problems.push(`${source.variable}: no checkout of ${where} before npm test`);
        } else if (env[source.variable] !== expected) {
            problems.push(`${source.variable} is ${JSON.stringify(env[source.variable])}, not the checkout of ${where} (${expected})`);
        } else if (source.folder && checkout.with!["sparse-checkout"] !== undefined
            && !String(checkout.with!["sparse-checkout"]).split(/\s+/).includes(source.folder)) {
            problems.push(`${source.variable}: the sparse checkout of ${source.repository} leaves out ${source.folder}`);
        }
    }

    if (pre.go !== undefined) {
        const setupGo = uses("actions/setup-go")[0];
        if (!setupGo || !atLeast(String(setupGo.with?.["go-version"] ?? "0.0"), pre.go)) {
            problems.push(`no actions/setup-go with go-version at least ${pre.go} before npm test (the pretest builds with go)`);
        }
    }
    const setupNode = uses("actions/setup-node")[0];
    if (!setupNode || Number(String(setupNode.with?.["node-version"] ?? "0").split(".")[0]) < pre.nodeMajor) {
        problems.push(`no actions/setup-node with node-version ${pre.nodeMajor} or later before npm test (package.json engines)`);
    }

    const command = (test.run ?? "").split("\n").find((line) => /\bnpm test\b/.test(line)) ?? "";
    if (pre.root && !/^\s*sudo (-E|--preserve-env)\b.*"HOME=\$HOME".*\bnpm test\b/.test(command)) {
        problems.push("npm test does not run as root with the runner's environment and HOME (sudo -E env … \"HOME=$HOME\" npm test): the root-only parts would not run");
    }
    if (!/scripts\/test-summary\.ts/.test(test.run ?? "")) {
        problems.push("the npm test step does not fail on skipped tests (scripts/test-summary.ts over jest's --json report)");
    }

    const caches = uses("actions/cache");
    const keyed = caches.find((s) => String(s.with?.path ?? "").split("\n").map((p) => p.trim()).includes(pre.toolchainDir)
        && String(s.with?.key ?? "").includes(`hashFiles('${ownPath ? `${ownPath}/` : ""}scripts/toolchain.versions')`));
    if (!keyed) {
        problems.push(`no actions/cache of ${pre.toolchainDir} keyed on scripts/toolchain.versions before npm test`);
    }

    if ((job["timeout-minutes"] ?? 360) < 1.5 * SLOWEST_COLD_RUN_MINUTES) {
        problems.push(`timeout-minutes ${job["timeout-minutes"]} is under 1.5 × the slowest cold run (${SLOWEST_COLD_RUN_MINUTES} min)`);
    }
    return problems;
}

const pre = preconditions();
const pins = versions();
const testJob = () => workflow(TEST_WORKFLOW).jobs.test;

test("the preconditions read from the code are the ones this project has", () => {
    expect(pre).toEqual({
        requireFlags: ["KUBEPOLARIS_REQUIRE_APP", "KUBEPOLARIS_REQUIRE_CLUSTER", "KUBEPOLARIS_REQUIRE_ENGINE"],
        // The tag shapes are upstream's (KubePolaris tags kubepolaris-<version>, not v<version>); the versions are the pins.
        sources: [
            { variable: "KUBEPOLARIS_APP_SRC", repository: "clay-wangzhi/KubePolaris", ref: `kubepolaris-${pins.KUBEPOLARIS_APP_VERSION}`, folder: undefined },
            { variable: "PULUMI_LANGUAGE_NODEJS_SRC", repository: "pulumi/pulumi", ref: `v${pins.PULUMI_VERSION}`, folder: "sdk/nodejs/cmd/pulumi-language-nodejs" },
        ],
        go: "1.25.11",
        nodeMajor: 20,
        root: true,
        toolchainDir: "~/.cache/kubepolaris-toolchain",
    });
});

test("the test workflow's job provides every precondition of npm test", () => {
    expect(missing(testJob(), pre)).toEqual([]);
});

test("pull requests and pushes to main run it, and the deployment waits for it; no other job runs npm test", () => {
    const pr = workflow("pull-request.yml");
    const deploy = workflow("deploy.yml");
    expect(pr.jobs.test.uses).toBe(`./.github/workflows/${TEST_WORKFLOW}`);
    expect(deploy.jobs.test.uses).toBe(`./.github/workflows/${TEST_WORKFLOW}`);
    expect([deploy.jobs.dev.needs].flat()).toContain("test");
    expect([pr.jobs.preview.needs].flat()).toContain("test");
    const others = fs.readdirSync(WORKFLOWS).filter((f) => f !== TEST_WORKFLOW && f.endsWith(".yml"))
        .flatMap((f) => Object.entries(workflow(f).jobs).flatMap(([name, job]) => (job.steps ?? []).filter((s) => /\bnpm test\b/.test(s.run ?? "")).map(() => `${f}:${name}`)));
    expect(others).toEqual([]);
});

test("the promotion stops before dev when a stack it deploys has no mirrored digests, naming the mirror command", () => {
    const deploy = workflow("deploy.yml");
    const deployed = Object.values(deploy.jobs).filter((j) => j.uses === "./.github/workflows/pulumi-stack.yml" && j.with?.command === "up").map((j) => j.with!.stack);
    expect(deployed).toEqual(["dev", "staging", "prod"]);
    const [name, job] = Object.entries(deploy.jobs).find(([, j]) => (j.steps ?? []).some((s) => /images:mirror -- --stack "\$stack" --check/.test(s.run ?? "")))!;
    const loop = /for stack in ([\w ]+); do/.exec(job.steps!.map((s) => s.run ?? "").join("\n"))![1].split(" ");
    expect(loop).toEqual(deployed);
    expect([deploy.jobs.dev.needs].flat()).toContain(name);
});

describe("removing what provides a precondition makes the check fail", () => {
    const steps = testJob().steps!;
    const providers = steps.filter((s) => s.uses && /^actions\/(checkout|setup-go|setup-node|cache)@/.test(s.uses));
    test.each(providers.map((s) => [s.name ?? `${s.uses} ${s.with?.repository ?? s.with?.path ?? ""}`.trim(), s] as const))("step: %s", (_name, step) => {
        const job = testJob();
        job.steps = job.steps!.filter((s) => JSON.stringify(s) !== JSON.stringify(step));
        expect(missing(job, pre)).not.toEqual([]);
    });
    test.each(Object.keys(testJob().env ?? {}))("variable: %s", (variable) => {
        const job = testJob();
        delete job.env![variable];
        expect(missing(job, pre).join("\n")).toContain(variable);
    });
    test("root, the skip check, the timeout", () => {
        const asUser = testJob();
        const test = asUser.steps!.find((s) => /\bnpm test\b/.test(s.run ?? ""))!;
        test.run = test.run!.replace(/sudo -E env "PATH=\$PATH" "HOME=\$HOME" /, "");
        expect(missing(asUser, pre)).toEqual([expect.stringMatching(/^npm test does not run as root/)]);
        const skipping = testJob();
        const step = skipping.steps!.find((s) => /\bnpm test\b/.test(s.run ?? ""))!;
        step.run = step.run!.replace(/\n.*test-summary\.ts.*/, "");
        expect(missing(skipping, pre)).toEqual([expect.stringMatching(/does not fail on skipped tests/)]);
        const short = { ...testJob(), "timeout-minutes": 20 };
        expect(missing(short, pre)).toEqual([`timeout-minutes 20 is under 1.5 × the slowest cold run (${SLOWEST_COLD_RUN_MINUTES} min)`]);
    });
    test("a checkout at another tag, or the variable pointing elsewhere", () => {
        const job = testJob();
        const app = pre.sources.find((s) => s.variable === "KUBEPOLARIS_APP_SRC")!;
        job.steps!.find((s) => s.with?.repository === app.repository)!.with!.ref = `v${pins.KUBEPOLARIS_APP_VERSION}`;
        expect(missing(job, pre)).toEqual([`KUBEPOLARIS_APP_SRC: no checkout of ${app.repository}@${app.ref} before npm test`]);
        const elsewhere = testJob();
        elsewhere.env!.PULUMI_LANGUAGE_NODEJS_SRC = "${{ github.workspace }}/vendor/pulumi";
        expect(missing(elsewhere, pre)).toEqual([expect.stringMatching(/^PULUMI_LANGUAGE_NODEJS_SRC is .* not the checkout of pulumi\/pulumi@v[\d.]+:sdk\/nodejs\/cmd\/pulumi-language-nodejs/)]);
    });
});

test("the KubePolaris source the tests build is the repository the workflow checks out", () => {
    const source = pre.sources.find((s) => s.variable === "KUBEPOLARIS_APP_SRC")!;
    const dir = process.env.KUBEPOLARIS_APP_SRC ?? path.join(REPO, "..", "shared", "vendor", `kubepolaris-${pins.KUBEPOLARIS_APP_VERSION}`);
    // Where the app suites run (a developer's machine, CI), the source is there; its go.mod names the repository.
    expect(fs.existsSync(path.join(dir, "go.mod"))).toBe(true);
    expect(/^module (\S+)/m.exec(fs.readFileSync(path.join(dir, "go.mod"), "utf8"))![1]).toBe(`github.com/${source.repository}`);
});
