// Reads the report `jest --json` wrote and prints CI's last line, "N passed, N failed". Nothing may
// skip in CI (README: every suite runs with KUBEPOLARIS_REQUIRE_* set), so a skipped, pending or
// todo test counts as a failure and is named, file and full title, on its own line first.
//
//   ts-node --transpile-only scripts/test-summary.ts <jest --json report>
//
// Exit status: 0 only when every test passed and none was skipped.
import * as fs from "fs";
import * as path from "path";

/** The parts of jest's JSON report this reads. */
export interface JestReport {
    numPassedTests: number;
    numFailedTests: number;
    numRuntimeErrorTestSuites: number;
    testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

export interface TestSummary {
    passed: number;
    failed: number;
    /** "file › full name (status)" of every test that did not run. */
    skipped: string[];
}

/** Statuses jest gives a test that did not run (describe.skip / test.skip, test.todo, filtered out). */
const NOT_RUN = new Set(["pending", "skipped", "todo", "disabled"]);

export function summarize(report: JestReport, root: string): TestSummary {
    const skipped = report.testResults.flatMap((file) => file.assertionResults
        .filter((t) => NOT_RUN.has(t.status))
        .map((t) => `${path.relative(root, file.name)} › ${t.fullName} (${t.status})`));
    return {
        passed: report.numPassedTests,
        failed: report.numFailedTests + report.numRuntimeErrorTestSuites + skipped.length,
        skipped,
    };
}

if (require.main === module) {
    const file = process.argv[2];
    let summary: TestSummary;
    try {
        summary = summarize(JSON.parse(fs.readFileSync(file, "utf8")) as JestReport, path.resolve(__dirname, ".."));
    } catch (e) {
        console.log(`cannot read the jest report ${file}: ${(e as Error).message}`);
        console.log("0 passed, 1 failed");
        process.exit(1);
    }
    for (const name of summary.skipped) {
        console.log(`skipped (nothing may skip in CI): ${name}`);
    }
    console.log(`${summary.passed} passed, ${summary.failed} failed`);
    process.exit(summary.failed > 0 ? 1 : 0);
}
