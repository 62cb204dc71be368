// Every Pulumi SDK internal the mock harness, the offline policy runner and the pack-server test
// depend on still exists with the shape they use. After an SDK upgrade this is the test that
// fails, naming the internal and the installed SDK version, rather than a mock run far away.
import * as fs from "fs";
import * as path from "path";
import { RecordedResource, runUnderMocks, UNKNOWN } from "../../tools/mockRun";
import { policyProps } from "../../tools/policyRunner/engine";
import { SDK_INTERNALS, SdkInternalError, sdkVersion, wireEncoding } from "../../tools/sdkInternals";

const ROOT = path.resolve(__dirname, "..", "..");

describe.each(SDK_INTERNALS.map((i) => [`${i.sdk} ${i.name}`, i] as const))("%s", (_title, internal) => {
    test(`is there, as used for ${internal.usedFor}`, () => {
        // The SdkInternalError's message is the failure: the internal, the SDK and its version.
        expect(() => internal.verify()).not.toThrow();
    });
});

test("an internal an upgrade moved fails naming the internal, the SDK and its installed version", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mocks = require("@pulumi/pulumi/runtime/mocks");
    const check = SDK_INTERNALS.find((i) => i.name.includes("MockMonitor"))!;
    const original = mocks.MockMonitor.prototype.registerResource;
    delete mocks.MockMonitor.prototype.registerResource;
    try {
        expect(() => check.verify()).toThrow(SdkInternalError);
        expect(() => check.verify()).toThrow(`@pulumi/pulumi ${sdkVersion("@pulumi/pulumi")}: internal runtime/mocks MockMonitor.registerResource is missing`);
    } finally {
        mocks.MockMonitor.prototype.registerResource = original;
    }
    expect(() => check.verify()).not.toThrow();
    expect(sdkVersion("@pulumi/pulumi")).toMatch(/^\d+\.\d+\.\d+/);
    expect(sdkVersion("@pulumi/policy")).toMatch(/^v?\d+\.\d+\.\d+/);
});

test("no other file of the tools or the tests reaches into the SDKs' internals", () => {
    const allowed = new Set([path.join("tools", "sdkInternals.ts")]);
    // Module specifiers of SDK internals, the global store, the internal runtime calls and the wire sentinels.
    const internals = new RegExp([
        String.raw`["'](@pulumi/(pulumi|policy)/(runtime|proto|cmd|deserialize|proxy|server)|google-protobuf|@grpc/grpc-js)[^"']*["']`,
        String.raw`\.(globalStore|stackResource)\b`,
        String.raw`\.(getMonitor|runInPulumiStack|setAllConfig|waitForRPCs|unknownCheckingProxy)\(`,
        ...Object.values(wireEncoding()),
    ].join("|"));
    const offenders: string[] = [];
    for (const dir of ["tools", "test"]) {
        for (const file of fs.readdirSync(path.join(ROOT, dir), { recursive: true }).map(String)) {
            const rel = path.join(dir, file);
            if (!/\.[jt]s$/.test(file) || allowed.has(rel) || rel === path.join("test", "tools", "sdkInternals.test.ts")) {
                continue;
            }
            const hit = internals.exec(fs.readFileSync(path.join(ROOT, rel), "utf8"));
            if (hit) {
                offenders.push(`${rel}: ${hit[0]}`);
            }
        }
    }
    expect(offenders).toEqual([]);
});

describe("through the internals, a program's registrations reach a policy as the engine would hand them over", () => {
    let recorded: RecordedResource[];

    beforeAll(async () => {
        const dir = fs.mkdtempSync(path.join(ROOT, "test", "tools", ".program-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: internals\nruntime: nodejs\n");
            fs.writeFileSync(path.join(dir, "Pulumi.preview.yaml"), "config:\n  internals:token:\n    secure: AAABAMOCK\n");
            fs.writeFileSync(path.join(dir, "index.ts"), [
                'import * as pulumi from "@pulumi/pulumi";',
                "const config = new pulumi.Config();",
                // endpoint: an output the (mock) provider computes, unknown during preview.
                'const first: any = new pulumi.CustomResource("test:index:Thing", "first", { size: 2, endpoint: undefined });',
                'new pulumi.CustomResource("test:index:Thing", "second", { token: config.requireSecret("token"), after: first.endpoint, size: 3 },',
                '    { protect: true, ignoreChanges: ["size"], dependsOn: [first], customTimeouts: { create: "5m" } });',
            ].join("\n"));
            recorded = (await runUnderMocks({ program: path.join(dir, "index.ts"), projectDir: dir, stack: "preview", preview: true })).resources;
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("inputs, secrets, unknowns, options and dependencies are recorded", () => {
        const first = recorded.find((r) => r.name === "first")!;
        const second = recorded.find((r) => r.name === "second")!;
        expect(first.urn).toBe("urn:pulumi:preview::internals::test:index:Thing::first");
        expect(second.inputs).toEqual({ token: "mock-secret-for-internals:token", after: UNKNOWN, size: 3 });
        expect(second.secretInputs).toEqual(["token"]);
        expect(second).toMatchObject({ protect: true, ignoreChanges: ["size"], customTimeouts: { create: "5m" } });
        expect(second.dependencies).toContain(first.urn);
        expect(second.propertyDependencies.after).toEqual([first.urn]);
    });

    test("a policy reads the secret in clear and trips on the unknown", () => {
        const props = policyProps(recorded.find((r) => r.name === "second")!.inputs);
        expect(props.size).toBe(3);
        expect(props.token).toBe("mock-secret-for-internals:token");
        expect(() => props.after).toThrow(/can't be known during preview/);
    });
});
