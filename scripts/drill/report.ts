// The drills' report: a markdown table (one row per drill and configuration, grouped by the tier
// whose PDB floor judges them), the raw series as JSON, and a PNG chart of the ready pods over time
// (Vega-Lite → SVG → resvg → PNG, all from npm, headless).
import { Resvg } from "@resvg/resvg-js";
import * as fs from "fs";
import * as path from "path";
import { Tier } from "../../config";
import { REPO } from "./configs";
import { changePoints, secondsWhere, Workload, WORKLOADS } from "./figures";
import { DrillResult, RunResult } from "./run";
import { MIX, REQUEST_KINDS, RequestKind } from "./traffic";
import type { SocketFigures } from "./sockets";
import { BACKEND } from "../../app/kubepolaris";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vega = require("vega");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vegaLite = require("vega-lite");

/** Which configurations are judged at which tier: ours at its own, the baselines at every tier ours ran at. */
export function comparisons(run: RunResult): { tier: Tier; configs: string[] }[] {
    const configs = [...new Set(run.results.map((r) => r.config))];
    const ourTiers = configs.filter((c) => c.startsWith("ours-")).map((c) => c.slice("ours-".length) as Tier);
    const baselines = configs.filter((c) => !c.startsWith("ours-"));
    const tiers: Tier[] = ourTiers.length > 0 ? ourTiers : ["small"];
    return tiers.map((tier) => ({ tier, configs: [...configs.filter((c) => c === `ours-${tier}`), ...baselines] }));
}

export function belowFloorSeconds(r: DrillResult, w: Workload, floor: number): number {
    return secondsWhere(r.samples, (s) => s.ready[w] < floor);
}

const pair = (f: (w: Workload) => string | number) => WORKLOADS.map(f).join(" / ");
const secondsOrNot = (s: number | null) => (s === null ? "not back" : String(s));

export function markdownTable(run: RunResult): string {
    const lines: string[] = [];
    for (const { tier, configs } of comparisons(run)) {
        const floor = run.floors[tier];
        lines.push(`**At tier ${tier}** — floor (what our PDB keeps at the HPA minimum): backend ${floor.backend}, frontend ${floor.frontend}. Each cell: backend / frontend.`, "");
        lines.push("| drill | configuration | min ready (of full) | s below floor | s at zero | s until full | PDB refusals | Pending at end | wall s |");
        lines.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        const drills = [...new Set(run.results.map((r) => r.drill))];
        for (const drill of drills) {
            for (const config of configs) {
                const r = run.results.find((x) => x.drill === drill && x.config === config);
                if (!r) {
                    continue;
                }
                const f = r.figures;
                lines.push(`| ${r.title} | ${config} | ${pair((w) => `${f[w].minReady} (${f[w].full})`)} | ${pair((w) => belowFloorSeconds(r, w, floor[w]))} `
                    + `| ${pair((w) => f[w].zeroS)} | ${pair((w) => secondsOrNot(f[w].recoveryS))} | ${pair((w) => f[w].evictionsRefused)} `
                    + `| ${pair((w) => f[w].pendingAtEnd)} | ${r.wallS}${r.error ? " (error)" : ""} |`);
            }
        }
        lines.push("");
    }
    return lines.join("\n");
}

const causes = (byCause: Record<string, number>) =>
    Object.keys(byCause).length === 0 ? "" : ` (${Object.entries(byCause).sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => `${c}: ${n}`).join(", ")})`;

/** Real nodes: what the requests through the edge met, one row per drill and configuration. */
export function servedTable(run: RunResult): string {
    const served = run.results.filter((r) => r.traffic);
    if (served.length === 0) {
        return "";
    }
    const lines = [
        `Requests through the edge at ${run.trafficRate}/s (per cycle of ${MIX.length}: ${REQUEST_KINDS.map((k) => `${MIX.filter((m) => m === k).length} ${KIND_NAMES[k]}`).join(", ")}), from ${TRAFFIC_NOTE}.`,
        "",
        `WebSockets: ${served[0].traffic!.sockets.sockets} held open on the backend's terminal (\`${BACKEND.api.terminalSocket}\`) through the edge, pinged every second; a drop is a close or error, hung is 5 s without a pong; "back" is how long until that client had an open socket again.`,
        "",
        "| drill | configuration | requests | failed (by cause) | s with failures | first → last failure s | login / read / page failed | p50 / p99 / max ms | WebSockets dropped (hung), back within | min ready backend / frontend |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const r of served) {
        const f = r.traffic!.figures;
        lines.push(`| ${r.title} | ${r.config} | ${f.sent} | ${f.failed}${causes(f.byCause)} | ${f.secondsWithFailures} | ${f.failureWindowS} `
            + `| ${f.byKind.login.failed} / ${f.byKind["api-read"].failed} / ${f.byKind.ui.failed} | ${f.p50Ms} / ${f.p99Ms} / ${f.maxMs} | ${socketSummary(r.traffic!.sockets)} `
            + `| ${pair((w) => `${r.figures[w].minReady} (${r.figures[w].full})`)} |${r.error ? " error" : ""}`);
    }
    lines.push("");
    return lines.join("\n");
}

