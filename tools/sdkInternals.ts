// The one place the tools use Pulumi SDK internals: parts of @pulumi/pulumi and @pulumi/policy
// that are not public API and may move in any release. The mock harness (mockRun.ts), the offline
// policy runner (policyRunner/engine.ts) and the test that talks to the real pack server go through
// the typed functions here and nothing else.
//
//   @pulumi/pulumi  runtime/rpc       the wire encoding of unknown values and secrets
//                   runtime (index)   setAllConfig, runInPulumiStack, waitForRPCs, getMonitor
//                   runtime/mocks     the mock monitor's registerResource(request, callback)
//                   proto/resource_pb the RegisterResourceRequest getters the monitor receives
//                   runtime/state     the process-wide store (globalThis.globalStore, .stackResource)
//                   proto/analyzer_*  the analyzer gRPC protocol, cmd/run-policy-pack (the pack host)
//   @pulumi/policy  deserialize       deserializeProperties, as the analyzer server decodes props
//                   (index)           unknownCheckingProxy and the UnknownValueError it throws
//
// Every internal is listed in SDK_INTERNALS with a check; test/tools/sdkInternals.test.ts runs
// them, so an SDK upgrade that moves one fails there, naming the internal and the SDK version,
// instead of somewhere deep inside a mock run.
import * as path from "path";
import { isUnknownValueError } from "../policy/rules/common";
import type { RecordedResource } from "./mockRun";

export type Sdk = "@pulumi/pulumi" | "@pulumi/policy";

/** The installed version of an SDK package ("not installed" when it cannot be resolved). */
export function sdkVersion(sdk: Sdk): string {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return String(require(`${sdk}/package.json`).version);
    } catch {
        return "not installed";
    }
}

/** An SDK internal the tools rely on is gone or has changed shape. */
export class SdkInternalError extends Error {
    constructor(readonly sdk: Sdk, readonly internal: string, problem: string) {
        super(`${sdk} ${sdkVersion(sdk)}: internal ${internal} ${problem}; the mock harness and the offline policy runner `
            + "depend on it: adapt tools/sdkInternals.ts to this SDK version");
        this.name = "SdkInternalError";
    }
}

/** require() a module of an SDK, failing with the internal's name when it does not load. */
function load<T>(sdk: Sdk, specifier: string, internal = specifier): T {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(specifier) as T;
    } catch (e) {
        throw new SdkInternalError(sdk, internal, `does not load (${(e as Error).message.split("\n")[0]})`);
    }
}

/** `owner[key]` when it has the expected kind, else an SdkInternalError naming `internal`. */
function member<T>(sdk: Sdk, internal: string, owner: unknown, key: string, kind: "function" | "string"): T {
    const value = (owner as Record<string, unknown> | undefined)?.[key];
    if (typeof value !== kind) {
        throw new SdkInternalError(sdk, internal, `is ${value === undefined ? "missing" : `a ${typeof value}`} (expected a ${kind})`);
    }
    return value as T;
}

/** Where a module of an SDK's own dependencies resolves from that SDK (the copy it uses). */
function fromSdk(sdk: Sdk, specifier: string): string {
    const dir = path.dirname(require.resolve(`${sdk}/package.json`));
    try {
        return require.resolve(specifier, { paths: [dir] });
    } catch (e) {
        throw new SdkInternalError(sdk, specifier, `cannot be resolved from ${dir} (${(e as Error).message.split("\n")[0]})`);
    }
}

// ------------------------------------------------------------------------------------------------
// The wire encoding (@pulumi/pulumi runtime/rpc)

export interface WireEncoding {
    /** What an unknown value (preview) travels as; the policy SDK decodes it as an unknown string. */
    unknown: string;
    /** The key marking a special object (secret, asset, …) and the signature marking a secret. */
    sigKey: string;
    secretSig: string;
}

let wire: WireEncoding | undefined;

