// The real Pulumi engine (installed by scripts/toolchain.sh) against what the mock tests and the
// offline policy runner claim. Skipped, not failed, when the toolchain is not installed.
//
//  - render: `npm run render` (pulumi up in renderYamlToDirectory mode) writes one manifest per
//    Kubernetes resource the mock run registers, with the same content; spot checks on the
//    Deployments; `promtool check rules` on every rendered PrometheusRule.
//  - policy parity: for every fixture program in test/fixtures/, `pulumi preview --policy-pack
//    policy` and `npm run policy:check` report the same policy names.
import { BACKEND } from "../../app/kubepolaris";
import { ADMIN_PASSWORD_REVISION_ANNOTATION } from "../../components/adminPassword";
import * as fs from "fs";
import * as path from "path";
import { runStack, stackAppConfig, Program } from "../support/program";
import { TYPES } from "../support/types";
import {
    commandExists, describeFailure, engineEnv, Manifest, normalize, objectKey,
    mapLimit, policyNamesFromEvents, policyNamesFromRunnerJson, readManifests, REPO, run, runAsync, stacksIn, tempDir, toolchainBinDir,
    toolchainTestDoublesDir,
} from "./engine";

const BIN = toolchainBinDir();
// CI sets KUBEPOLARIS_REQUIRE_ENGINE=1 after installing the toolchain: then missing means broken.
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_ENGINE === "1";
const describeEngine = BIN || REQUIRED ? describe : describe.skip;
const engineSuite = BIN
    ? `real Pulumi engine (${BIN})`
    : "real Pulumi engine (skipped: toolchain not installed; run scripts/toolchain.sh)";
const ENGINE_TIMEOUT = 600_000;
const FIXTURE_STACK = "fixture";
const FIXTURE_CONCURRENCY = 2;

const AUTONAMED = "pulumi.com/autonamed";

/** A rendered object, minus what only the provider adds. */
function renderedContent(m: Manifest): Record<string, any> {
    const o = JSON.parse(JSON.stringify(m.object));
    const ann = o.metadata?.annotations;
    if (ann && AUTONAMED in ann) {
        delete ann[AUTONAMED];
        if (Object.keys(ann).length === 0) {
            delete o.metadata.annotations;
        }
    }
    return o;
}

/** Secret payloads differ by design (mocks use fake values): compare their keys only. */
function withoutSecretValues(o: Record<string, any>): Record<string, any> {
    // A hash of a secret differs with it.
    const revision = o.spec?.template?.metadata?.annotations?.[ADMIN_PASSWORD_REVISION_ANNOTATION];
    if (revision !== undefined) {
        const copy = JSON.parse(JSON.stringify(o));
        copy.spec.template.metadata.annotations[ADMIN_PASSWORD_REVISION_ANNOTATION] = "<hash of a secret>";
        return copy;
    }
    if (o.kind !== "Secret") {
        return o;
    }
    // The provider may move stringData into data (base64) for a Secret holding secret values; the
    // stored Secret is the same. Compare the keys of both together.
    const { data, stringData, ...rest } = o;
    return { ...rest, payloadKeys: [...Object.keys(data ?? {}), ...Object.keys(stringData ?? {})].sort() };
}