/** The database drills: numbered writes through the backend's database Service (scripts/drill/dbWrites.ts). */
export function databaseTable(run: RunResult): string {
    const rows = run.results.filter((r) => r.writes);
    if (rows.length === 0) {
        return "";
    }
    const lines = [
        "Numbered writes through the database Service the backend uses, one connection each, about ten a second, from a pod in the namespace; every acknowledged row read back at the end.",
        "",
        "The machine and zone losses take a cluster DNS pod with them and run a plain client beside the writer (the short name, the cluster's default resolver): its longest pause in the same loss.",
        "",
        "| drill | configuration | database | writes acknowledged / failed | acknowledged while the pod was away | longest without a write s | the plain client's s | acknowledged writes lost | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const r of rows) {
        const w = r.writes!;
        lines.push(`| ${r.title} | ${r.config} | ${w.database ?? "—"} | ${w.acknowledged} / ${w.failed} | ${w.acknowledgedWhileAway ?? "—"} | ${w.longestGapS} | ${w.plainLongestGapS ?? "—"} | ${w.lost.length} `
            + `| ${w.goal} | ${w.problems.length === 0 ? "yes" : `**no**: ${w.problems.join("; ")}`} |`);
    }
    lines.push("");
    return lines.join("\n");
}

/** The recovery drill: the whole database lost and restored from the newest dump (scripts/drill/dbWrites.ts, recoveryFigures). */
export function recoveryTable(run: RunResult): string {
    const rows = run.results.filter((r) => r.recovery);
    if (rows.length === 0) {
        return "";
    }
    const lines = [
        "Every database member and its volume lost, the StatefulSet back as an empty cluster, `npm run db:restore -- latest`; numbered writes throughout. Goals (seed 000): RTO < 30 min, RPO < 1 h, nothing acknowledged before the dump missing.",
        "",
        "| configuration | RTO s (loss → a login) | RPO in the drill s | the schedule's worst RPO s | acknowledged before the dump / missing | acknowledged after it, lost by design | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const r of rows) {
        const f = r.recovery!;
        lines.push(`| ${r.config} | ${f.rtoS} | ${f.drillRpoS} | ${f.scheduleRpoS} | ${f.acknowledgedBeforeDump} / ${f.missingBeforeDump.length} | ${f.lostAfterDump} `
            + `| ${f.problems.length === 0 ? "yes" : `**no**: ${f.problems.join("; ")}`} |`);
    }
    lines.push("");
    return lines.join("\n");
}

const KIND_NAMES: Record<RequestKind, string> = { login: "login", "api-read": "authenticated API read", ui: "UI page" };
/** "0", or "3 (1 hung), back within 0.4–2.1 s" (or "… 1 never back"). */
export function socketSummary(s: SocketFigures): string {
    if (s.drops.length === 0) {
        return "0";
    }
    const hung = s.drops.filter((d) => d.how === "hung").length;
    const back = s.drops.map((d) => d.backAfterS).filter((b): b is number => b !== null).sort((a, b) => a - b);
    const never = s.drops.length - back.length;
    return `${s.drops.length}${hung ? ` (${hung} hung)` : ""}`
        + (back.length ? `, back within ${back[0]}–${back[back.length - 1]} s` : "")
        + (never ? `, ${never} never back` : "");
}

const TRAFFIC_NOTE = "3 s before the disruption until 3 s after full capacity was back";