export function wireEncoding(): WireEncoding {
    if (!wire) {
        const rpc = load<Record<string, unknown>>("@pulumi/pulumi", "@pulumi/pulumi/runtime/rpc");
        const get = (key: string) => member<string>("@pulumi/pulumi", `runtime/rpc.${key}`, rpc, key, "string");
        wire = { unknown: get("unknownValue"), sigKey: get("specialSigKey"), secretSig: get("specialSecretSig") };
    }
    return wire;
}

// ------------------------------------------------------------------------------------------------
// The runtime a program runs in (one fresh copy of @pulumi/pulumi per run, see mockRun.ts)

/** The `runtime` namespace of whichever copy of @pulumi/pulumi the program loads. */
export type PulumiRuntime = typeof import("@pulumi/pulumi").runtime;

const runtimeMember = <T>(runtime: PulumiRuntime, key: string) => member<T>("@pulumi/pulumi", `runtime.${key}`, runtime, key, "function");

/** Stack config as the engine hands it to a program ("<ns>:<key>" → string; secret keys listed). */
export function setProgramConfig(runtime: PulumiRuntime, config: Record<string, string>, secretKeys: string[]): void {
    runtimeMember<(c: Record<string, string>, s: string[]) => void>(runtime, "setAllConfig")(config, secretKeys);
}

/** Runs the program's module as the language host does: inside the root stack resource. */
export function runInStack(runtime: PulumiRuntime, init: () => Promise<Record<string, unknown>>): Promise<unknown> {
    return runtimeMember<(i: () => Promise<Record<string, unknown>>) => Promise<unknown>>(runtime, "runInPulumiStack")(init);
}

/** Resolves once every outstanding resource RPC of the program has settled. */
export function waitForRPCs(runtime: PulumiRuntime): Promise<void> {
    return runtimeMember<() => Promise<void>>(runtime, "waitForRPCs")();
}

/**
 * Every copy of @pulumi/pulumi shares one process-wide store (config, the stack resource, the
 * monitor) on globalThis; dropping it makes the next run start as a fresh process would.
 */
export function resetGlobalStore(): void {
    const global = globalThis as Record<string, unknown>;
    global.globalStore = undefined;
    global.stackResource = undefined;
}

// ------------------------------------------------------------------------------------------------
// The mock monitor: what a program sends when it registers a resource

/** One RegisterResource request, decoded from the SDK's protobuf message. */
export type RegistrationRequest = Pick<RecordedResource, "type" | "name" | "custom" | "dependencies" | "propertyDependencies" | "protect"
    | "ignoreChanges" | "deleteBeforeReplace" | "retainOnDelete" | "additionalSecretOutputs" | "aliases" | "customTimeouts"> & {
    /** A multi-language component, built by its provider plugin. */
    remote: boolean;
    /** The inputs in wire form (secrets and unknowns still encoded, see wireEncoding()). */
    object: Record<string, unknown>;
    /** The parent's URN, or "". */
    parent: string;
    /** "<provider urn>::<provider id>", or "". */
    provider: string;
};

/** The RegisterResourceRequest getters decodeRegistration reads (proto/resource_pb). */
const REQUEST_GETTERS = ["getType", "getName", "getCustom", "getRemote", "getObject", "getParent", "getProvider", "getDependenciesList",
    "getPropertydependenciesMap", "getProtect", "getIgnorechangesList", "getDeletebeforereplace", "getRetainondelete",
    "getAdditionalsecretoutputsList", "getAliasurnsList", "getCustomtimeouts"] as const;

type ProtoMessage = Record<string, (...args: unknown[]) => any>;

