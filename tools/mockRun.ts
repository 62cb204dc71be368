// Runs a Pulumi TypeScript program in-process under Pulumi mocks and records every resource
// registration with the same facts the engine hands to a policy pack: URN, type, name, inputs,
// parent, provider, dependencies and options. Used by the tests and by `npm run policy:check`.
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import * as pulumi from "@pulumi/pulumi";
import { answerInvoke } from "./mockInvokes";
import { observeRegistrations, RegistrationRequest, resetGlobalStore, runInStack, setProgramConfig, waitForRPCs, wireEncoding } from "./sdkInternals";
import { loadStackConfig, readProjectName } from "./stackConfig";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** Inputs as the program sent them (secrets unwrapped; `unknown` sentinels kept as UNKNOWN). */
    inputs: Record<string, any>;
    /** Input property paths that were secret when sent. */
    secretInputs: string[];
    parent?: string;
    provider?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    protect: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    additionalSecretOutputs: string[];
    aliases: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
}

export interface MockRunResult {
    resources: RecordedResource[];
    /** Stack outputs as the program exported them (Outputs resolved, secrets marked). */
    outputs: Record<string, { value: unknown; secret: boolean }>;
}

export interface MockRunOptions {
    /** Absolute path of the program entry file (a .ts file). */
    program: string;
    /** Directory holding Pulumi.yaml and Pulumi.<stack>.yaml. */
    projectDir: string;
    stack: string;
    /** Run as `pulumi preview` (true) or `pulumi up` (false). Defaults to false. */
    preview?: boolean;
    /** Extra config on top of the stack file ("<ns>:<key>" → value), e.g. for bad-input tests. */
    configOverrides?: Record<string, string>;
    /** Extra state the mock provider reports for a resource (e.g. computed endpoints). */
    computedState?: (type: string, name: string, inputs: Record<string, any>) => Record<string, any>;
    /**
     * Outputs the mock provider reports no value for (neither an input nor `computedState`) are
     * unknown, as they would be to anyone without the cloud, instead of a known `undefined`
     * (which is what a non-preview run makes of them, failing programs that read them).
     */
    unknownMissingOutputs?: boolean;
    /** Working directory while the program runs (Pulumi runs a program from its project directory). Default: projectDir. */
    workDir?: string;
}

/** The program threw; `registered` is what it had registered by then. */
export class ProgramError extends Error {
    constructor(public readonly cause: unknown, public readonly registered: RecordedResource[]) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "ProgramError";
    }
}

/**
 * The program needs something the runner cannot give it offline: an invoke without a mock answer
 * (a data source it does not know, helm.v3.Chart's template) or a component whose children a
 * provider plugin builds (helm.v4.Chart, yaml/v2, awsx, eks). Judging what it registered anyway
 * would judge made-up data or an empty component, so the run stops naming each one.
 */
export class UnsupportedProgramError extends Error {
    constructor(public readonly problems: string[], public readonly registered: RecordedResource[]) {
        super(`the offline runner cannot judge this program: ${problems.join("; ")}`);
        this.name = "UnsupportedProgramError";
    }
}

/**
 * Resources that stand for objects the runner cannot see: their provider creates them (a Helm
 * release installs its chart's objects inside the Kubernetes provider). Judging the one opaque
 * resource would pass whatever it installs.
 */
const OPAQUE_RESOURCES: Record<string, string> = {
    "kubernetes:helm.sh/v3:Release": "helm.v3.Release installs its chart's objects inside the Kubernetes provider (with Helm), "
        + "which the offline runner does not run",
};

/** Marker the recorder puts where a value was unknown (only happens in preview). */
export const UNKNOWN = "<computed>";

let runCount = 0;

/**
 * Runs `options.program` for one stack and returns everything it registered. Each call runs the
 * program in a fresh module registry, so one test file can run several stacks.
 */
export function runUnderMocks(options: MockRunOptions): Promise<MockRunResult> {
    // One program at a time: the Pulumi runtime keeps its state in a process-wide store.
    const run = queue.then(() => runOnce(options));
    queue = run.catch(() => undefined);
    return run;
}

