// The offline runner on programs that were not written for this pack (test/corpus/): a
// guestbook-style app, an AWS program built on data sources, a Helm chart and release user, a plain
// Deployment + Service, a component-based ES module, ECS with RDS, S3 with CloudFront, and a program
// using @pulumi/command. It judges what it can (exit 0 or 1), answers the common data-source
// invokes plausibly, and stops with exit 2 and one line naming what it cannot supply (an invoke, a
// provider-built component, a Helm release) or where the program failed, never with a stack trace.
// (component-esm and build-and-upload are excluded from the root tsconfig: the first is an ES
// module with its own tsconfig, the second imports @pulumi/command, which only its own
// node_modules has, created here at run time.)
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { computedAtUp } from "../../tools/computedState";
import { runUnderMocks, UNKNOWN } from "../../tools/mockRun";
import { CheckInputError, policyCheck, programEntry } from "../../tools/policyRunner/check";
import { main } from "../../tools/policyRunner/cli";

const ROOT = path.resolve(__dirname, "..", "..");
const CORPUS = path.join(ROOT, "test", "corpus");

/** `policy:check` in this process: exit code, stdout and stderr. */
async function check(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => { out.push(a.join(" ")); });
    const error = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => { err.push(a.join(" ")); });
    const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: any) => { out.push(String(chunk)); return true; });
    try {
        const code = await main(argv);
        return { code, out: out.join("\n"), err: err.join("\n") };
    } finally {
        log.mockRestore();
        error.mockRestore();
        write.mockRestore();
    }
}

const program = (name: string) => path.join(CORPUS, name, "index.ts");
const STACK_TRACE = /^\s+at /m;

