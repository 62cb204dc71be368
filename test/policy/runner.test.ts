// The offline runner's contract with @pulumi/policy: config reconciliation as the CLI does it, and
// validations invoked with the argument shapes, levels and error handling of the analyzer server.
import type { Policies, Policy, PolicyResource, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { packArgs } from "../../policy/pack";
import { RecordedResource, UNKNOWN } from "../../tools/mockRun";
import { parsePolicyConfig, PolicyConfigError, reconcilePolicyConfig, unknownPolicyKeys, validateAgainst } from "../../tools/policyRunner/config";
import { durationSeconds, evaluatePolicies, PolicyRunError } from "../../tools/policyRunner/engine";

describe("policy config (as `--policy-pack-config`)", () => {
    const policies: Policy[] = [
        { name: "a", description: "A", enforcementLevel: "mandatory", configSchema: { properties: { min: { type: "integer", minimum: 1, default: 2 }, names: { type: "array", items: { type: "string" }, default: ["x"] } } } } as Policy,
        { name: "b", description: "B", configSchema: { properties: { tier: { type: "string", enum: ["small", "large"] } } } } as Policy,
    ];

    test("parses levels and settings the way the CLI does", () => {
        expect(parsePolicyConfig(JSON.stringify({ all: "advisory", a: { enforcementLevel: "disabled", min: 3 }, b: { tier: "large" }, c: {} }))).toEqual({
            all: { enforcementLevel: "advisory" },
            a: { enforcementLevel: "disabled", properties: { min: 3 } },
            b: { properties: { tier: "large" } },
        });
        expect(parsePolicyConfig("  ")).toEqual({});
    });

    test.each([
        ['{"a": "strict"}', 'parsing enforcement level for "a": "strict" is not a valid enforcement level'],
        ['{"a": {"enforcementLevel": 1}}', "1 is not a valid enforcement level"],
        ['{"a": 3}', 'parsing "a": 3 is not a valid value; must be a string or object'],
        ["[]", "expected a JSON object"],
        ["{", "not valid JSON"],
    ])("rejects %s", (text, message) => {
        expect(() => parsePolicyConfig(text)).toThrow(message);
    });

    test("defaults, then the pack level, then \"all\", then each policy", () => {
        expect(reconcilePolicyConfig(policies, "advisory")).toEqual(new Map([
            ["a", { enforcementLevel: "mandatory", properties: { min: 2, names: ["x"] } }],
            ["b", { enforcementLevel: "advisory", properties: {} }],
        ]));
        const given = parsePolicyConfig(JSON.stringify({ all: "disabled", a: { min: 5 }, b: { enforcementLevel: "mandatory", tier: "small" } }));
        expect(reconcilePolicyConfig(policies, "advisory", given)).toEqual(new Map<string, unknown>([
            ["a", { enforcementLevel: "disabled", properties: { min: 5, names: ["x"] } }],
            ["b", { enforcementLevel: "mandatory", properties: { tier: "small" } }],
            ["all", { enforcementLevel: "disabled", properties: {} }],
        ]));
    });

    test("validates settings against each policy's configSchema, listing every problem", () => {
        const given = parsePolicyConfig(JSON.stringify({ a: { min: 0, names: ["ok", 3] }, b: { tier: "huge" } }));
        expect(() => reconcilePolicyConfig(policies, "advisory", given)).toThrow(PolicyConfigError);
        try {
            reconcilePolicyConfig(policies, "advisory", given);
        } catch (e) {
            expect((e as Error).message).toContain("a: min: must be >= 1, given 0");
            expect((e as Error).message).toContain("a: names.1: must be string, given 3");
            expect((e as Error).message).toContain('b: tier: must be equal to one of the allowed values: "small", "large", given "huge"');
        }
    });

    test("the pack's own schemas validate: a wrong type for a real policy is rejected", () => {
        expect(() => reconcilePolicyConfig(packArgs.policies, "mandatory", { "hpa-bounds": { properties: { minReplicas: "3" } } }))
            .toThrow('hpa-bounds: minReplicas: must be integer, given "3"');
    });

    test("names that are no policy are reported (the CLI ignores them)", () => {
        expect(unknownPolicyKeys(policies, { all: {}, a: {}, typo: {} })).toEqual(["typo"]);
    });

    test("a schema keyword or format the validator does not know is an error, not ignored", () => {
        expect(() => validateAgainst({ type: "string", format: "email" }, "x", "")).toThrow('unknown format "email"');
        expect(() => validateAgainst({ type: "string", minLenght: 3 }, "x", "")).toThrow("unknown keyword");
    });

    test("every schema of the pack compiles under Ajv's strict mode, and the defaults pass it", () => {
        expect(reconcilePolicyConfig(packArgs.policies, "mandatory").size).toBe(packArgs.policies.length);
    });
});

describe("engine", () => {
    const STACK = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev";
    const PROVIDER = "urn:pulumi:dev::proj::pulumi:providers:kubernetes::k8s";
    const base = (r: Partial<RecordedResource> & Pick<RecordedResource, "urn" | "type" | "name">): RecordedResource => ({
        custom: true, inputs: {}, secretInputs: [], dependencies: [], propertyDependencies: {}, protect: false, ignoreChanges: [],
        deleteBeforeReplace: false, retainOnDelete: false, additionalSecretOutputs: [], aliases: [], parent: STACK, ...r,
    });
    const resources: RecordedResource[] = [
        base({ urn: STACK, type: "pulumi:pulumi:Stack", name: "proj-dev", custom: false, parent: undefined }),
        base({ urn: PROVIDER, type: "pulumi:providers:kubernetes", name: "k8s", inputs: { namespace: "team" } }),
        base({
            urn: "urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm", type: "kubernetes:core/v1:ConfigMap", name: "cm",
            inputs: { data: { a: "1", later: UNKNOWN } }, provider: `${PROVIDER}::provider-id`, ignoreChanges: ["data"],
            customTimeouts: { create: "1h30m", update: "90s" }, protect: true,
        }),
        base({
            urn: "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::bucket", type: "aws:s3/bucket:Bucket", name: "bucket",
            inputs: { bucket: "b" }, dependencies: ["urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm"],
            propertyDependencies: { bucket: ["urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm"] },
        }),
    ];
    const run = (policies: Policies, config: Record<string, any> = {}) => evaluatePolicies({
        packName: "test-pack", packVersion: "1.0.0", packArgs: { policies, enforcementLevel: "advisory" },
        config: reconcilePolicyConfig(policies, "advisory", parsePolicyConfig(JSON.stringify(config))),
        resources, stackUrn: STACK,
    });

    test("resource validations see ResourceValidationArgs as the analyzer builds them", async () => {
        const seen: ResourceValidationArgs[] = [];
        await run([{ name: "p", description: "d", enforcementLevel: "mandatory", validateResource: (args) => { seen.push(args); } }]);
        expect(seen.map((a) => a.type)).toEqual(["pulumi:pulumi:Stack", "pulumi:providers:kubernetes", "kubernetes:core/v1:ConfigMap",
            "pulumi:providers:aws", "aws:s3/bucket:Bucket"]);
        const cm = seen[2];
        expect(cm.urn).toBe("urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm");
        expect(cm.name).toBe("cm");
        expect(cm.props.data.a).toBe("1");
        expect(() => cm.props.data.later).toThrow("can't be known during preview");
        expect(cm.opts).toEqual({
            protect: true, ignoreChanges: ["data"], aliases: [], additionalSecretOutputs: [], parent: STACK,
            customTimeouts: { createSeconds: 5400, updateSeconds: 90, deleteSeconds: 0 },
        });
        expect(cm.provider).toMatchObject({ type: "pulumi:providers:kubernetes", urn: PROVIDER, name: "k8s" });
        expect(cm.provider!.props.namespace).toBe("team");
        expect(cm.stackTags.size).toBe(0);
        // The bucket uses the engine's default aws provider.
        expect(seen[4].provider).toMatchObject({ type: "pulumi:providers:aws", urn: expect.stringMatching(/::pulumi:providers:aws::default_7_48_0$/) });
        const typed = { __pulumiType: "kubernetes:core/v1:ConfigMap" } as any;
        expect(cm.isType(typed)).toBe(true);
        expect(cm.asType(typed)).toBe(cm.props);
        expect(seen[4].isType(typed)).toBe(false);
    });

    test("stack validations see linked PolicyResources", async () => {
        let args: StackValidationArgs | undefined;
        await run([{ name: "s", description: "d", validateStack: (a) => { args = a; } }]);
        const byName = new Map<string, PolicyResource>(args!.resources.map((r) => [r.name, r]));
        const bucket = byName.get("bucket")!;
        expect(bucket.parent).toBe(byName.get("proj-dev"));
        expect(bucket.dependencies).toEqual([byName.get("cm")]);
        expect(bucket.propertyDependencies.bucket).toEqual([byName.get("cm")]);
        expect(byName.get("cm")!.provider!.name).toBe("k8s");
    });

    test("getConfig returns the reconciled properties without the level", async () => {
        const got: unknown[] = [];
        await run([{ name: "p", description: "d", configSchema: { properties: { n: { type: "integer", default: 1 } } }, validateStack: (a) => { got.push(a.getConfig()); } }],
            { p: { enforcementLevel: "mandatory", n: 4 } });
        expect(got).toEqual([{ n: 4 }]);
    });

    test("levels: configured, else the policy's, else the pack's; disabled skips; remediate reports mandatory", async () => {
        const always = (name: string, enforcementLevel?: any): StackValidationPolicy => ({ name, description: name, enforcementLevel, validateStack: (_a, report) => report("x") });
        const result = await run([always("own", "mandatory"), always("pack"), always("off", "mandatory"), always("fix", "advisory")],
            { off: "disabled", fix: "remediate" });
        expect(result.violations.map((v) => [v.policy, v.level])).toEqual([["own", "mandatory"], ["pack", "advisory"], ["fix", "mandatory"]]);
    });

    test("a policy-info object as the report: its own name, level and message win, as in @pulumi/policy", async () => {
        const result = await run([{
            name: "info", description: "d", enforcementLevel: "advisory",
            validateStack: (_a, report) => {
                (report as any)({ name: "renamed", enforcementLevel: "mandatory", message: "raised" });
                (report as any)({ description: "only a description" });
            },
        }]);
        expect(result.violations).toEqual([
            { policy: "renamed", level: "mandatory", urn: STACK, message: "raised" },
            { policy: "info", level: "advisory", urn: STACK, message: "only a description" },
        ]);
    });

    test("a resource violation always carries the resource's URN; a stack violation without URN the stack's", async () => {
        const result = await run([
            { name: "r", description: "d", validateResource: (a, report) => { if (a.name === "bucket") { report("m", "urn:ignored"); } } },
            { name: "s", description: "d", validateStack: (_a, report) => { report(""); report("on cm", "urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm"); } },
        ]);
        expect(result.violations).toEqual([
            { policy: "r", level: "advisory", urn: "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::bucket", message: "m" },
            { policy: "s", level: "advisory", urn: STACK, message: "d" },
            { policy: "s", level: "advisory", urn: "urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm", message: "on cm" },
        ]);
    });

    test("an unknown value escaping a policy is demoted to advisory, as the SDK does (the trap the pack's guard avoids)", async () => {
        const naive: Policies[number] = {
            name: "naive", description: "d", enforcementLevel: "mandatory",
            validateResource: (a, report) => { if (a.type === "kubernetes:core/v1:ConfigMap" && a.props.data.later !== "ok") { report("bad"); } },
        };
        const result = await run([naive]);
        expect(result.violations).toEqual([{
            policy: "naive", level: "advisory", urn: "urn:pulumi:dev::proj::kubernetes:core/v1:ConfigMap::cm",
            message: "can't run policy 'naive' from policy pack 'test-pack@v1.0.0' during preview: string value at .data.later can't be known during preview",
        }]);
    });

    test("notApplicable and the __pulumiType fast path are recorded, not reported", async () => {
        const typed = Object.assign((a: ResourceValidationArgs) => { a.notApplicable("never"); }, { __pulumiType: "aws:s3/bucket:Bucket" });
        const result = await run([{ name: "t", description: "d", validateResource: typed }]);
        expect(result.violations).toEqual([]);
        expect(result.notApplicable.filter((n) => n.reason === "never").map((n) => n.urn)).toEqual(["urn:pulumi:dev::proj::aws:s3/bucket:Bucket::bucket"]);
        expect(result.notApplicable.filter((n) => n.reason === "Policy only applies to resources of type 'aws:s3/bucket:Bucket'")).toHaveLength(4);
    });

    test("props are fresh for every validation", async () => {
        const values: unknown[] = [];
        await run([{
            name: "p", description: "d",
            validateResource: [
                (a) => { if (a.name === "bucket") { a.props.bucket = "changed"; } },
                (a) => { if (a.name === "bucket") { values.push(a.props.bucket); } },
            ],
        }]);
        expect(values).toEqual(["b"]);
    });

    test("a policy that throws fails the run", async () => {
        await expect(run([{ name: "boom", description: "d", validateStack: () => { throw new Error("kaput"); } }]))
            .rejects.toThrow(PolicyRunError);
    });

    test("durationSeconds parses Go durations", () => {
        expect(durationSeconds("10m")).toBe(600);
        expect(durationSeconds("1h30m15s")).toBe(5415);
        expect(durationSeconds("250ms")).toBeCloseTo(0.25);
        expect(durationSeconds(undefined)).toBe(0);
    });
});