let queue: Promise<unknown> = Promise.resolve();

async function runOnce(options: MockRunOptions): Promise<MockRunResult> {
    const { config, secretKeys } = loadStackConfig(options.projectDir, options.stack);
    Object.assign(config, options.configOverrides ?? {});
    const project = readProjectName(options.projectDir);
    const recorded: RecordedResource[] = [];
    const unsupported: string[] = [];
    const note = (problem: string) => {
        if (!unsupported.includes(problem)) {
            unsupported.push(problem);
        }
    };
    const invokeContext = { region: config["aws:region"] ?? process.env.AWS_REGION ?? "us-east-1" };
    let outputs: MockRunResult["outputs"] = {};

    // A resource whose inputs fail (an apply that throws) is never registered, and a stack output
    // whose apply throws fails the stack's outputs; each surfaces as an unhandled rejection once
    // the program has returned. Collect those (until the run has settled, so none reaches the
    // process): the program failed, and what it registered is incomplete.
    const rejections: unknown[] = [];
    let failed!: (reason: unknown) => void;
    // Settles at the first rejection: a resource whose input failed never registers, and whatever
    // waits on its outputs (a stack output, another resource) would wait forever.
    const firstFailure = new Promise<{ failure: unknown }>((resolve) => {
        failed = (failure) => resolve({ failure });
    });
    const onRejection = (reason: unknown) => {
        rejections.push(reason);
        failed(reason);
    };
    process.on("unhandledRejection", onRejection);
    // Pulumi runs a program from its project directory: files it reads by relative path are there.
    const cwd = process.cwd();
    process.chdir(options.workDir ?? options.projectDir);
    try {
        await runProgram();
    } finally {
        process.chdir(cwd);
        await settle();
        process.removeListener("unhandledRejection", onRejection);
    }
    runCount++;
    return { resources: recorded, outputs };

    async function runProgram(): Promise<void> {
        await withoutLeakedProcessListeners(() => isolated(async (pulumiModule: typeof pulumi) => {
            const runtime = pulumiModule.runtime;
            setProgramConfig(runtime, config, secretKeys);
            const mocks: pulumi.runtime.Mocks = {
                newResource: (args) => {
                    const extra = options.computedState?.(args.type, args.name, args.inputs) ?? {};
                    return { id: args.inputs.metadata?.name ?? `${args.name}-id`, state: { ...args.inputs, ...extra } };
                },
                call: (args) => {
                    const answer = answerInvoke(args.token, args.inputs, invokeContext);
                    if (!answer.ok) {
                        note(answer.problem);
                        return {};
                    }
                    return answer.value;
                },
            };
            await runtime.setMocks(mocks, project, options.stack, options.preview ?? false);
            recordRegistrations(runtime, recorded, note, options.unknownMissingOutputs === true);

            const programPath = path.resolve(options.program);
            let programError: unknown;
            // The module's own exports: what runInPulumiStack returns is resolved plain data, which
            // no longer says which values were secret.
            let exported: Record<string, unknown> = {};
            /** `step`, unless the program has failed first (then the rest of it never completes). */
            const unlessFailed = async (step: Promise<unknown>) => {
                const outcome = await Promise.race([step.then(() => undefined), firstFailure.then(async (f) => {
                    await settle();
                    return f;
                })]);
                if (outcome !== undefined) {
                    programError ??= outcome.failure;
                }
            };
            await unlessFailed(runInStack(runtime, async () => {
                try {
                    exported = await loadProgram(programPath);
                    return exported;
                } catch (err) {
                    // Thrown inside the stack's constructor it would be an unhandled rejection.
                    programError = err;
                    return {};
                }
            }).catch((err: unknown) => {
                // The stack's outputs failed (an apply in an exported value threw).
                programError ??= err;
            }));
            await unlessFailed(waitForRPCs(runtime).catch((err: unknown) => {
                programError ??= err;
            }));
            await settle();
            programError ??= rejections[0];
            if (programError === undefined && unsupported.length === 0) {
                await unlessFailed((async () => {
                    outputs = await resolveOutputs(pulumiModule, exported);
                    await waitForRPCs(runtime);
                })().catch((err: unknown) => {
                    programError ??= err;
                }));
            }
            // What the runner could not supply explains a failure better than the failure itself.
            if (unsupported.length > 0) {
                throw new UnsupportedProgramError(unsupported, recorded.slice());
            }
            if (programError !== undefined) {
                throw new ProgramError(programError, recorded.slice());
            }
        }));
    }
}