describe("a guestbook-style app", () => {
    test("exit 1: the single Redis leader, the PDB-less replicated tiers and the missing namespace baseline are named", async () => {
        const { code, out } = await check("--stack", "ci", "--program", program("guestbook"), "--json");
        expect(code).toBe(1);
        const violations: { policy: string; level: string; urn: string }[] = JSON.parse(out).violations;
        const at = (policy: string) => violations.filter((v) => v.policy === policy).map((v) => v.urn.split("::").pop());
        expect(violations.every((v) => v.level === "mandatory")).toBe(true); // no config: every policy at its default
        expect(at("workload-min-replicas")).toEqual(["redis-leader"]);
        expect(at("pdb-coverage")).toEqual(["redis-follower", "frontend"]);
        expect(at("namespace-default-deny")).toEqual(["redis-leader"]);
        // The Service from the YAML manifest is judged like the rest; all its Services route to its pods.
        expect(at("service-nlb-cross-zone")).toEqual(["frontend"]);
        expect(violations.find((v) => v.policy === "service-nlb-cross-zone")!.urn).toContain("kubernetes:yaml:ConfigFile$kubernetes:core/v1:Service::frontend");
        expect(at("service-routes-to-pods")).toEqual([]);
    });

    test("rows and a summary naming the config used", async () => {
        const { out, err } = await check("--stack", "ci", "--program", program("guestbook"));
        expect(out).toMatch(/^workload-min-replicas +mandatory +urn:pulumi:ci::guestbook::kubernetes:apps\/v1:Deployment::redis-leader +Deployment redis-leader runs as few as 1 pod/m);
        expect(out).toMatch(/\d+ violation\(s\): \d+ mandatory, 0 advisory \(stack ci, 8 resources, .*policy config none: policy defaults, preview/);
        expect(err).toContain("Pulumi.ci.yaml does not exist");
    });
});

describe("an AWS program built on data sources", () => {
    test("its look-ups get plausible answers in the stack's region", async () => {
        const run = await runUnderMocks({ program: program("aws-data-sources"), projectDir: path.join(CORPUS, "aws-data-sources"), stack: "dev", preview: false });
        expect(run.outputs.account.value).toBe("123456789012");
        expect(run.outputs.where.value).toMatch(/^eu-west-1 \(eu-west-1[abc]\)$/);
        const db = run.resources.find((r) => r.type === "aws:rds/instance:Instance")!;
        expect(db.inputs.availabilityZone).toBe("eu-west-1a");
        const subnetGroup = run.resources.find((r) => r.type === "aws:rds/subnetGroup:SubnetGroup")!;
        expect(subnetGroup.inputs.subnetIds).toHaveLength(3);
        expect(new Set(subnetGroup.inputs.subnetIds).size).toBe(3);
        const policy = JSON.parse(run.resources.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!.inputs.policy);
        expect(policy.Statement[0]).toMatchObject({ Effect: "Allow", Action: "s3:GetObject", Principal: { AWS: "arn:aws:iam::123456789012:root" } });
    });

    test("--stack dev takes policy/config/dev.json: advisory only, exit 0", async () => {
        const { code, out } = await check("--stack", "dev", "--program", program("aws-data-sources"));
        expect(code).toBe(0);
        expect(out).toMatch(/^rds-multi-az +advisory +urn:pulumi:dev::aws-data-sources::aws:rds\/instance:Instance::app-db/m);
        expect(out).toContain("policy config policy/config/dev.json");
    });

    test("--stack prod takes policy/config/prod.json (exit 1); an explicit --policy-config wins", async () => {
        const prod = await check("--stack", "prod", "--program", program("aws-data-sources"));
        expect(prod.code).toBe(1);
        expect(prod.out).toMatch(/^rds-multi-az +mandatory /m);
        expect(prod.out).toMatch(/^rds-deletion-protection +mandatory /m); // disabled in dev, mandatory in prod
        const explicit = await check("--stack", "prod", "--program", program("aws-data-sources"), "--policy-config", path.join(ROOT, "policy", "config", "dev.json"));
        expect(explicit.code).toBe(0);
    });
});

describe("what the runner cannot supply ends in exit 2, naming it", () => {
    let scratch: string;
    beforeAll(() => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "policy-corpus-"));
        fs.writeFileSync(path.join(scratch, "Pulumi.yaml"), "name: scratch\nruntime: nodejs\n");
        fs.writeFileSync(path.join(scratch, "ssm.ts"), [
            'import * as aws from "@pulumi/aws";',
            'const image = aws.ssm.getParameterOutput({ name: "/app/image" });',
            'new aws.s3.Bucket("b", { bucket: image.value.apply((v) => v.toLowerCase()) });',
        ].join("\n"));
        fs.writeFileSync(path.join(scratch, "throws.ts"), [
            'import * as aws from "@pulumi/aws";',
            'import * as pulumi from "@pulumi/pulumi";',
            'const bucket = new aws.s3.Bucket("b", { bucket: pulumi.output("x").apply((): string => { throw new Error("no bucket name today"); }) });',
            "export const name = bucket.bucket; // waits on a resource that is never registered",
        ].join("\n"));
        fs.writeFileSync(path.join(scratch, "never.ts"), [
            'import * as pulumi from "@pulumi/pulumi";',
            "export const ready = pulumi.output(new Promise<string>(() => undefined));",
        ].join("\n"));
    });
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    test("a Helm chart through helm.v4.Chart (built by the provider plugin)", async () => {
        const { code, out, err } = await check("--stack", "dev", "--program", program("helm-chart"));
        expect(code).toBe(2);
        expect(out).toBe("");
        expect(err).toContain('component kubernetes:helm.sh/v4:Chart "redis" is built by its provider plugin');
        expect(err).not.toMatch(STACK_TRACE);
    });

    test("a Helm chart through helm.v3.Chart (the helm:template invoke)", async () => {
        const { code, err } = await check("--stack", "v3", "--program", program("helm-chart"));
        expect(code).toBe(2);
        expect(err).toContain("invoke kubernetes:helm:template (helm.v3.Chart renders its chart with the helm binary");
    });

    /** A real process, as CI runs it: a rejection inside the program reaches the process, not jest. */
    const spawnCheck = (file: string, ...extra: string[]) => spawnSync("npm", ["run", "-s", "policy:check", "--", "--stack", "ci", "--program", path.join(scratch, file), ...extra],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } });

    test("a data source without a mock answer, even when the program then fails on the empty answer", () => {
        const result = spawnCheck("ssm.ts");
        expect(result.status).toBe(2);
        expect(causeLines(result.stderr)).toEqual(["policy:check: the offline runner cannot judge this program: invoke aws:ssm/getParameter:getParameter has no offline answer"]);
    }, 60000);

    test.each([["preview", []], ["up", ["--up"]]])("a program whose resource input's apply throws, with an output waiting on that resource (%s): where it failed", (_mode, extra) => {
        const result = spawnCheck("throws.ts", ...extra);
        expect(result.status).toBe(2);
        expect(result.stdout).toBe("");
        expect(causeLines(result.stderr)).toEqual([expect.stringMatching(/^policy:check: the program .*throws\.ts failed: error serializing property "bucket": no bucket name today \(at .*throws\.ts:3\)$/)]);
        expect(result.stderr).not.toMatch(STACK_TRACE);
    }, 120000);

    test("a program waiting on a promise nothing resolves: exit 2, not Pulumi's leaked-promises exit 1", () => {
        const result = spawnCheck("never.ts");
        expect(result.status).toBe(2);
        expect(causeLines(result.stderr)).toEqual([expect.stringMatching(/^policy:check: the program .*never\.ts never finished: it waits on a value nothing will ever resolve/)]);
    }, 120000);
});

