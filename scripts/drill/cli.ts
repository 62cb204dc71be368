// npm run drill [-- options]: the HA drills on a local control plane of their own; see docs/drills.md.
//
//   --real                 real nodes (root): every drill under traffic through the edge (vegeta),
//                          failed requests and latency measured; without it, kwok's fake nodes and pod counts
//   --rate N               --real: requests per second through the edge (default 40)
//   --fast                 the CI drill: one node drain on ours at tier small (with --real: a drain
//                          and a rollout, on ours-small and naive)
//   --drills a,b           drain-one, drain-two, rollout, chaos, zone-loss (default: all); real nodes
//                          also database-restart, database-node-loss, database-full-restart (under
//                          numbered writes; zone-loss writes too), database-recovery (every member and
//                          volume lost, npm run db:restore -- latest; RTO/RPO) and scale-out (a zone loss there stops the zone's
//                          machines; scale-out floods logins until the HPA scales, on metrics-server)
//   --configs a,b          seed-ha, naive, ours-small, ours-medium (default: all, in that order; real
//                          nodes: ours-small, ours-medium, seed-ha, naive, the baselines made from our
//                          stack in place; naive's database drills disrupt a one-pod database of its own)
//   --out DIR              report folder (default reports/drills: latest.md, latest.json, ready-pods.png)
//   --keep-cluster         leave the cluster running (the next run reuses it)
//   --chaos-seconds N      how long the chaos drill deletes pods (default 60)
//   --flood-rate N         --real: logins per second of the scale-out drill's flood (default 15)
//   --render FILE          no drills: write the report again from a run's latest.json
// Environment: KUBEPOLARIS_DRILL_DIR (cluster, Pulumi state and stack mirror; default
// ~/.cache/kubepolaris-drill), KUBEPOLARIS_DRILL_PORT_BASE (default 17440),
// KUBEPOLARIS_POD_START_DELAY (kwok's start-up delay for a cluster the run starts; default 10s).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { CONFIGURATION_NAMES, REPO } from "./configs";
import { DRILLS, FULL_TIMINGS, REAL_DRILLS } from "./drills";
import { databaseTable, markdownTable, recoveryTable, servedTable, writeReport } from "./report";
import { RunOptions, RunResult, runDrills } from "./run";

export function parse(argv: string[]): { options: RunOptions; out: string; render?: string } {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                fast: { type: "boolean" },
                real: { type: "boolean" },
                rate: { type: "string" },
                "keep-cluster": { type: "boolean" },
                drills: { type: "string" },
                configs: { type: "string" },
                out: { type: "string" },
                "chaos-seconds": { type: "string" },
                "flood-rate": { type: "string" },
                render: { type: "string" },
            },
        }));
    } catch (e) {
        throw new Error((e as Error).message.split(". ")[0]);
    }
    const fast = values.fast === true;
    const value = (flag: string): string | undefined => {
        const v = values[flag.replace(/^--/, "")] as string | undefined;
        if (v !== undefined && (v === "" || v.startsWith("--"))) {
            throw new Error(`${flag} needs a value`);
        }
        return v;
    };
    const list = (flag: string, fallback: string[]) => value(flag)?.split(",").map((s) => s.trim()).filter(Boolean) ?? fallback;
    const chaos = value("--chaos-seconds");
    if (chaos !== undefined && !/^[1-9]\d*$/.test(chaos)) {
        throw new Error(`--chaos-seconds: got '${chaos}'; allowed: a whole number of seconds ≥ 1`);
    }
    const portBase = Number(process.env.KUBEPOLARIS_DRILL_PORT_BASE ?? 17440);
    const real = values.real === true;
    const flood = value("--flood-rate");
    if (flood !== undefined && (!real || !/^[1-9]\d*$/.test(flood) || Number(flood) > 100)) {
        throw new Error(`--flood-rate: got '${flood}'; allowed: with --real, a whole number of logins per second from 1 to 100`);
    }
    const rate = value("--rate");
    if (rate !== undefined && (!real || !/^[1-9]\d*$/.test(rate) || Number(rate) > 200)) {
        throw new Error(`--rate: got '${rate}'; allowed: with --real, a whole number of requests per second from 1 to 200`);
    }
    const defaultConfigs = real ? (fast ? ["ours-small", "naive"] : ["ours-small", "ours-medium", "seed-ha", "naive"]) : (fast ? ["ours-small"] : [...CONFIGURATION_NAMES]);
    const defaultDrills = real ? (fast ? ["drain-one", "rollout"] : REAL_DRILLS.map((d) => d.name)) : (fast ? ["drain-one"] : DRILLS.map((d) => d.name));
    return {
        out: path.resolve(value("--out") ?? path.join(REPO, "reports", "drills")),
        render: value("--render"),
        options: {
            nodes: real ? "real" : "kwok",
            trafficRate: Number(rate ?? 40),
            configs: list("--configs", defaultConfigs),
            drills: list("--drills", defaultDrills),
            timings: { ...FULL_TIMINGS, ...(fast ? { drainTimeoutS: 60 } : {}), ...(chaos ? { chaosDurationS: Number(chaos) } : {}),
                ...(flood ? { scaleOutLoginRate: Number(flood) } : {}) },
            workDir: process.env.KUBEPOLARIS_DRILL_DIR ?? path.join(os.homedir(), ".cache", "kubepolaris-drill"),
            portBase,
            startDelay: process.env.KUBEPOLARIS_POD_START_DELAY ?? "10s",
            keepCluster: values["keep-cluster"] === true,
            settleS: 120,
            log: (m) => console.error(`[drill ${new Date().toISOString().slice(11, 19)}] ${m}`),
        },
    };
}

async function main(): Promise<void> {
    const { options, out, render } = parse(process.argv.slice(2));
    const run: RunResult = render ? JSON.parse(fs.readFileSync(render, "utf8")) : await runDrills(options);
    const files = await writeReport(run, out);
    console.log(markdownTable(run));
    console.log(servedTable(run));
    console.log(databaseTable(run));
    console.log(recoveryTable(run));
    console.log(`report: ${files.markdown}\nseries: ${files.json}\nchart:  ${files.png}${files.servedPng ? `\nserved: ${files.servedPng}` : ""}`);
    if (run.results.some((r) => r.error)) {
        process.exitCode = 1;
    }
}

if (require.main === module) {
    main().catch((e) => {
        console.error(`drill: ${(e as Error).message}`);
        process.exit(1);
    });
}
