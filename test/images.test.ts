// The stack's own image mirror: the cloud stacks run their images by digest from ECR repositories
// the program creates in the stack's region (and replicates to the DR region), never from the
// upstream registry; a stack whose mirror has not recorded its digests is refused before anything
// is registered, naming the command that records them.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../config";
import { lifecyclePolicy } from "../components/imageMirror";
import { main as imagesMirror, withDigests } from "../scripts/images/mirror";
import { samplePin } from "../tools/stackConfig";
import { configProblems, PROJECT_DIR, runStack, stackValues } from "./support/program";

const CLOUD = ["dev", "staging", "prod"] as const;
const ACCOUNT = { dev: "111122223333", staging: "444455556666", prod: "123456789012" };
const DIGEST = `sha256:${"b".repeat(64)}`;

/** The stack file exactly as committed (no sample pins), with `images` changed by `patch`. */
function recorded(stack: string, patch: (images: any) => void = () => undefined) {
    const raw = stackValues(stack, {}, "recorded");
    const images = JSON.parse(raw.values.images);
    patch(images);
    raw.values.images = JSON.stringify(images);
    return raw;
}

describe("config", () => {
    test.each(CLOUD)("the %s stack file records no digests yet: refused, naming each key, the upstream image, the repository and the command", (stack) => {
        expect(configProblems(recorded(stack))).toEqual(["backend", "frontend"].map((c) => `kubepolaris:images.mirror.digests.${c}: got nothing (the key is not set);`
            + ` allowed: the sha256 digest of registry.cn-hangzhou.aliyuncs.com/clay-wangzhi/kubepolaris-${c}:v1.0.5`
            + ` in ${ACCOUNT[stack]}.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-${stack}/${c},`
            + ` recorded by \`npm run images:mirror -- --stack ${stack}\` (the stack runs nothing before its mirror is filled)`));
    });

    test("recorded digests: every workload runs <account>.dkr.ecr.<region>.amazonaws.com/<release>-<env>/<image>@<digest>, pulled IfNotPresent", () => {
        const config = parseConfig(recorded("prod", (i) => { i.mirror.digests = { backend: DIGEST, frontend: `sha256:${"c".repeat(64)}` }; }));
        expect(config.backend.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-prod/backend@${DIGEST}`);
        expect(config.frontend.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-prod/frontend@sha256:${"c".repeat(64)}`);
        expect(config.imagePullPolicy).toBe("IfNotPresent");
        expect(config.imageMirror).toMatchObject({ account: "123456789012", region: "eu-west-1", keepVersions: 20, replicaRegion: "eu-central-1" });
        // staging has no DR region: nothing to replicate to.
        expect(parseConfig(stackValues("staging")).imageMirror!.replicaRegion).toBeUndefined();
    });

    test.each<[string, (images: any) => void, string[]]>([
        ["a cloud stack without a mirror", (i) => { delete i.mirror; }, [
            "kubepolaris:images.mirror: got nothing (the key is not set); allowed: {account: <12-digit AWS account id>} on environment prod:"
            + " its pods run images only from the stack's own ECR mirror (created by the program, filled by `npm run images:mirror -- --stack prod`; docs/images.md)",
        ]],
        ["an account that is not 12 digits", (i) => { i.mirror = { account: "12345", digests: { backend: DIGEST, frontend: DIGEST } }; }, [
            'kubepolaris:images.mirror.account: got "12345"; allowed: the 12-digit id of the AWS account whose ECR holds the stack\'s mirror',
        ]],
        ["a digest that is a tag", (i) => { i.mirror.digests = { backend: "v1.0.5", frontend: DIGEST }; }, [
            'kubepolaris:images.mirror.digests.backend: got "v1.0.5"; allowed: a digest as the mirror records it: sha256: and 64 lowercase hex digits',
        ]],
        ["an unknown key under the digests", (i) => { i.mirror.digests = { backend: DIGEST, frontend: DIGEST, mysql: DIGEST }; }, [
            `kubepolaris:images.mirror.digests.mysql: got "${DIGEST}"; allowed: only the keys backend, frontend under images.mirror.digests`,
        ]],
        ["keepVersions of 1 (a rollback target would expire with the next push)", (i) => { i.mirror = { ...i.mirror, keepVersions: 1, digests: { backend: DIGEST, frontend: DIGEST } }; }, [
            "kubepolaris:images.mirror.keepVersions: got 1; allowed: an integer from 2 to 1000",
        ]],
    ])("refused on prod: %s", (_title, patch, expected) => {
        expect(configProblems(recorded("prod", patch))).toEqual(expected);
    });

    test("the local stack has no account to mirror into: a mirror there is refused", () => {
        expect(configProblems(recorded("local", (i) => { i.mirror = { account: "123456789012" }; }))).toEqual([
            'kubepolaris:images.mirror: got {"account":"123456789012"}; allowed: nothing on environment local: it has no AWS account (its images are built on the nodes, scripts/cluster/images.sh)',
        ]);
    });
});

