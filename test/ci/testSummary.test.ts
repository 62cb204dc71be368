// CI's last step (.ci/run → scripts/test-summary.ts) on jest's JSON report: nothing may skip, so a
// skipped, pending or todo test fails the run and is named; the real jest report shape is used.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..");
const SUMMARY = path.join(REPO, "scripts", "test-summary.ts");

/** Runs jest on a throwaway test file and returns the `--json` report it writes. */
function jestReport(source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubepolaris-summary-"));
    fs.writeFileSync(path.join(dir, "sample.test.js"), source);
    fs.writeFileSync(path.join(dir, "jest.config.js"), "module.exports = { testEnvironment: 'node', roots: ['<rootDir>'] };\n");
    const report = path.join(dir, "report.json");
    spawnSync(process.execPath, [require.resolve("jest/bin/jest"), "--rootDir", dir, "--json", "--outputFile", report], { cwd: dir, encoding: "utf8" });
    return report;
}

function summary(report: string) {
    return spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", SUMMARY, report], { cwd: REPO, encoding: "utf8" });
}

test("every test passed and none skipped: exit 0, '2 passed, 0 failed'", () => {
    const r = summary(jestReport("test('a', () => {}); test('b', () => {});\n"));
    expect(r.stdout.trim().split("\n").pop()).toBe("2 passed, 0 failed");
    expect(r.status).toBe(0);
});

test("a skipped suite, a skipped test and a todo fail the run, each named with its file", () => {
    const r = summary(jestReport([
        "test('runs', () => {});",
        "describe.skip('engine (skipped: not installed)', () => { test('up works', () => {}); });",
        "test.skip('cluster drains', () => {});",
        "test.todo('later');",
    ].join("\n")));
    const lines = r.stdout.trim().split("\n");
    const named = lines.slice(0, -1);
    expect(named).toHaveLength(3);
    expect(named).toEqual(expect.arrayContaining([
        expect.stringMatching(/^skipped \(nothing may skip in CI\): .*sample\.test\.js › engine \(skipped: not installed\) up works \(pending\)$/),
        expect.stringMatching(/^skipped \(nothing may skip in CI\): .*sample\.test\.js › cluster drains \(pending\)$/),
        expect.stringMatching(/^skipped \(nothing may skip in CI\): .*sample\.test\.js › later \(todo\)$/),
    ]));
    expect(lines[lines.length - 1]).toBe("1 passed, 3 failed");
    expect(r.status).toBe(1);
});

test("a failing test fails the run", () => {
    const r = summary(jestReport("test('bad', () => { throw new Error('no'); });\n"));
    expect(r.stdout.trim().split("\n").pop()).toBe("0 passed, 1 failed");
    expect(r.status).toBe(1);
});