/** `npm run policy:check` in a real process, as CI and a user run it, from `cwd` (default: the repository). */
function spawnPolicyCheck(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("npm", ["--prefix", ROOT, "run", "-s", "policy:check", "--", ...args], { cwd, encoding: "utf8", env: { ...process.env, INIT_CWD: cwd } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const corpusDir = (name: string) => path.join(CORPUS, name);
/** stderr lines that are not the runner's notes or the SDK's own warnings. */
const causeLines = (stderr: string) => stderr.split("\n").filter((l) => l !== "" && !l.startsWith("note: ") && !l.startsWith("warning: "));

describe("a stack output whose apply throws (static-site without its domain)", () => {
    test.each([["preview", []], ["up", ["--up"]]])("%s: exit 2, the note about the missing stack file and one line naming the cause", (_mode, extra) => {
        const { status, stdout, stderr } = spawnPolicyCheck(["--stack", "ci", "--program", corpusDir("static-site"), ...extra]);
        expect(status).toBe(2);
        expect(stdout).toBe("");
        expect(stderr).toContain("note: " + path.join(corpusDir("static-site"), "Pulumi.ci.yaml") + " does not exist");
        expect(causeLines(stderr)).toEqual([
            "policy:check: the program test/corpus/static-site failed: static-site:domain is not set: the site has no public name (at test/corpus/static-site/index.ts:37)",
        ]);
        expect(stderr).not.toMatch(STACK_TRACE);
    }, 120000);

    test("with its domain it is judged: no Kubernetes and no database, so neither alerts nor read replicas are asked for unless the config says so", async () => {
        const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-corpus-cfg-")), "large.json");
        fs.writeFileSync(config, JSON.stringify({ all: "mandatory", "rds-large-tier-reader": { tier: "large" } }));
        const judged = await check("--stack", "dev", "--program", corpusDir("static-site"), "--policy-config", config, "--json");
        expect(JSON.parse(judged.out)).toEqual({ violations: [] });
        expect(judged.code).toBe(0);
        fs.writeFileSync(config, JSON.stringify({ all: "mandatory", "rds-large-tier-reader": { tier: "large", requireInstance: true }, "prometheus-alerts": { requireEverywhere: true } }));
        const asked = await check("--stack", "dev", "--program", corpusDir("static-site"), "--policy-config", config, "--json");
        expect(JSON.parse(asked.out).violations.map((v: { policy: string }) => v.policy)).toEqual(["rds-large-tier-reader", "prometheus-alerts"]);
        expect(asked.code).toBe(1);
        fs.rmSync(path.dirname(config), { recursive: true, force: true });
    });
});

describe("missing config: the note about the missing stack file stays", () => {
    test("web-app on a stack without a stack file", async () => {
        const { code, err } = await check("--stack", "ci", "--program", corpusDir("web-app"));
        expect(code).toBe(2);
        expect(err.split("\n")).toEqual([
            `note: ${path.join(corpusDir("web-app"), "Pulumi.ci.yaml")} does not exist: running stack "ci" with no stack config`,
            "policy:check: the program test/corpus/web-app failed: Missing required configuration variable 'web-app:replicas' please set a value using "
                + "the command `pulumi config set web-app:replicas <value>` (at test/corpus/web-app/index.ts:11)",
        ]);
    });
});

describe("a plain Deployment and LoadBalancer Service (web-app)", () => {
    test("runs from its project directory: the file it reads by a relative path is its own", async () => {
        const result = await policyCheck({ stack: "dev", program: corpusDir("web-app") });
        expect(result.resourceCount).toBe(4);
        expect(process.cwd()).toBe(ROOT); // and the runner's own directory is back
    });

    test("--program <directory> and --json: valid JSON on stdout although the program prints, its line on stderr", () => {
        const { status, stdout, stderr } = spawnPolicyCheck(["--stack", "dev", "--program", corpusDir("web-app"), "--json"]);
        expect(status).toBe(0);
        const violations: { policy: string; message: string }[] = JSON.parse(stdout).violations;
        expect(stderr).toContain("web-app: deploying 3 nginx replicas");
        // A numeric targetPort routes without a declaration; a plain LoadBalancer Service gets a Classic ELB, not an NLB.
        expect(violations.filter((v) => v.policy === "service-routes-to-pods")).toEqual([]);
        expect(violations.find((v) => v.policy === "service-nlb-cross-zone")!.message).toContain("the Classic ELB AWS creates");
        expect(violations.find((v) => v.policy === "workload-probes")!.message)
            .toBe("containers[0] (nginx) has identical liveness and readiness checks (both httpGet /healthz on port 8080): readiness failing would also restart the container.");
    }, 120000);

    test("a directory's entry: Pulumi.yaml's main, else package.json's main, else index.ts; a directory without Pulumi.yaml is refused", () => {
        expect(programEntry(corpusDir("web-app"))).toBe(path.join(corpusDir("web-app"), "index.ts"));
        expect(programEntry(corpusDir("ecs-rds"))).toBe(path.join(corpusDir("ecs-rds"), "index.ts"));
        expect(programEntry(corpusDir("component-esm"))).toBe(path.join(corpusDir("component-esm"), "index.ts"));
        expect(() => programEntry(CORPUS)).toThrow(CheckInputError);
        expect(() => programEntry(CORPUS)).toThrow(`${CORPUS} is a directory without a Pulumi.yaml`);
    });
});

describe("a component-based ES module (component-esm: \"type\": \"module\", top-level await, import.meta.url)", () => {
    test("is run as an ES module and judged", () => {
        const { status, stdout, stderr } = spawnPolicyCheck(["--stack", "dev", "--program", corpusDir("component-esm"), "--json"]);
        expect(causeLines(stderr)).toEqual([]);
        expect(status).toBe(0);
        const urns: string[] = JSON.parse(stdout).violations.map((v: { urn: string }) => v.urn);
        expect(urns).toContain("urn:pulumi:dev::component-esm::corpus:web:WebService$kubernetes:apps/v1:Deployment::api");
        // Both components' PDBs select their pods: nothing about PDBs.
        expect(JSON.parse(stdout).violations.filter((v: { policy: string }) => v.policy.startsWith("pdb-"))).toEqual([]);
    }, 120000);
});

describe("ECS with RDS, under --up", () => {
    test("outputs no mock models (the ALB's DNS name) are unknown, not undefined: the program is not blamed", async () => {
        const run = await runUnderMocks({ program: program("ecs-rds"), projectDir: corpusDir("ecs-rds"), stack: "dev", preview: false, unknownMissingOutputs: true, computedState: computedAtUp });
        expect(run.outputs.url.value).toBe(UNKNOWN);
        expect(run.outputs.dbEndpoint.value).toBe("db.abc123.eu-west-1.rds.amazonaws.com:3306"); // modelled: known
    });

    test("the CLI judges it: RDS findings, no alerts demanded from a stack without Kubernetes", () => {
        const { status, stdout, stderr } = spawnPolicyCheck(["--stack", "dev", "--program", corpusDir("ecs-rds"), "--up", "--json"]);
        expect(causeLines(stderr)).toEqual([]);
        expect(status).toBe(0);
        expect(JSON.parse(stdout).violations.map((v: { policy: string }) => v.policy).sort())
            .toEqual(["rds-enhanced-monitoring", "rds-multi-az", "rds-performance-insights"]);
    }, 120000);
});

test("helm.v3.Release: exit 2 like helm.v3.Chart, naming the release", async () => {
    const { code, out, err } = await check("--stack", "release", "--program", program("helm-chart"));
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toBe('policy:check: the offline runner cannot judge this program: kubernetes:helm.sh/v3:Release "redis": helm.v3.Release installs its '
        + "chart's objects inside the Kubernetes provider (with Helm), which the offline runner does not run");
});

describe("a program outside this repository with packages of its own (build-and-upload with @pulumi/command)", () => {
    let outside: string;
    beforeAll(() => {
        outside = fs.mkdtempSync(path.join(os.tmpdir(), "policy-corpus-pkg-"));
        fs.cpSync(corpusDir("build-and-upload"), outside, { recursive: true });
        // Its own @pulumi/command (a small stand-in with the real type token), and an older @pulumi/pulumi of its own.
        const command = path.join(outside, "node_modules", "@pulumi", "command");
        fs.mkdirSync(command, { recursive: true });
        fs.writeFileSync(path.join(command, "package.json"), JSON.stringify({ name: "@pulumi/command", version: "1.0.1", main: "index.js" }));
        fs.writeFileSync(path.join(command, "index.js"), [
            'const pulumi = require("@pulumi/pulumi");',
            "class Command extends pulumi.CustomResource {",
            "    constructor(name, args, opts) {",
            '        super("command:local:Command", name, { ...args, stdout: undefined, stderr: undefined }, opts);',
            "    }",
            "}",
            "exports.local = { Command };",
        ].join("\n"));
        const sdk = path.join(outside, "node_modules", "@pulumi", "pulumi");
        fs.mkdirSync(sdk, { recursive: true });
        fs.writeFileSync(path.join(sdk, "package.json"), JSON.stringify({ name: "@pulumi/pulumi", version: "3.100.0", main: "index.js" }));
        fs.writeFileSync(path.join(sdk, "index.js"), 'throw new Error("the runner must not load the program\'s own @pulumi/pulumi");\n');
    });
    afterAll(() => fs.rmSync(outside, { recursive: true, force: true }));

    test("its own packages first, the runner's for what it lacks, and notes saying which versions judged it", () => {
        const { status, stdout, stderr } = spawnPolicyCheck(["--stack", "ci", "--program", outside, "--json"], outside);
        expect(causeLines(stderr)).toEqual([]);
        expect(status).toBe(0);
        expect(JSON.parse(stdout)).toEqual({ violations: [] });
        expect(stderr).toContain("note: @pulumi/aws is not installed in the program's directory: judged with this runner's @pulumi/aws 7.48.0\n");
        expect(stderr).toContain("note: the program's @pulumi/pulumi 3.100.0 is replaced by this runner's 3.248.0 (the mocks run on it)\n");
    }, 120000);
});