// The real thing: start the pack the way `pulumi preview --policy-pack policy` does (the Node.js
// policy host, @pulumi/pulumi/cmd/run-policy-pack, in policy/, with ts-node type-checking it),
// talk to its analyzer gRPC server like the engine (GetAnalyzerInfo, Configure, Analyze per
// resource, AnalyzeStack), and check that it reports exactly what the offline runner reports for
// the same registrations.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PACK_NAME, packArgs } from "../../policy/pack";
import { RecordedResource, runUnderMocks } from "../../tools/mockRun";
import { loadPolicyConfigFile, ReconciledConfig, reconcilePolicyConfig } from "../../tools/policyRunner/config";
import { resolveProject } from "../../tools/policyRunner/check";
import { evaluatePolicies, isStackPolicy, toWire, Violation } from "../../tools/policyRunner/engine";
import { analyzerProtocol, policyHostScript } from "../../tools/sdkInternals";

const { grpc, service: analyzerRpc, messages: analyzerPb, Empty, Struct } = analyzerProtocol();

const ROOT = path.resolve(__dirname, "..", "..");
const LEVELS: Record<string, number> = {
    advisory: analyzerPb.EnforcementLevel.ADVISORY,
    mandatory: analyzerPb.EnforcementLevel.MANDATORY,
    remediate: analyzerPb.EnforcementLevel.REMEDIATE,
    disabled: analyzerPb.EnforcementLevel.DISABLED,
};
const levelName = (n: number) => Object.keys(LEVELS).find((k) => LEVELS[k] === n);

let pack: ChildProcess;
let client: any;
let config: ReconciledConfig;

const call = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => client[method](request, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));

beforeAll(async () => {
    pack = spawn(process.execPath, [policyHostScript(), "127.0.0.1:1", "."], {
        cwd: path.join(ROOT, "policy"),
        stdio: ["ignore", "pipe", "pipe"],
    });
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        pack.stdout!.on("data", (chunk) => {
            out += chunk;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) {
                resolve(m[1]);
            }
        });
        pack.stderr!.on("data", (chunk) => { err += chunk; });
        pack.on("exit", (code) => reject(new Error(`the policy pack exited (${code}) before serving:\n${out}\n${err}`)));
    });
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    config = reconcilePolicyConfig(packArgs.policies, packArgs.enforcementLevel ?? "advisory", loadPolicyConfigFile(path.join(ROOT, "policy", "config", "prod.json")));
    // What the engine sends after reconciling --policy-pack-config with the pack's schemas.
    const request = new analyzerPb.ConfigureAnalyzerRequest();
    for (const [name, c] of config) {
        const pc = new analyzerPb.PolicyConfig();
        pc.setEnforcementlevel(LEVELS[c.enforcementLevel]);
        pc.setProperties(Struct.fromJavaScript(c.properties));
        request.getPolicyconfigMap().set(name, pc);
    }
    await call("configure", request);
}, 120000);

afterAll(() => {
    client?.close();
    if (pack && pack.exitCode === null) {
        pack.kill("SIGTERM");
    }
});

