// The `npm run policy:check` contract other tools call: arguments, output formats, exit codes,
// and a --program outside this repository resolving @pulumi/* from this repository.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatRows, parseArgs, UsageError } from "../../tools/policyRunner/cli";

const ROOT = path.resolve(__dirname, "..", "..");

function policyCheck(args: string[], cwd = ROOT) {
    const result = spawnSync("npm", ["run", "-s", "policy:check", "--", ...args], { cwd, encoding: "utf8", env: { ...process.env, INIT_CWD: cwd } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("arguments", () => {
    test("flags, relative paths against the caller's directory, defaults", () => {
        expect(parseArgs(["--stack", "prod", "--program", "x/index.ts", "--policy-config=cfg.json", "--json"], "/work")).toEqual({
            stack: "prod", program: "/work/x/index.ts", policyConfig: "/work/cfg.json", json: true, preview: true,
        });
        expect(parseArgs(["-s", "dev", "--up"], "/w")).toEqual({ stack: "dev", program: undefined, policyConfig: undefined, json: false, preview: false });
    });
    test.each([[[]], [["--stack"]], [["--stack", "dev", "--bogus"]], [["--program", "a.ts"]]])("%p is a usage error", (argv) => {
        expect(() => parseArgs(argv, "/")).toThrow(UsageError);
    });
});

test("rows: policy, level, URN, message", () => {
    const rows = formatRows({
        violations: [
            { policy: "pdb-coverage", level: "mandatory", urn: "urn:a", message: "two\nlines" },
            { policy: "ingress-tls", level: "advisory", urn: "urn:b", message: "m" },
        ],
    } as any);
    expect(rows.split("\n")).toEqual(["pdb-coverage  mandatory  urn:a  two lines", "ingress-tls   advisory   urn:b  m"]);
});

describe("npm run policy:check", () => {
    let outside: string;

    beforeAll(() => {
        // A broken program outside the repository: no node_modules of its own.
        outside = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
        fs.cpSync(path.join(ROOT, "test", "fixtures", "_lib"), path.join(outside, "_lib"), { recursive: true });
        fs.cpSync(path.join(ROOT, "test", "fixtures", "rds-multi-az-false"), path.join(outside, "program"), { recursive: true });
    });

    afterAll(() => fs.rmSync(outside, { recursive: true, force: true }));

    test("a program outside the repo, --json: exit 1 and one object per violation", () => {
        const { status, stdout, stderr } = policyCheck(["--stack", "ci", "--program", path.join(outside, "program", "index.ts"),
            "--json", "--policy-config", "policy/config/prod.json"]);
        expect(stderr).toContain("Pulumi.ci.yaml does not exist");
        expect(status).toBe(1);
        const parsed = JSON.parse(stdout);
        expect(Object.keys(parsed)).toEqual(["violations"]);
        expect(parsed.violations).toEqual([{
            policy: "rds-multi-az",
            level: "mandatory",
            urn: "urn:pulumi:ci::fixture-rds-multi-az-false::aws:rds/instance:Instance::db-primary",
            message: expect.stringContaining("multiAz is false"),
        }]);
    }, 60000);

    test("this project's prod stack: exit 0 with a summary", () => {
        const { status, stdout } = policyCheck(["--stack", "prod", "--policy-config", "policy/config/prod.json"]);
        expect(status).toBe(0);
        expect(stdout).toMatch(/^0 violation\(s\): 0 mandatory, 0 advisory \(stack prod, \d+ resources, index.ts, policy config policy\/config\/prod.json, preview, [\d.]+s\)\n$/);
    }, 60000);

    test("advisory violations only: rows, exit 0", () => {
        const { status, stdout } = policyCheck(["--stack", "ci", "--program", "test/fixtures/ingress-websocket-services/index.ts", "--policy-config", "policy/config/prod.json"]);
        expect(status).toBe(0);
        expect(stdout).toMatch(/^ingress-no-websocket-services-annotation {2}advisory {2}urn:pulumi:ci::fixture-ingress-websocket-services::kubernetes:networking.k8s.io\/v1:Ingress::ingress {2}has nginx/);
    }, 60000);

    test("errors exit 2: no such stack option value, an invalid policy config, a failing program", () => {
        expect(policyCheck([]).status).toBe(2);
        const badConfig = path.join(outside, "bad.json");
        fs.writeFileSync(badConfig, JSON.stringify({ "rds-backup-retention": { minimumDays: 0 } }));
        const invalid = policyCheck(["--stack", "prod", "--policy-config", badConfig]);
        expect(invalid.status).toBe(2);
        expect(invalid.stderr).toContain("rds-backup-retention: minimumDays: must be >= 1, given 0");
        const thrower = path.join(outside, "program", "throws.ts");
        fs.writeFileSync(thrower, 'throw new Error("program failed on purpose");\n');
        const failed = policyCheck(["--stack", "ci", "--program", thrower]);
        expect(failed.status).toBe(2);
        expect(failed.stderr).toContain("program failed on purpose");
    }, 60000);
});