/** A few turns of the event loop: rejections still pending are reported by then. */
async function settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setImmediate(resolve));
    }
}

/** A program is an ES module when it is a .mts/.mjs file or its nearest package.json says "type": "module" (as Node decides). */
export function isEsmProgram(program: string): boolean {
    if (/\.m[jt]s$/.test(program)) {
        return true;
    }
    if (/\.c[jt]s$/.test(program)) {
        return false;
    }
    for (let dir = path.dirname(program); ; dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            try {
                return JSON.parse(fs.readFileSync(file, "utf8")).type === "module";
            } catch {
                return false;
            }
        }
        if (path.dirname(dir) === dir) {
            return false;
        }
    }
}

/** The real dynamic import (TypeScript compiled to CommonJS would turn `import()` into `require`). */
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

/**
 * Loads the program as the Node.js language host does: `require` for CommonJS, `import()` for an
 * ES module (whose default export, if it is the only one, stands for the module); an exported
 * function is called and its result awaited (its result are the stack outputs).
 */
async function loadProgram(programPath: string): Promise<Record<string, unknown>> {
    let programExport: unknown;
    if (isEsmProgram(programPath)) {
        registerEsmHooks();
        programExport = await dynamicImport(pathToFileURL(programPath).href);
        const namespace = programExport as Record<string, unknown>;
        if (Object.getOwnPropertyDescriptor(namespace, "default") !== undefined) {
            if (Object.keys(namespace).length !== 1) {
                throw new Error("expected entrypoint module to have either a default export or named exports but not both");
            }
            programExport = namespace.default;
        }
    } else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        programExport = require(programPath);
    }
    const result = typeof programExport === "function" ? await (programExport as () => unknown)() : programExport;
    return (result && typeof result === "object" ? result : {}) as Record<string, unknown>;
}

let esmHooksRegistered = false;

/** TypeScript ES modules load through tools/esmHooks.mjs (transpiled; bare specifiers the program lacks resolve from this repository). */
function registerEsmHooks(): void {
    if (!esmHooksRegistered) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { register } = require("module") as { register(specifier: string, parentURL: string, options?: { data: unknown }): void };
        register("./esmHooks.mjs", pathToFileURL(__filename).href, { data: { repoRoot: path.resolve(__dirname, "..") } });
        esmHooksRegistered = true;
    }
}

/**
 * Each fresh copy of the Pulumi SDK hooks process events (exit, unhandled rejections) for a
 * program that owns the process. Here the run is over when `body` settles: unhook them, so
 * repeated runs in one process neither pile up listeners nor keep old runtimes alive.
 */
async function withoutLeakedProcessListeners(body: () => Promise<void>): Promise<void> {
    const events = ["exit", "beforeExit", "unhandledRejection", "uncaughtException"] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as any))]));
    try {
        await body();
    } finally {
        for (const event of events) {
            for (const listener of process.listeners(event as any)) {
                if (!before.get(event)!.has(listener)) {
                    process.removeListener(event, listener as (...args: any[]) => void);
                }
            }
        }
    }
}

async function isolated(body: (p: typeof pulumi) => Promise<void>): Promise<void> {
    // Every copy of @pulumi/pulumi shares one global store (config, stack resource, monitor);
    // drop the previous run's so this run starts as a fresh process would.
    resetGlobalStore();
    // A fresh registry per run: the Pulumi runtime keeps per-process state in its modules.
    // Under jest, `jest` is a module-scope variable and require() goes through its registry.
    if (typeof jest !== "undefined") {
        await jest.isolateModulesAsync(async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            await body(require("@pulumi/pulumi"));
        });
        return;
    }
    if (runCount > 0) {
        for (const key of Object.keys(require.cache)) {
            delete require.cache[key];
        }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await body(require("@pulumi/pulumi"));
}

