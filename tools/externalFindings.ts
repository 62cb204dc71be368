// Reads what kube-score (`-o json`) and Checkov (`-o json`) said about the rendered manifests and
// prints every finding that is neither fixed nor waived: one line each, then a per-tool summary.
// Exit 0 when there is none, 1 when there are findings, 2 when a report is missing or unreadable.
//
//   ts-node tools/externalFindings.ts DIR     (reads DIR/<stack>/kube-score.json and checkov.json)
import * as fs from "fs";
import * as path from "path";

export interface Finding {
    tool: "kube-score" | "checkov";
    stack: string;
    object: string;
    check: string;
    message: string;
}

export interface ToolTally {
    findings: Finding[];
    /** Checkov: waived by annotation. kube-score: not applicable, or ignored by annotation. */
    skipped: number;
    passed: number;
}

/** kube-score grades: 1 CRITICAL, 5 WARNING, 7 almost OK, 10 OK; it reports the first two. */
const KUBE_SCORE_REPORTED = 5;

export function kubeScoreFindings(stack: string, report: unknown): ToolTally {
    if (!Array.isArray(report)) {
        throw new Error("kube-score: expected a JSON array of scored objects");
    }
    const tally: ToolTally = { findings: [], skipped: 0, passed: 0 };
    for (const object of report as any[]) {
        const kind = object.type_meta?.kind ?? "?";
        const meta = object.object_meta ?? {};
        const name = `${kind} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? object.object_name}`;
        for (const result of object.checks ?? []) {
            if (result.skipped) {
                tally.skipped++;
            } else if (result.grade <= KUBE_SCORE_REPORTED) {
                const level = result.grade === 1 ? "CRITICAL" : "WARNING";
                const comments = (result.comments ?? []).map((c: any) => `${c.path ? `(${c.path}) ` : ""}${c.summary}`);
                tally.findings.push({ tool: "kube-score", stack, object: name, check: result.check.id, message: `${level}: ${comments.join("; ") || result.check.name}` });
            } else {
                tally.passed++;
            }
        }
    }
    return tally;
}

export function checkovFindings(stack: string, report: unknown): ToolTally {
    const reports = Array.isArray(report) ? report : [report];
    const tally: ToolTally = { findings: [], skipped: 0, passed: 0 };
    for (const r of reports as any[]) {
        if (r === null || typeof r !== "object") {
            throw new Error("checkov: expected a JSON object per framework");
        }
        const results = r.results;
        if (!results) {
            continue; // nothing of that framework was found
        }
        if ((results.parsing_errors ?? []).length > 0) {
            throw new Error(`checkov could not parse ${results.parsing_errors.join(", ")}`);
        }
        tally.passed += (results.passed_checks ?? []).length;
        tally.skipped += (results.skipped_checks ?? []).length;
        for (const failed of results.failed_checks ?? []) {
            tally.findings.push({ tool: "checkov", stack, object: failed.resource, check: failed.check_id, message: failed.check_name });
        }
    }
    return tally;
}

function readJson(file: string): unknown {
    if (!fs.existsSync(file)) {
        throw new Error(`missing report ${file}`);
    }
    const text = fs.readFileSync(file, "utf8");
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`${file} is not JSON (the tool failed?): ${text.slice(0, 300)}`);
    }
}

function main(dir: string | undefined): number {
    if (!dir) {
        console.error("usage: externalFindings.ts DIR");
        return 2;
    }
    const stacks = fs.readdirSync(dir).filter((s) => fs.statSync(path.join(dir, s)).isDirectory()).sort();
    if (stacks.length === 0) {
        console.error(`externalFindings: no stack reports under ${dir}`);
        return 2;
    }
    const totals: Record<string, { findings: number; skipped: number; passed: number }> = {};
    const findings: Finding[] = [];
    try {
        for (const stack of stacks) {
            for (const [tool, tallyOf] of [["kube-score", kubeScoreFindings], ["checkov", checkovFindings]] as const) {
                const tally = tallyOf(stack, readJson(path.join(dir, stack, `${tool}.json`)));
                totals[`${tool} ${stack}`] = { findings: tally.findings.length, skipped: tally.skipped, passed: tally.passed };
                findings.push(...tally.findings);
            }
        }
    } catch (err) {
        console.error(`externalFindings: ${err instanceof Error ? err.message : String(err)}`);
        return 2;
    }
    for (const f of findings) {
        console.log(`${f.tool} [${f.stack}] ${f.object}: ${f.check}: ${f.message}`);
    }
    for (const [key, t] of Object.entries(totals)) {
        console.log(`${key}: ${t.findings} unwaived finding(s), ${t.skipped} skipped or waived, ${t.passed} passed`);
    }
    return findings.length === 0 ? 0 : 1;
}

if (require.main === module) {
    process.exit(main(process.argv[2]));
}