describeEngine(engineSuite, () => {
    const env = engineEnv(BIN ?? "");
    if (!BIN) {
        test("the toolchain is installed (KUBEPOLARIS_REQUIRE_ENGINE=1)", () => {
            throw new Error("scripts/toolchain.sh --check: toolchain not installed");
        });
        return;
    }

    describe("npm run render (pulumi up, renderYamlToDirectory) on the local stack", () => {
        let outDir = "";
        let manifests: Manifest[] = [];
        let mock: Program;

        beforeAll(async () => {
            outDir = tempDir("kubepolaris-render-");
            const r = run("bash", [path.join(REPO, "scripts", "render.sh"), "--stack", "local", "--out", outDir],
                { cwd: REPO, env, timeoutMs: ENGINE_TIMEOUT });
            if (r.status !== 0) {
                throw new Error(describeFailure("scripts/render.sh", r));
            }
            manifests = readManifests(outDir);
            mock = await runStack("local");
        }, ENGINE_TIMEOUT);

        afterAll(() => {
            if (outDir) {
                fs.rmSync(outDir, { recursive: true, force: true });
            }
        });

        test("renders exactly one manifest per Kubernetes resource the mock run registers", () => {
            const mocked = mock.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:")).map((r) => objectKey(r.inputs)).sort();
            const rendered = manifests.map((m) => objectKey(m.object)).sort();
            expect(rendered).toEqual(mocked);
            expect(rendered.length).toBeGreaterThan(0);
        });

        test("each rendered manifest equals the inputs the mock run recorded", () => {
            const byKey = new Map(mock.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))
                .map((r) => [objectKey(r.inputs), r.inputs]));
            for (const m of manifests) {
                const key = objectKey(m.object);
                const expected = byKey.get(key);
                expect({ key, found: expected !== undefined }).toEqual({ key, found: true });
                expect({ file: m.file, content: normalize(withoutSecretValues(renderedContent(m))) })
                    .toEqual({ file: m.file, content: normalize(withoutSecretValues(expected!)) });
            }
        });

        test.each(["backend", "frontend"])("%s Deployment: replicas at the tier minimum, probes as the mock tests expect", (tier) => {
            const config = stackAppConfig("local") as any;
            const d = manifests.find((m) => m.object.kind === "Deployment" && m.object.metadata.name === `kubepolaris-${tier}`);
            expect(d).toBeDefined();
            const spec = d!.object.spec;
            expect(spec.replicas).toBe(config[tier].minReplicas);
            const container = spec.template.spec.containers[0];
            expect(container.livenessProbe).toBeDefined();
            expect(container.readinessProbe).toBeDefined();
            expect(container.livenessProbe).not.toEqual(container.readinessProbe);
            const mocked = mock.one(TYPES.deployment, (r) => r.inputs.metadata.name === `kubepolaris-${tier}`);
            const mockedContainer = mocked.inputs.spec.template.spec.containers[0];
            expect(normalize(container.livenessProbe)).toEqual(normalize(mockedContainer.livenessProbe));
            expect(normalize(container.readinessProbe)).toEqual(normalize(mockedContainer.readinessProbe));
            if (tier === "backend") {
                expect(container.livenessProbe.httpGet.path).toBe(BACKEND.livenessPath);
                expect(container.readinessProbe.httpGet.path).toBe(BACKEND.readinessPath);
            }
        });

        // Without promtool the test skips, unless CI requires the engine suite: then it fails, naming what is missing.
        (commandExists("promtool") || REQUIRED ? test : test.skip)("promtool check rules accepts every rendered PrometheusRule", () => {
            expect({ promtool: commandExists("promtool") ? "on PATH" : "missing: run scripts/install-promtool.sh" }).toEqual({ promtool: "on PATH" });
            const rules = manifests.filter((m) => m.object.kind === "PrometheusRule");
            const mocked = mock.resources.filter((r) => r.custom && r.inputs?.kind === "PrometheusRule");
            expect(rules.length).toBe(mocked.length);
            for (const rule of rules) {
                const file = path.join(outDir, `${rule.object.metadata.name}.rules.json`);
                // A PrometheusRule's spec is a Prometheus rule file ({ groups: [...] }); JSON is YAML.
                fs.writeFileSync(file, JSON.stringify(rule.object.spec));
                const r = run("promtool", ["check", "rules", file], { cwd: outDir, env });
                expect({ file: rule.file, status: r.status, output: `${r.stdout}${r.stderr}` })
                    .toEqual({ file: rule.file, status: 0, output: expect.stringContaining("SUCCESS") });
            }
        });
    });

    describe("policy parity: pulumi preview --policy-pack policy vs npm run policy:check, on test/fixtures", () => {
        const fixturesDir = path.join(REPO, "test", "fixtures");
        const only = (process.env.KUBEPOLARIS_ENGINE_FIXTURES ?? "").split(",").filter(Boolean);
        const fixtures = fs.existsSync(fixturesDir)
            ? fs.readdirSync(fixturesDir, { withFileTypes: true })
                .filter((e) => e.isDirectory() && fs.existsSync(path.join(fixturesDir, e.name, "Pulumi.yaml")))
                .map((e) => e.name)
                .filter((name) => only.length === 0 || only.includes(name))
                .sort()
            : [];
        // A fixture's own Pulumi.<stack>.yaml (config it needs) decides the stack; else a bare stack.
        const stackOf = (fixture: string) => stacksIn(path.join(fixturesDir, fixture))[0] ?? FIXTURE_STACK;
        const packDir = path.join(REPO, "policy");
        const packConfig = path.join(packDir, "config", "prod.json");
        const testDoubles = toolchainTestDoublesDir();
        if (fixtures.length === 0 || !fs.existsSync(path.join(packDir, "PulumiPolicy.yaml")) || !testDoubles) {
            // Skipped on a machine without them; under KUBEPOLARIS_REQUIRE_ENGINE a failure naming what is missing.
            (REQUIRED ? test : test.skip)("fixture programs, the policy pack and the aws/random test doubles are there", () => {
                const missing = [fixtures.length === 0 && "fixture programs (test/fixtures/<name>/Pulumi.yaml)",
                    !fs.existsSync(path.join(packDir, "PulumiPolicy.yaml")) && "policy/PulumiPolicy.yaml",
                    !testDoubles && "the aws/random test doubles (scripts/toolchain.sh --test-doubles)"].filter(Boolean);
                expect(missing).toEqual([]);
            });
            return;
        }

        // The fixtures run from a copy: `pulumi stack init` writes into the project directory, and a
        // copy has no package.json above it that could redirect the entry point.
        let work = "";
        const results = new Map<string, { engine: string[]; runner: string[]; previewStatus: number | null; problem?: string }>();

        beforeAll(async () => {
            work = tempDir("kubepolaris-fixtures-");
            fs.cpSync(fixturesDir, path.join(work, "fixtures"), { recursive: true });
            fs.symlinkSync(path.join(REPO, "node_modules"), path.join(work, "node_modules"));
            const penv = {
                ...env,
                // The fixtures register AWS resources: preview them with the echo test doubles.
                PATH: `${env.PATH}${path.delimiter}${testDoubles}`,
                PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true",
            };
            await mapLimit(fixtures, FIXTURE_CONCURRENCY, async (fixture) => {
                const program = path.join(work, "fixtures", fixture);
                const state = path.join(work, "state", fixture);
                fs.mkdirSync(state, { recursive: true });
                const fenv = { ...penv, PULUMI_BACKEND_URL: `file://${state}` };
                const stack = stackOf(fixture);
                const init = await runAsync("pulumi", ["stack", "init", stack, "--non-interactive"], { cwd: program, env: fenv });
                const preview = init.status === 0
                    ? await runAsync("pulumi", ["preview", "--stack", stack, "--json", "--non-interactive",
                        "--policy-pack", packDir, "--policy-pack-config", packConfig], { cwd: program, env: fenv, timeoutMs: ENGINE_TIMEOUT })
                    : init;
                const runner = await runAsync("npm", ["run", "--silent", "policy:check", "--", "--stack", stack,
                    "--program", path.join(program, "index.ts"), "--policy-config", packConfig, "--json"],
                { cwd: REPO, env: { ...env, INIT_CWD: REPO }, timeoutMs: ENGINE_TIMEOUT });
                const engine = policyNamesFromEvents(preview.stdout);
                let problem: string | undefined;
                // Policy violations fail a preview; anything else failing it is a problem.
                if (preview.status !== 0 && engine.length === 0) {
                    problem = describeFailure("pulumi preview --policy-pack", preview);
                }
                let runnerNames: string[] = [];
                try {
                    runnerNames = policyNamesFromRunnerJson(runner.stdout);
                } catch (e) {
                    problem = `${problem ?? ""}\n${describeFailure("npm run policy:check", runner)}\n${(e as Error).message}`;
                }
                results.set(fixture, { engine, runner: runnerNames, previewStatus: preview.status, problem });
            });
        }, ENGINE_TIMEOUT * 3);

        afterAll(() => {
            if (work) {
                fs.rmSync(work, { recursive: true, force: true });
            }
        });

        test.each(fixtures)("fixture %s: the engine and the offline runner report the same policies", (fixture) => {
            const r = results.get(fixture);
            expect(r).toBeDefined();
            expect(r!.problem).toBeUndefined();
            expect({ fixture, policies: r!.runner }).toEqual({ fixture, policies: r!.engine });
            // Every fixture but "good" is broken on purpose: the engine must catch it.
            if (fixture === "good") {
                expect(r!.engine).toEqual([]);
                expect(r!.previewStatus).toBe(0);
            } else {
                expect(r!.engine.length).toBeGreaterThan(0);
            }
        });
    });
});