function recordRegistrations(runtime: typeof pulumi.runtime, recorded: RecordedResource[], unsupported: (problem: string) => void,
    unknownMissingOutputs: boolean): void {
    const engineUrns = new Map<string, string>();
    observeRegistrations(runtime, (req: RegistrationRequest) => {
        if (req.remote) {
            unsupported(`component ${req.type} "${req.name}" is built by its provider plugin (a multi-language component), `
                + "which the offline runner does not run");
        }
        if (OPAQUE_RESOURCES[req.type]) {
            unsupported(`${req.type} "${req.name}": ${OPAQUE_RESOURCES[req.type]}`);
        }
        const { remote: _remote, object, parent, provider, ...registration } = req;
        const secretInputs: string[] = [];
        const entry: RecordedResource = {
            ...registration,
            urn: "",
            inputs: unwrap(object, "", secretInputs),
            secretInputs,
            parent: parent || undefined,
            provider: provider || undefined,
        };
        recorded.push(entry);
        return (mockUrn) => {
            if (mockUrn === undefined) {
                return;
            }
            // The mock monitor's URNs nest only the parent's last type and keep the root
            // stack; the engine's carry the parent's full qualified type and drop the stack.
            const parent = entry.parent ? engineUrns.get(entry.parent) ?? entry.parent : undefined;
            entry.urn = engineUrn(mockUrn, entry.type, entry.name, parent);
            engineUrns.set(mockUrn, entry.urn);
            entry.parent = parent;
            entry.provider = mapProviderRef(entry.provider, engineUrns);
            entry.dependencies = entry.dependencies.map((d) => engineUrns.get(d) ?? d);
            for (const key of Object.keys(entry.propertyDependencies)) {
                entry.propertyDependencies[key] = entry.propertyDependencies[key].map((d) => engineUrns.get(d) ?? d);
            }
        };
    }, { unknownMissingOutputs });
}

function engineUrn(mockUrn: string, type: string, name: string, parent: string | undefined): string {
    const [stackPart, project] = mockUrn.split("::"); // "urn:pulumi:<stack>", "<project>"
    const parentType = parent?.split("::")[2];
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return [stackPart, project, qualified, name].join("::");
}

/** Provider references are "<urn>::<id>". */
function mapProviderRef(ref: string | undefined, urns: Map<string, string>): string | undefined {
    if (!ref) {
        return ref;
    }
    const at = ref.lastIndexOf("::");
    const urn = ref.slice(0, at);
    return `${urns.get(urn) ?? urn}${ref.slice(at)}`;
}

/** Replaces the wire encoding of secrets and unknowns with plain values, noting secret paths. */
function unwrap(value: any, at: string, secrets: string[]): any {
    const wire = wireEncoding();
    if (value === wire.unknown) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map((v, i) => unwrap(v, `${at}[${i}]`, secrets));
    }
    if (value && typeof value === "object") {
        if (value[wire.sigKey] === wire.secretSig) {
            secrets.push(at);
            return unwrap(value.value, at, []);
        }
        const out: Record<string, any> = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = unwrap(v, at ? `${at}.${k}` : k, secrets);
        }
        return out;
    }
    return value;
}

async function resolveOutputs(p: typeof pulumi, exported: Record<string, unknown>): Promise<MockRunResult["outputs"]> {
    const result: MockRunResult["outputs"] = {};
    for (const [key, value] of Object.entries(exported)) {
        const output = p.output(value) as unknown as {
            promise(withUnknowns?: boolean): Promise<unknown>;
            isKnown: Promise<boolean>;
        };
        // promise(true) resolves even when the value is unknown (preview), unlike apply().
        // pulumi.isSecret, not the Output's own field: only the function sees secrets set by pulumi.secret().
        const [resolved, known, secret] = await Promise.all([output.promise(true), output.isKnown, p.isSecret(output as unknown as pulumi.Output<unknown>)]);
        result[key] = { value: known ? resolved : UNKNOWN, secret };
    }
    return result;
}
