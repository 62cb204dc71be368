// The CI drill (npm run drill -- --fast): a local control plane of the test's own, the local stack
// deployed by the real engine at tier small, one node drain (the busiest node, through the Eviction
// API, honouring PDBs), ready pods sampled from a pod watch. Asserted: our ready pods never fall
// below the PDB floor, and capacity is back within kwok's start-up delay plus 15 s. The report
// (markdown, JSON, PNG) is written too. Skipped, not failed, when the cluster binaries or the
// Pulumi toolchain are missing, unless KUBEPOLARIS_REQUIRE_CLUSTER=1 or KUBEPOLARIS_REQUIRE_ENGINE=1.
import * as fs from "fs";
import * as path from "path";
import { floorsAt } from "../../scripts/drill/configs";
import { FULL_TIMINGS } from "../../scripts/drill/drills";
import { WORKLOADS } from "../../scripts/drill/figures";
import { belowFloorSeconds, writeReport } from "../../scripts/drill/report";
import { clusterEnv, RunResult, runDrills } from "../../scripts/drill/run";
import { tempDir, toolchainBinDir } from "../engine/engine";
import { clusterBinDir, clusterScript, freePortBase, processesUsing } from "../cluster/cluster";

const READY = Boolean(clusterBinDir() && toolchainBinDir());
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1" || process.env.KUBEPOLARIS_REQUIRE_ENGINE === "1";
const describeDrill = READY || REQUIRED ? describe : describe.skip;
const suite = READY
    ? "npm run drill -- --fast: a node drain on the local stack (tier small)"
    : "npm run drill -- --fast (skipped: run scripts/cluster/ensure.sh and scripts/toolchain.sh)";

// A conservative start-up (on the real nodes a replacement backend is ready within a few seconds:
// docs/drills.md), so the recovery time is an upper bound.
const START_DELAY_S = 10;

describeDrill(suite, () => {
    const workDir = tempDir("kubepolaris-drill-test-");
    const options = { workDir, portBase: freePortBase(), startDelay: `${START_DELAY_S}s` };
    const logs: string[] = [];
    let run: RunResult;

    beforeAll(async () => {
        if (!READY) {
            throw new Error("the cluster binaries or the Pulumi toolchain are not installed: run scripts/cluster/ensure.sh and scripts/toolchain.sh");
        }
        run = await runDrills({
            ...options,
            nodes: "kwok", trafficRate: 0,
            configs: ["ours-small"], drills: ["drain-one"],
            timings: { ...FULL_TIMINGS, drainTimeoutS: 60 },
            keepCluster: false, settleS: 60,
            log: (m) => logs.push(m),
        });
    }, 840_000);

    afterAll(() => {
        // runDrills stops the cluster it started; this is the backstop when it was interrupted.
        const env = clusterEnv(options);
        clusterScript({ env, stateDir: env.KUBEPOLARIS_CLUSTER_DIR as string, kubectl: "" }, "down");
        console.log(logs.join("\n"));
        fs.rmSync(workDir, { recursive: true, force: true });
    }, 120_000);

    test("the drain evicted our pods through the Eviction API and the run recorded them", () => {
        expect(run.results.map((r) => [r.config, r.drill, r.error])).toEqual([["ours-small", "drain-one", undefined]]);
        const [r] = run.results;
        expect(r.notes.join("\n")).toMatch(/drained kwok-node-\d+: \d+ pods evicted \([1-9]\d* of backend\/frontend\)/);
        // The busiest node held a backend pod: the drill took capacity away, so the floor was tested.
        expect(WORKLOADS.some((w) => r.figures[w].minReady < r.figures[w].full)).toBe(true);
        expect(run.startDelayMs).toBe(START_DELAY_S * 1000);
        expect(r.samples.length).toBeGreaterThan(20);
    });

    test("our ready pods never fell below the PDB floor, and nothing was left Pending", () => {
        const [r] = run.results;
        const floor = floorsAt("small");
        for (const w of WORKLOADS) {
            expect({ w, minReady: r.figures[w].minReady >= floor[w], belowFloorS: belowFloorSeconds(r, w, floor[w]), pending: r.figures[w].pendingAtEnd })
                .toEqual({ w, minReady: true, belowFloorS: 0, pending: 0 });
        }
    });

    test("full capacity was back within the start-up delay plus 15 s", () => {
        const [r] = run.results;
        for (const w of WORKLOADS) {
            const back = r.figures[w].recoveryS;
            expect({ w, back: back !== null && back <= START_DELAY_S + 15 }).toEqual({ w, back: true });
        }
    });

    test("the report has the row, the raw series and a PNG chart; no process of the cluster is left", async () => {
        const files = await writeReport(run, path.join(workDir, "report"));
        expect(fs.readFileSync(files.markdown, "utf8")).toMatch(/\| drain one node \| ours-small \| 1 \(2\) \/ \d \(2\) \| 0 \/ 0 \|/);
        expect(JSON.parse(fs.readFileSync(files.json, "utf8")).results[0].samples.length).toBe(run.results[0].samples.length);
        expect(fs.readFileSync(files.png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        expect(processesUsing(path.join(workDir, "cluster"))).toEqual([]);
    });
});