describe("images:mirror --check (deploy.yml runs it before the first pulumi up)", () => {
    /** main's exit status and what it printed; --check copies nothing, so no crane and no registry. */
    function check(...argv: string[]) {
        const out: string[] = [];
        const log = jest.spyOn(console, "log").mockImplementation((line) => { out.push(`out: ${line}`); });
        const error = jest.spyOn(console, "error").mockImplementation((line) => { out.push(`err: ${line}`); });
        try {
            return { status: imagesMirror([...argv, "--check"]), out };
        } finally {
            log.mockRestore();
            error.mockRestore();
        }
    }

    test.each(CLOUD)("the committed %s stack file fails, naming the command that records its digests and the docs", (stack) => {
        expect(check("--stack", stack)).toEqual({ status: 1, out: [`err: images:mirror: Pulumi.${stack}.yaml records no mirrored digest for backend, frontend,`
            + ` so \`pulumi up\` refuses the stack: create its ECR mirror, run \`npm run images:mirror -- --stack ${stack}\` and commit the digests it`
            + ' records (docs/images.md, "Order for a new stack")'] });
    });

    test("a stack file with its digests recorded passes", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubepolaris-check-"));
        try {
            fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            const prod = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
            fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), withDigests(prod, { backend: DIGEST, frontend: DIGEST }));
            expect(check("--stack", "prod", "--project-dir", dir)).toEqual({ status: 0, out: [`out: Pulumi.prod.yaml: backend@${DIGEST}, frontend@${DIGEST} (pinned by digest)`] });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the program", () => {
    test("prod: immutable, scanned, KMS-encrypted repositories with a lifecycle in eu-west-1, replicated to the DR region's own repositories", async () => {
        const program = await runStack("prod");
        const repos = program.ofType("aws:ecr/repository:Repository");
        expect(repos.map((r) => r.inputs.name).sort()).toEqual(["kubepolaris-prod/backend", "kubepolaris-prod/backend", "kubepolaris-prod/frontend", "kubepolaris-prod/frontend"]);
        for (const repo of repos) {
            expect(repo.inputs).toMatchObject({
                imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS" }], forceDelete: false,
            });
        }
        const providers = program.ofType("pulumi:providers:aws");
        // A resource's provider reference is "<provider urn>::<id>".
        const regionOf = (ref: string | undefined) => providers.find((p) => ref?.slice(0, ref.lastIndexOf("::")) === p.urn)?.inputs.region;
        expect(repos.map((r) => regionOf(r.provider)).sort()).toEqual(["eu-central-1", "eu-central-1", "eu-west-1", "eu-west-1"]);
        // The providers refuse credentials of another account: the registry is the stack's own.
        for (const p of providers.filter((p) => p.name.startsWith("images"))) {
            expect(JSON.parse(p.inputs.allowedAccountIds)).toEqual(["123456789012"]);
        }
        const policies = program.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy");
        expect(policies).toHaveLength(4);
        expect(policies.every((p) => p.inputs.policy === lifecyclePolicy(20))).toBe(true);
        expect(JSON.parse(lifecyclePolicy(20)).rules[0].selection).toEqual({ tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 20 });
        const replication = program.one("aws:ecr/replicationConfiguration:ReplicationConfiguration");
        expect(replication.inputs.replicationConfiguration.rules).toEqual([{
            destinations: [{ region: "eu-central-1", registryId: "123456789012" }],
            repositoryFilters: [
                { filter: "kubepolaris-prod/backend", filterType: "PREFIX_MATCH" },
                { filter: "kubepolaris-prod/frontend", filterType: "PREFIX_MATCH" },
            ],
        }]);
        expect(regionOf(replication.provider)).toBe("eu-west-1");
    });

    test.each(["dev", "staging"])("%s: its repositories, no replication (no DR region)", async (stack) => {
        const program = await runStack(stack);
        expect(program.ofType("aws:ecr/repository:Repository").map((r) => r.inputs.name).sort()).toEqual([`kubepolaris-${stack}/backend`, `kubepolaris-${stack}/frontend`]);
        expect(program.ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration")).toEqual([]);
    });

    test("every container of every workload on prod runs a digest from the stack's mirror; local registers no repository", async () => {
        const program = await runStack("prod");
        const pods = ["kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"].flatMap((t) => program.ofType(t));
        expect(pods.length).toBe(3);
        for (const pod of pods) {
            for (const c of pod.inputs.spec.template.spec.containers) {
                const component = c.image.includes("/frontend@") ? "frontend" : "backend";
                expect(c.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-prod/${component}@${samplePin("prod", component)}`);
                expect(c.imagePullPolicy).toBe("IfNotPresent");
            }
        }
        expect((await runStack("local")).ofType("aws:ecr/repository:Repository")).toEqual([]);
    });
});
