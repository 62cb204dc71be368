// The offline runner on programs that were not written for this pack (test/corpus/): a
// guestbook-style app, an AWS program built on data sources, and a Helm chart user. It judges what
// it can (exit 0 or 1), answers the common data-source invokes plausibly, and stops with exit 2 and
// a message naming what it cannot supply (an invoke, a provider-built component) or where the
// program failed, never with a stack trace.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runUnderMocks } from "../../tools/mockRun";
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
            'new aws.s3.Bucket("b", { bucket: pulumi.output("x").apply((): string => { throw new Error("no bucket name today"); }) });',
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
    const spawnCheck = (file: string) => spawnSync("npm", ["run", "-s", "policy:check", "--", "--stack", "ci", "--program", path.join(scratch, file)],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } });

    test("a data source without a mock answer, even when the program then fails on the empty answer", () => {
        const result = spawnCheck("ssm.ts");
        expect(result.status).toBe(2);
        expect(result.stderr).toBe("policy:check: the offline runner cannot judge this program: invoke aws:ssm/getParameter:getParameter has no offline answer\n");
    }, 60000);

    test("a program whose apply throws: where it failed", () => {
        const result = spawnCheck("throws.ts");
        expect(result.status).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^policy:check: the program .*throws\.ts failed: error serializing property "bucket": no bucket name today \(at .*throws\.ts:3\)\n$/);
    }, 60000);
});