function decodeRegistration(req: ProtoMessage): RegistrationRequest {
    const get = (getter: (typeof REQUEST_GETTERS)[number]) =>
        member<() => any>("@pulumi/pulumi", `proto/resource_pb RegisterResourceRequest.${getter}`, req, getter, "function").call(req);
    const propertyDependencies: Record<string, string[]> = {};
    get("getPropertydependenciesMap").forEach((deps: ProtoMessage, key: string) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    const timeouts = get("getCustomtimeouts") as ProtoMessage | undefined;
    return {
        type: get("getType"),
        name: get("getName"),
        custom: get("getCustom"),
        remote: get("getRemote") ?? false,
        object: get("getObject")?.toJavaScript() ?? {},
        parent: get("getParent"),
        provider: get("getProvider"),
        dependencies: get("getDependenciesList"),
        propertyDependencies,
        protect: get("getProtect") ?? false,
        ignoreChanges: get("getIgnorechangesList"),
        deleteBeforeReplace: get("getDeletebeforereplace"),
        retainOnDelete: get("getRetainondelete") ?? false,
        additionalSecretOutputs: get("getAdditionalsecretoutputsList"),
        aliases: get("getAliasurnsList"),
        customTimeouts: timeouts
            ? { create: timeouts.getCreate() || undefined, update: timeouts.getUpdate() || undefined, delete: timeouts.getDelete() || undefined }
            : undefined,
    };
}

/**
 * Shows every registration the mock monitor (installed by runtime.setMocks) receives to
 * `observe`, before the monitor handles it; the function `observe` returns gets the URN the
 * monitor assigned (undefined when registration failed) before the program sees the answer.
 */
export function observeRegistrations(runtime: PulumiRuntime,
    observe: (request: RegistrationRequest) => (urn: string | undefined) => void, options: ObserveOptions = {}): void {
    const monitor = runtimeMember<() => unknown>(runtime, "getMonitor")() as Record<string, unknown> | undefined;
    const register = member<(req: unknown, cb: (err: unknown, resp: unknown) => void) => void>(
        "@pulumi/pulumi", "runtime/mocks MockMonitor.registerResource", monitor, "registerResource", "function").bind(monitor);
    const skip = options.unknownMissingOutputs ? registrationResultSkip() : undefined;
    monitor!.registerResource = (req: ProtoMessage, callback: (err: unknown, resp: ProtoMessage | undefined) => void) => {
        const registered = observe(decodeRegistration(req));
        return register(req, (err, resp) => {
            registered((resp as ProtoMessage | undefined)?.getUrn());
            if (skip !== undefined && resp) {
                (resp as ProtoMessage).setResult(skip);
            }
            callback(err, resp as ProtoMessage | undefined);
        });
    };
}

export interface ObserveOptions {
    /**
     * Outputs the mock provider reports no value for resolve as unknown rather than as a known
     * `undefined` (which is what a non-preview run does): the response carries a result other than
     * SUCCESS, for which the SDK keeps unknowns (runtime/resource.js `keepUnknowns`).
     */
    unknownMissingOutputs?: boolean;
}

/** proto/resource_pb Result.SKIP: a RegisterResourceResponse result that is not SUCCESS. */
function registrationResultSkip(): number {
    const proto = load<Record<string, any>>("@pulumi/pulumi", "@pulumi/pulumi/proto/resource_pb");
    const result = proto.Result as Record<string, unknown> | undefined;
    if (typeof result?.SKIP !== "number" || result.SKIP === result.SUCCESS) {
        throw new SdkInternalError("@pulumi/pulumi", "proto/resource_pb Result.SKIP", "is missing (expected a result other than SUCCESS)");
    }
    member("@pulumi/pulumi", "proto/resource_pb RegisterResourceResponse.setResult", proto.RegisterResourceResponse?.prototype, "setResult", "function");
    return result.SKIP;
}

// ------------------------------------------------------------------------------------------------
// Props as a policy sees them (@pulumi/policy's analyzer server)

interface PolicySdk {
    unknownCheckingProxy<T>(value: T): T;
}
interface StructClass {
    fromJavaScript(value: Record<string, unknown>): { toJavaScript(): Record<string, unknown> };
}
type DeserializeProperties = (struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean) => Record<string, any>;

let policyDecoder: ((wireProps: Record<string, unknown>) => Record<string, any>) | undefined;

/**
 * Props exactly as the analyzer hands them to a policy: the wire-form inputs put in a protobuf
 * Struct (as the gRPC request carries them), decoded by the SDK's deserializer, behind its
 * unknown-checking proxy (reading an unknown value throws UnknownValueError).
 */
export function analyzerProps(wireProps: Record<string, unknown>): Record<string, any> {
    if (!policyDecoder) {
        const sdk = load<PolicySdk>("@pulumi/policy", "@pulumi/policy");
        const proxy = member<PolicySdk["unknownCheckingProxy"]>("@pulumi/policy", "unknownCheckingProxy", sdk, "unknownCheckingProxy", "function");
        const deserialize = member<DeserializeProperties>("@pulumi/policy", "deserialize.deserializeProperties",
            load("@pulumi/policy", "@pulumi/policy/deserialize"), "deserializeProperties", "function");
        const Struct = protobufStruct("@pulumi/policy");
        policyDecoder = (props) => proxy(deserialize(Struct.fromJavaScript(props), false));
    }
    return policyDecoder(wireProps);
}

/** google-protobuf's Struct, from the copy the given SDK uses. */
function protobufStruct(sdk: Sdk): StructClass {
    const module = load<Record<string, unknown>>(sdk, fromSdk(sdk, "google-protobuf/google/protobuf/struct_pb"), "google-protobuf Struct");
    const Struct = member<StructClass>(sdk, "google-protobuf Struct", module, "Struct", "function");
    member(sdk, "google-protobuf Struct.fromJavaScript", Struct, "fromJavaScript", "function");
    return Struct;
}

// ------------------------------------------------------------------------------------------------
// The real pack server (test/policy/packServer.test.ts)

/** The Node.js policy host `pulumi preview --policy-pack` runs: `node <script> <engine address> <pack dir>`. */
export function policyHostScript(): string {
    return fromSdk("@pulumi/pulumi", "@pulumi/pulumi/cmd/run-policy-pack");
}

/** The analyzer gRPC protocol as the engine speaks it, from @pulumi/pulumi's own copies. */
export interface AnalyzerProtocol {
    grpc: any;
    /** proto/analyzer_grpc_pb: AnalyzerClient. */
    service: any;
    /** proto/analyzer_pb: the request, response and enum messages. */
    messages: any;
    Empty: any;
    Struct: any;
}

export function analyzerProtocol(): AnalyzerProtocol {
    const sdk = "@pulumi/pulumi";
    const service = load<Record<string, unknown>>(sdk, "@pulumi/pulumi/proto/analyzer_grpc_pb");
    member(sdk, "proto/analyzer_grpc_pb.AnalyzerClient", service, "AnalyzerClient", "function");
    const messages = load<Record<string, any>>(sdk, "@pulumi/pulumi/proto/analyzer_pb");
    for (const name of ["AnalyzeRequest", "AnalyzeStackRequest", "AnalyzerResource", "AnalyzerResourceOptions", "AnalyzerProviderResource",
        "AnalyzerPropertyDependencies", "ConfigureAnalyzerRequest", "PolicyConfig"]) {
        member(sdk, `proto/analyzer_pb.${name}`, messages, name, "function");
    }
    if (typeof messages.EnforcementLevel?.MANDATORY !== "number") {
        throw new SdkInternalError(sdk, "proto/analyzer_pb.EnforcementLevel", "has no MANDATORY value");
    }
    const grpc = load<Record<string, any>>(sdk, fromSdk(sdk, "@grpc/grpc-js"), "@grpc/grpc-js");
    const empty = load<Record<string, unknown>>(sdk, fromSdk(sdk, "google-protobuf/google/protobuf/empty_pb"), "google-protobuf Empty");
    return { grpc, service, messages, Empty: member(sdk, "google-protobuf Empty", empty, "Empty", "function"), Struct: protobufStruct(sdk) };
}

// ------------------------------------------------------------------------------------------------
// The checks (run by test/tools/sdkInternals.test.ts)

export interface SdkInternal {
    sdk: Sdk;
    /** The internal, as the failure names it. */
    name: string;
    /** What the tools use it for. */
    usedFor: string;
    /** Throws an SdkInternalError naming the internal when it is gone or has changed shape. */
    verify(): void;
}

function expectThat(sdk: Sdk, internal: string, ok: boolean, problem: string): void {
    if (!ok) {
        throw new SdkInternalError(sdk, internal, problem);
    }
}

/** `<sdk>/<module>`'s class `name`, checked to have `methods` on its prototype. */
function classWith<T = unknown>(sdk: Sdk, module: string, name: string, methods: string[]): T {
    const cls = member<{ prototype: unknown }>(sdk, `${module}.${name}`, load(sdk, `${sdk}/${module}`), name, "function");
    for (const method of methods) {
        member(sdk, `${module} ${name}.${method}`, cls.prototype, method, "function");
    }
    return cls as T;
}

/** What `read` throws (undefined when it does not). */
function thrownBy(read: () => unknown): unknown {
    try {
        read();
    } catch (e) {
        return e;
    }
    return undefined;
}

/** A fresh copy of @pulumi/pulumi's runtime (not the one the caller's module registry holds). */
function runtimeOf(): PulumiRuntime {
    return load<typeof import("@pulumi/pulumi")>("@pulumi/pulumi", "@pulumi/pulumi").runtime;
}

export const SDK_INTERNALS: readonly SdkInternal[] = [
    {
        sdk: "@pulumi/pulumi",
        name: "runtime/rpc unknownValue, specialSigKey, specialSecretSig",
        usedFor: "reading unknowns and secrets out of the inputs a program registers",
        verify: () => {
            const w = wireEncoding();
            expectThat("@pulumi/pulumi", "runtime/rpc", new Set([w.unknown, w.sigKey, w.secretSig]).size === 3, "sentinels are not distinct");
        },
    },
    {
        sdk: "@pulumi/policy",
        name: "proxy.unknownStringValue (the policy SDK's unknown sentinel)",
        usedFor: "an unknown the program registered reaches a policy as an unknown",
        verify: () => {
            const proxy = load<Record<string, unknown>>("@pulumi/policy", "@pulumi/policy/proxy");
            const unknown = member<string>("@pulumi/policy", "proxy.unknownStringValue", proxy, "unknownStringValue", "string");
            expectThat("@pulumi/policy", "proxy.unknownStringValue", unknown === wireEncoding().unknown,
                `is "${unknown}", not @pulumi/pulumi's runtime/rpc.unknownValue "${wireEncoding().unknown}"`);
        },
    },
    {
        sdk: "@pulumi/pulumi",
        name: "runtime.setAllConfig, runtime.runInPulumiStack, runtime.waitForRPCs, runtime.getMonitor",
        usedFor: "running a program in-process as the language host does",
        verify: () => {
            const runtime = runtimeOf();
            for (const key of ["setAllConfig", "runInPulumiStack", "waitForRPCs", "getMonitor"]) {
                runtimeMember(runtime, key);
            }
        },
    },
    {
        sdk: "@pulumi/pulumi",
        name: "runtime/mocks MockMonitor.registerResource",
        usedFor: "recording every registration with its options",
        verify: () => {
            classWith("@pulumi/pulumi", "runtime/mocks", "MockMonitor", ["registerResource"]);
        },
    },
    {
        sdk: "@pulumi/pulumi",
        name: "proto/resource_pb RegisterResourceRequest, RegisterResourceResponse and Result",
        usedFor: "decoding what the program registered and the URN the monitor assigned; under `up`, unknown outputs the mocks do not model",
        verify: () => {
            const Request = classWith<new () => ProtoMessage>("@pulumi/pulumi", "proto/resource_pb", "RegisterResourceRequest", [...REQUEST_GETTERS]);
            classWith("@pulumi/pulumi", "proto/resource_pb", "RegisterResourceResponse", ["getUrn", "setResult"]);
            registrationResultSkip();
            const req = new Request();
            req.setType("test:index:Thing");
            req.setName("thing");
            const decoded = decodeRegistration(req);
            expectThat("@pulumi/pulumi", "proto/resource_pb RegisterResourceRequest", decoded.type === "test:index:Thing" && decoded.name === "thing",
                `decodes as ${JSON.stringify(decoded)}`);
        },
    },
    {
        sdk: "@pulumi/pulumi",
        name: "runtime/state globalThis.globalStore and globalThis.stackResource",
        usedFor: "starting each run from a fresh process-wide store",
        verify: () => {
            const state = load<Record<string, any>>("@pulumi/pulumi", "@pulumi/pulumi/runtime/state");
            const getGlobalStore = member<() => unknown>("@pulumi/pulumi", "runtime/state.getGlobalStore", state, "getGlobalStore", "function");
            const setStackResource = member<(r: unknown) => void>("@pulumi/pulumi", "runtime/state.setStackResource", state, "setStackResource", "function");
            const global = globalThis as Record<string, unknown>;
            const saved = { store: global.globalStore, stack: global.stackResource };
            try {
                resetGlobalStore();
                const store = getGlobalStore();
                expectThat("@pulumi/pulumi", "runtime/state globalThis.globalStore", store !== undefined && global.globalStore === store,
                    "is not where the runtime keeps its process-wide store");
                const marker = {};
                setStackResource(marker);
                expectThat("@pulumi/pulumi", "runtime/state globalThis.stackResource", global.stackResource === marker,
                    "is not where the runtime keeps the stack resource");
            } finally {
                global.globalStore = saved.store;
                global.stackResource = saved.stack;
            }
        },
    },
    {
        sdk: "@pulumi/policy",
        name: "deserialize.deserializeProperties and unknownCheckingProxy",
        usedFor: "handing policies props exactly as the analyzer server does",
        verify: () => {
            const w = wireEncoding();
            const props = analyzerProps({ replicas: 2, password: { [w.sigKey]: w.secretSig, value: "p" }, host: w.unknown });
            expectThat("@pulumi/policy", "deserialize.deserializeProperties", props.replicas === 2 && props.password === "p",
                `decodes plain values and secrets as ${JSON.stringify({ replicas: props.replicas, password: props.password })}`);
            const thrown = thrownBy(() => props.host);
            expectThat("@pulumi/policy", "unknownCheckingProxy", thrown !== undefined, "does not throw when a policy reads an unknown value");
        },
    },
    {
        sdk: "@pulumi/policy",
        name: "UnknownValueError { props, unknownTypeSentinel }",
        usedFor: "recognising an unknown value read (policy/rules/common.ts isUnknownValueError, and the runner's advisory downgrade)",
        verify: () => {
            const thrown = thrownBy(() => analyzerProps({ spec: { replicas: wireEncoding().unknown } }).spec.replicas);
            expectThat("@pulumi/policy", "UnknownValueError", isUnknownValueError(thrown) && thrown.props.join(".") === "spec.replicas",
                `no longer has the shape isUnknownValueError expects (got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)})`);
        },
    },
    {
        sdk: "@pulumi/pulumi",
        name: "cmd/run-policy-pack and the analyzer gRPC protocol (proto/analyzer_pb, proto/analyzer_grpc_pb)",
        usedFor: "test/policy/packServer.test.ts serving the real pack and talking to it as the engine does",
        verify: () => {
            policyHostScript();
            analyzerProtocol();
        },
    },
];