test("the entry point serves exactly the pack of policy/pack.ts: every policy, its text, level, severity, kind and settings", async () => {
    const info = await call<any>("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe(PACK_NAME);
    expect(info.getVersion()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")).version);
    expect(info.getDisplayname()).toBe(packArgs.displayName);
    expect(info.getDescription()).toBe(packArgs.description);
    const enumName = (values: Record<string, number>, n: number) => Object.keys(values).find((k) => values[k] === n);
    const served = info.getPoliciesList().map((p: any) => ({
        name: p.getName(),
        description: p.getDescription(),
        level: levelName(p.getEnforcementlevel()),
        severity: enumName(analyzerPb.PolicySeverity, p.getSeverity()),
        kind: enumName(analyzerPb.PolicyType, p.getPolicyType()),
        settings: p.getConfigschema()?.getProperties()?.toJavaScript(),
        required: p.getConfigschema()?.getRequiredList() ?? [],
        remediation: p.getRemediationSteps(),
    }));
    expect(served).toEqual(packArgs.policies.map((p) => ({
        name: p.name,
        description: p.description,
        level: p.enforcementLevel ?? packArgs.enforcementLevel,
        severity: `POLICY_SEVERITY_${(p.severity ?? "unspecified").toUpperCase()}`,
        kind: isStackPolicy(p) ? "POLICY_TYPE_STACK" : "POLICY_TYPE_RESOURCE",
        settings: p.configSchema ? JSON.parse(JSON.stringify(p.configSchema.properties)) : undefined,
        required: p.configSchema?.required ?? [],
        remediation: p.remediationSteps ?? "",
    })));
});

function options(r: RecordedResource) {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setProtect(r.protect);
    o.setIgnorechangesList(r.ignoreChanges);
    o.setAliasesList(r.aliases);
    o.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
    if (r.parent) {
        o.setParent(r.parent);
    }
    return o;
}

function provider(r: RecordedResource, byUrn: Map<string, RecordedResource>) {
    const p = r.provider ? byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::"))) : undefined;
    if (!p) {
        return undefined;
    }
    const out = new analyzerPb.AnalyzerProviderResource();
    out.setType(p.type);
    out.setUrn(p.urn);
    out.setName(p.name);
    out.setProperties(Struct.fromJavaScript(toWire(p.inputs)));
    return out;
}

function diagnostics(resp: any, urn?: string): Violation[] {
    return resp.getDiagnosticsList().map((d: any) => {
        // The SDK prefixes the policy's description to the message.
        const message: string = d.getMessage();
        const description: string = d.getDescription();
        return {
            policy: d.getPolicyname(),
            level: levelName(d.getEnforcementlevel()),
            urn: urn ?? d.getUrn(),
            message: message.startsWith(`${description}\n`) ? message.slice(description.length + 1) : message,
        };
    });
}

async function viaServer(resources: RecordedResource[], stackUrn: string): Promise<Violation[]> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    /** The fields an Analyze request and a stack's resource share. */
    const describe = (message: any, r: RecordedResource): any => {
        message.setType(r.type);
        message.setProperties(Struct.fromJavaScript(toWire(r.inputs)));
        message.setUrn(r.urn);
        message.setName(r.name);
        message.setOptions(options(r));
        const p = provider(r, byUrn);
        if (p) {
            message.setProvider(p);
        }
        return message;
    };
    const found: Violation[] = [];
    for (const r of resources) {
        // The engine reports resource diagnostics against the analyzed resource.
        found.push(...diagnostics(await call("analyze", describe(new analyzerPb.AnalyzeRequest(), r)), r.urn));
    }
    const stackReq = new analyzerPb.AnalyzeStackRequest();
    stackReq.setResourcesList(resources.map((r) => {
        const res = describe(new analyzerPb.AnalyzerResource(), r);
        if (r.parent) {
            res.setParent(r.parent);
        }
        res.setDependenciesList(r.dependencies);
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            const deps = new analyzerPb.AnalyzerPropertyDependencies();
            deps.setUrnsList(urns);
            res.getPropertydependenciesMap().set(key, deps);
        }
        return res;
    }));
    found.push(...diagnostics(await call("analyzeStack", stackReq)).map((v) => ({ ...v, urn: v.urn || stackUrn })));
    return found;
}

const key = (v: Violation) => `${v.policy} | ${v.level} | ${v.urn} | ${v.message}`;

test.each([
    ["test/fixtures/hpa-min-one/index.ts", "ci"],
    ["test/fixtures/pdb-unknown-in-preview/index.ts", "ci"],
    ["test/fixtures/namespace-without-baseline/index.ts", "ci"],
    ["index.ts", "prod"],
])("the running pack and the offline runner agree on %s (stack %s)", async (program, stack) => {
    const project = resolveProject(path.join(ROOT, program), stack);
    let run;
    try {
        run = await runUnderMocks({ program: path.join(ROOT, program), projectDir: project.projectDir, stack, preview: true });
    } finally {
        project.cleanup();
    }
    const stackUrn = run.resources.find((r) => r.type === "pulumi:pulumi:Stack")!.urn;
    const offline = await evaluatePolicies({ packName: "kubepolaris-ha", packVersion: "0.1.0", packArgs, config, resources: run.resources, stackUrn });
    const served = await viaServer(run.resources, stackUrn);
    expect(served.map(key).sort()).toEqual(offline.violations.map(key).sort());
    if (program !== "index.ts") {
        expect(served.length).toBeGreaterThan(0);
    }
}, 60000);