export function markdownReport(run: RunResult, chartFile: string): string {
    const notes = run.results.flatMap((r) => [...r.notes, ...(r.error ? [`error: ${r.error}`] : [])].map((n) => `- ${r.config} / ${r.drill}: ${n}`));
    const t = run.timings;
    return [
        `# HA drills — ${run.startedAt.slice(0, 16).replace("T", " ")} UTC`,
        "",
        ...(run.nodes === "real" ? [
            `Cluster: Kubernetes ${run.cluster.kubernetes}, ${run.cluster.nodes} real nodes (kubelet, containerd, runc) in ${run.cluster.zones.join(", ")}; ready pods sampled every ${run.sampleMs} ms from a pod watch; load by vegeta through the edge on 127.0.0.1.`,
            "",
            servedTable(run),
            databaseTable(run),
            recoveryTable(run),
        ] : [
            `Pod start-up delay (kwok, scheduled → Ready): **${run.startDelayMs / 1000} s** (a conservative start-up); every recovery time includes it.`,
            `Cluster: Kubernetes ${run.cluster.kubernetes}, ${run.cluster.nodes} kwok nodes in ${run.cluster.zones.join(", ")}; ready pods sampled every ${run.sampleMs} ms from a pod watch.`,
        ]),
        `Load average (1/5/15 min) at the start ${run.loadAverage.start.map((x) => x.toFixed(2)).join(" ")}, at the end ${run.loadAverage.end.map((x) => x.toFixed(2)).join(" ")} (2 shared cores).`,
        `Drills: drain timeout ${t.drainTimeoutS} s, PDB refusals retried every ${t.evictionRetryS} s; chaos ${t.chaosDurationS} s, a pod every ${t.chaosIntervalS} s; ${run.nodes === "real" ? "a lost zone's machines stop and its nodes stay, NotReady" : `a lost zone's nodes stay NotReady ${t.zoneNotReadyHoldS} s after the node controller notices, then are deleted`}`
            + `${t.scaleOutLoadS ? `; scale-out: logins at ${t.scaleOutLoginRate}/s for ${t.scaleOutLoadS} s, then up to ${t.scaleInTimeoutS} s for the HPA to scale back in` : ""}.`,
        `Run from ${run.startedAt} to ${run.finishedAt}.`,
        "",
        markdownTable(run),
        `Chart: \`${chartFile}\` (ready pods over time, one panel per drill and workload, a line per configuration, the floors dashed)${run.nodes === "real" ? `; \`${chartFile.replace(/ready-pods\.png$/, "served.png")}\` (requests and failures per second through the edge, the disruption dotted)` : ""}.`,
        "",
        "## What each drill did",
        "",
        ...notes,
        "",
    ].join("\n");
}

/** The Vega-Lite spec of the chart: rows are drills, columns workloads, a step line per configuration, the tiers' floors as dashed rules. */
export function chartSpec(run: RunResult): any {
    const values: any[] = [];
    const drills = [...new Set(run.results.map((r) => r.drill))];
    for (const r of run.results) {
        for (const s of changePoints(r.samples)) {
            for (const w of WORKLOADS) {
                values.push({ drill: r.drill, workload: w, config: r.config, t: s.t, ready: s.ready[w] });
            }
        }
    }
    for (const { tier } of comparisons(run)) {
        for (const drill of drills) {
            for (const w of WORKLOADS) {
                values.push({ drill, workload: w, floor: run.floors[tier][w], floorLabel: `floor (${tier})` });
            }
        }
    }
    const most = Math.max(1, ...run.results.flatMap((r) => r.samples.flatMap((s) => WORKLOADS.map((w) => s.ready[w]))));
    const ticks = Array.from({ length: most + 2 }, (_, i) => i);
    return {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        background: "white",
        data: { values },
        facet: {
            row: { field: "drill", type: "nominal", sort: drills, header: { labelAngle: -90, labelFontSize: 13, labelFontWeight: "bold", title: null } },
            column: { field: "workload", type: "nominal", sort: [...WORKLOADS], header: { labelFontSize: 13, title: null } },
        },
        spec: {
            width: 420, height: 130,
            layer: [
                {
                    transform: [{ filter: "isValid(datum.config)" }],
                    mark: { type: "line", interpolate: "step-after", strokeWidth: 2, opacity: 0.8, clip: true },
                    encoding: {
                        x: { field: "t", type: "quantitative", title: "seconds since the drill started" },
                        y: { field: "ready", type: "quantitative", title: "ready pods", scale: { domain: [0, most + 1] }, axis: { values: ticks, format: "d" } },
                        color: { field: "config", type: "nominal", title: "configuration" },
                    },
                },
                {
                    transform: [{ filter: "isValid(datum.floor)" }],
                    mark: { type: "rule", strokeWidth: 1.5, opacity: 0.8 },
                    encoding: {
                        y: { field: "floor", type: "quantitative" },
                        strokeDash: { field: "floorLabel", type: "nominal", title: "availability floor", scale: { range: [[6, 4], [2, 3]] } },
                        color: { value: "#444" },
                    },
                },
            ],
        },
        resolve: { scale: { x: "independent" } },
        config: { font: "DejaVu Sans", view: { stroke: "#ccc" } },
    };
}

/**
 * Real nodes: requests per second (thin) and failed requests per second (thick) through the edge,
 * a row per drill, a colour per configuration; the disruption's start and end as dotted rules.
 */
export function servedChartSpec(run: RunResult): any {
    const values: any[] = [];
    const drills = [...new Set(run.results.filter((r) => r.traffic).map((r) => r.drill))];
    for (const r of run.results) {
        if (!r.traffic) {
            continue;
        }
        for (const p of r.traffic.series) {
            values.push({ drill: r.drill, config: r.config, t: p.s, series: "sent/s", n: p.sent });
            values.push({ drill: r.drill, config: r.config, t: p.s, series: "failed/s", n: p.failed });
        }
        for (const [i, at] of r.traffic.disruptionS.entries()) {
            values.push({ drill: r.drill, config: r.config, event: i === 0 ? "disruption starts" : "disruption over", at });
        }
    }
    return {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        background: "white",
        data: { values },
        facet: { row: { field: "drill", type: "nominal", sort: drills, header: { labelAngle: -90, labelFontSize: 13, labelFontWeight: "bold", title: null } } },
        spec: {
            width: 720, height: 150,
            layer: [
                {
                    transform: [{ filter: "isValid(datum.series)" }],
                    mark: { type: "line", interpolate: "step-after", clip: true },
                    encoding: {
                        x: { field: "t", type: "quantitative", title: "seconds since the traffic started" },
                        y: { field: "n", type: "quantitative", title: "requests per second" },
                        color: { field: "config", type: "nominal", title: "configuration" },
                        strokeWidth: { field: "series", type: "nominal", title: null, scale: { domain: ["sent/s", "failed/s"], range: [1, 3] } },
                        strokeDash: { field: "series", type: "nominal", title: null, scale: { domain: ["sent/s", "failed/s"], range: [[4, 2], [1, 0]] } },
                        detail: { field: "series" },
                    },
                },
                {
                    transform: [{ filter: "isValid(datum.event)" }],
                    mark: { type: "rule", strokeDash: [2, 3], opacity: 0.7 },
                    encoding: { x: { field: "at", type: "quantitative" }, color: { field: "config", type: "nominal" } },
                },
            ],
        },
        resolve: { scale: { x: "independent" } },
        config: { font: "DejaVu Sans", view: { stroke: "#ccc" } },
    };
}

export async function chartPng(run: RunResult, spec: any = chartSpec(run)): Promise<Buffer> {
    const compiled = vegaLite.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none" });
    const svg: string = await view.toSVG();
    view.finalize();
    const png = new Resvg(svg, {
        fitTo: { mode: "zoom", value: 2 },
        font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
        background: "white",
    }).render().asPng();
    return Buffer.from(png);
}

/** Writes latest.md, latest.json and ready-pods.png (and, on real nodes, served.png) into `dir`; returns their paths. */
export async function writeReport(run: RunResult, dir: string): Promise<{ markdown: string; json: string; png: string; servedPng?: string }> {
    fs.mkdirSync(dir, { recursive: true });
    const files = { markdown: path.join(dir, "latest.md"), json: path.join(dir, "latest.json"), png: path.join(dir, "ready-pods.png"),
        servedPng: run.results.some((r) => r.traffic) ? path.join(dir, "served.png") : undefined };
    fs.writeFileSync(files.json, JSON.stringify(run, null, 1));
    fs.writeFileSync(files.png, await chartPng(run));
    if (files.servedPng) {
        fs.writeFileSync(files.servedPng, await chartPng(run, servedChartSpec(run)));
    }
    fs.writeFileSync(files.markdown, markdownReport(run, path.relative(REPO, files.png)));
    return files;
}
