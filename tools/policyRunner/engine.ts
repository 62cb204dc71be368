// Evaluates a policy pack over recorded resource registrations the way the Pulumi engine and
// @pulumi/policy's analyzer server (node_modules/@pulumi/policy/server.js) do it:
//
//   Analyze (once per registered resource, in registration order, components, providers and the
//   stack included): for each policy whose effective level is not "disabled" and that validates
//   resources — skipping it when its validateResource carries a __pulumiType of another type —
//   each validation function gets a fresh ResourceValidationArgs { type, props (inputs behind the
//   SDK's unknown-checking proxy), urn, name, opts, provider?, stackTags, isType, asType,
//   getConfig, notApplicable }. reportViolation records the resource's own URN (the urn argument
//   is ignored). An UnknownValueError escaping a policy becomes an *advisory* "can't run policy
//   … during preview" diagnostic, NotApplicable is recorded, anything else fails the run.
//
//   AnalyzeStack (once, after all registrations): each stack policy gets StackValidationArgs
//   { resources: PolicyResource[] with parent, dependencies and propertyDependencies linked to
//   the other PolicyResources, stackTags, getConfig, notApplicable }; reportViolation may name
//   any URN, or none for the stack as a whole.
//
//   Effective level = configured level || policy.enforcementLevel || pack level; "remediate"
//   reports as mandatory. getConfig() returns the reconciled properties (see config.ts).
//
// Approximations under mocks: stack policies see the registered inputs where the engine passes
// outputs (for a create during preview those are the inputs plus unknown computed fields);
// deleteBeforeReplace is passed only when true; the engine's default providers are synthesized as
// "default_<version>" with no properties.
import * as path from "path";
import type {
    EnforcementLevel,
    Policy,
    PolicyPackArgs,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { isUnknownValueError } from "../../policy/rules/common";
import { RecordedResource, UNKNOWN } from "../mockRun";
import { analyzerProps, wireEncoding } from "../sdkInternals";
import { ReconciledConfig } from "./config";

export type ViolationLevel = "advisory" | "mandatory";

export interface Violation {
    policy: string;
    level: ViolationLevel;
    /** The resource's URN, or the stack's when a stack policy named no resource. */
    urn: string;
    message: string;
}

export interface NotApplicable {
    policy: string;
    urn?: string;
    reason?: string;
}

export interface Evaluation {
    violations: Violation[];
    notApplicable: NotApplicable[];
}

export interface EvaluateOptions {
    packName: string;
    packVersion: string;
    packArgs: PolicyPackArgs;
    config: ReconciledConfig;
    resources: RecordedResource[];
    /** URN of the root stack resource (stack-level violations are reported against it). */
    stackUrn: string;
    /** Directory the program's packages resolve from (for default provider versions). */
    programDir?: string;
}

export class PolicyRunError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyRunError";
    }
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

/** Recorded values with the recorder's UNKNOWN marker turned back into the wire sentinel. */
export function toWire(value: unknown): unknown {
    if (value === UNKNOWN) {
        return wireEncoding().unknown;
    }
    if (Array.isArray(value)) {
        return value.map(toWire);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toWire(v)]));
    }
    return value;
}

/** Fresh props as a policy receives them: deserialized from a Struct, behind the unknown-checking proxy. */
export function policyProps(inputs: Record<string, unknown>): Record<string, any> {
    return analyzerProps(toWire(inputs) as Record<string, unknown>);
}

/** Go duration ("10m", "1h30m", "90s") → seconds, as the engine converts custom timeouts. */
export function durationSeconds(value: string | undefined): number {
    if (!value) {
        return 0;
    }
    const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    let total = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
        total += Number(m[1]) * units[m[2]];
    }
    return total;
}

export function resourceOptions(r: RecordedResource): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: r.protect,
        ignoreChanges: [...r.ignoreChanges],
        aliases: [...r.aliases],
        customTimeouts: {
            createSeconds: durationSeconds(r.customTimeouts?.create),
            updateSeconds: durationSeconds(r.customTimeouts?.update),
            deleteSeconds: durationSeconds(r.customTimeouts?.delete),
        },
        additionalSecretOutputs: [...r.additionalSecretOutputs],
    };
    if (r.deleteBeforeReplace) {
        opts.deleteBeforeReplace = true;
    }
    if (r.parent) {
        opts.parent = r.parent;
    }
    return opts;
}

/** The URN's name part ("…::backend-deployment"). */
function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function isTypeOf(type: string, resourceClass: any): boolean {
    const pulumiType = resourceClass?.__pulumiType;
    if (typeof pulumiType === "string" && pulumiType.length > 0) {
        return type === pulumiType;
    }
    const isInstance = resourceClass?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function pulumiTypeOf(fn: unknown): string | undefined {
    const t = (fn as any)?.__pulumiType;
    return typeof t === "string" && t.length > 0 ? t : undefined;
}

export function isResourcePolicy(p: Policy): p is ResourceValidationPolicy {
    const v = (p as ResourceValidationPolicy).validateResource;
    if (typeof v === "function") {
        return true;
    }
    if (Array.isArray(v)) {
        return v.every((f) => typeof f === "function");
    }
    return typeof (p as ResourceValidationPolicy).remediateResource === "function";
}

export function isStackPolicy(p: Policy): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** A read-only view of the (empty, under a local backend) stack tags, like the server's freezeMap. */
const NO_STACK_TAGS: ReadonlyMap<string, string> = Object.freeze(new Map<string, string>());

/** Registrations plus the default providers the engine would have created for them. */
function withDefaultProviders(resources: RecordedResource[], programDir: string | undefined): {
    resources: RecordedResource[];
    providerOf: Map<RecordedResource, string>;
} {
    const out: RecordedResource[] = [];
    const providerOf = new Map<RecordedResource, string>();
    const defaults = new Map<string, string>(); // package → provider urn
    const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const [stackPart, project] = (root?.urn ?? "urn:pulumi:stack::project").split("::");
    for (const r of resources) {
        if (r.custom && !r.provider && !r.type.startsWith("pulumi:providers:")) {
            const pkg = r.type.split(":")[0];
            let urn = defaults.get(pkg);
            if (!urn) {
                urn = `${stackPart}::${project}::pulumi:providers:${pkg}::default${providerVersionSuffix(pkg, programDir)}`;
                defaults.set(pkg, urn);
                out.push({
                    urn, type: `pulumi:providers:${pkg}`, name: urnName(urn), custom: true, inputs: {}, secretInputs: [],
                    dependencies: [], propertyDependencies: {}, protect: false, ignoreChanges: [], deleteBeforeReplace: false,
                    retainOnDelete: false, additionalSecretOutputs: [], aliases: [],
                });
            }
            providerOf.set(r, urn);
        } else if (r.provider) {
            providerOf.set(r, r.provider.slice(0, r.provider.lastIndexOf("::")));
        }
        out.push(r);
    }
    return { resources: out, providerOf };
}

function providerVersionSuffix(pkg: string, programDir: string | undefined): string {
    try {
        const file = require.resolve(`@pulumi/${pkg}/package.json`, { paths: programDir ? [programDir] : undefined });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const version: string = require(file).version;
        return `_${version.replace(/^v/, "").replace(/[.-]/g, "_")}`;
    } catch {
        return "";
    }
}

export async function evaluatePolicies(options: EvaluateOptions): Promise<Evaluation> {
    const { packName, packVersion, packArgs, config } = options;
    const packLevel: EnforcementLevel = packArgs.enforcementLevel ?? "advisory";
    const policies = packArgs.policies ?? [];
    const { resources, providerOf } = withDefaultProviders(options.resources, options.programDir);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const violations: Violation[] = [];
    const notApplicable: NotApplicable[] = [];
    const packId = `'${packName}@v${packVersion}'`;

    const levelOf = (p: Policy): EnforcementLevel => config.get(p.name)?.enforcementLevel || p.enforcementLevel || packLevel;
    const getConfigOf = (p: Policy) => <T extends object>(): T => ({ ...(config.get(p.name)?.properties ?? {}) }) as T;
    const providerFor = (r: RecordedResource): PolicyProviderResource | undefined => {
        const urn = providerOf.get(r);
        const provider = urn ? byUrn.get(urn) : undefined;
        return provider ? { type: provider.type, props: policyProps(provider.inputs), urn: provider.urn, name: urnName(provider.urn) } : undefined;
    };
    /** What a policy sees of a resource in both hooks: a fresh copy of its inputs each time. */
    const viewOf = (r: RecordedResource) => {
        const props = policyProps(r.inputs);
        const provider = providerFor(r);
        return {
            type: r.type,
            props,
            urn: r.urn,
            name: urnName(r.urn),
            opts: resourceOptions(r),
            isType: (cls: any) => isTypeOf(r.type, cls),
            asType: ((cls: any) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"] & ResourceValidationArgs["asType"],
            ...(provider ? { provider } : {}),
        };
    };
    const reporter = (p: Policy, level: ViolationLevel, fixedUrn: string | undefined) =>
        (message: any, urn?: string) => {
            if (typeof message === "object" && message !== null) {
                // The SDK also accepts a policy-info object in place of the message.
                violations.push({
                    policy: message.name || p.name,
                    // As @pulumi/policy: the object's own level wins when it names one.
                    level: message.enforcementLevel === "advisory" || message.enforcementLevel === "mandatory" ? message.enforcementLevel : level,
                    urn: fixedUrn ?? message.urn ?? options.stackUrn,
                    message: message.message || message.description || p.description,
                });
                return;
            }
            violations.push({ policy: p.name, level, urn: fixedUrn ?? urn ?? options.stackUrn, message: message || p.description });
        };

    // Analyze: every registration, in order.
    for (const r of resources) {
        for (const p of policies) {
            let level = levelOf(p);
            if (level === "disabled" || !isResourcePolicy(p)) {
                continue;
            }
            if (!p.validateResource) {
                notApplicable.push({ policy: p.name, urn: r.urn, reason: "Policy does not implement validateResource" });
                continue;
            }
            if (level === "remediate") {
                level = "mandatory";
            }
            if (!Array.isArray(p.validateResource)) {
                const only = pulumiTypeOf(p.validateResource);
                if (only && only !== r.type) {
                    notApplicable.push({ policy: p.name, urn: r.urn, reason: `Policy only applies to resources of type '${only}'` });
                    continue;
                }
            }
            const report = reporter(p, level, r.urn);
            const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const validate of validations) {
                const args: ResourceValidationArgs = {
                    ...viewOf(r),
                    stackTags: NO_STACK_TAGS,
                    getConfig: getConfigOf(p),
                    notApplicable: throwNotApplicable,
                };
                try {
                    await Promise.resolve(validate(args, report));
                } catch (e) {
                    if (isUnknownValueError(e)) {
                        violations.push({ policy: p.name, level: "advisory", urn: r.urn,
                            message: `can't run policy '${p.name}' from policy pack ${packId} during preview: ${e.message}` });
                    } else if (e instanceof NotApplicableError) {
                        notApplicable.push({ policy: p.name, urn: r.urn, reason: e.reason });
                    } else {
                        throw new PolicyRunError(`Error validating resource ${r.urn} with policy '${p.name}' from policy pack ${packId}:\n`
                            + `${(e as Error)?.stack ?? e}`);
                    }
                }
            }
        }
    }

    // AnalyzeStack: once, over everything.
    for (const p of policies) {
        let level = levelOf(p);
        if (level === "disabled" || !isStackPolicy(p)) {
            continue;
        }
        if (level === "remediate") {
            level = "mandatory";
        }
        const only = pulumiTypeOf(p.validateStack);
        if (only && !resources.some((r) => r.type === only)) {
            notApplicable.push({ policy: p.name, reason: `Policy only applies to resources of type '${only}'` });
            continue;
        }
        const policyResources = new Map<string, PolicyResource>();
        for (const r of resources) {
            policyResources.set(r.urn, { ...viewOf(r), dependencies: [], propertyDependencies: {} });
        }
        for (const r of resources) {
            const resource = policyResources.get(r.urn)!;
            const parent = r.parent ? policyResources.get(r.parent) : undefined;
            if (parent) {
                resource.parent = parent;
            }
            resource.dependencies = r.dependencies.map((d) => policyResources.get(d)).filter((d): d is PolicyResource => d !== undefined);
            for (const [key, deps] of Object.entries(r.propertyDependencies)) {
                resource.propertyDependencies[key] = deps.map((d) => policyResources.get(d)).filter((d): d is PolicyResource => d !== undefined);
            }
        }
        const args: StackValidationArgs = {
            resources: [...policyResources.values()],
            getConfig: getConfigOf(p),
            stackTags: NO_STACK_TAGS,
            notApplicable: throwNotApplicable,
        };
        try {
            await Promise.resolve(p.validateStack(args, reporter(p, level, undefined)));
        } catch (e) {
            if (isUnknownValueError(e)) {
                violations.push({ policy: p.name, level: "advisory", urn: options.stackUrn,
                    message: `can't run policy '${p.name}' from policy pack ${packId} during preview: ${e.message}` });
            } else if (e instanceof NotApplicableError) {
                notApplicable.push({ policy: p.name, reason: e.reason });
            } else {
                throw new PolicyRunError(`Error validating stack with policy '${p.name}' from policy pack ${packId}:\n${(e as Error)?.stack ?? e}`);
            }
        }
    }
    return { violations, notApplicable };
}

/** The pack's version, as PolicyPack reads it (package.json next to the pack's entry point). */
export function packVersion(packDir: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const version = require(path.join(packDir, "package.json")).version;
    if (!version) {
        throw new PolicyRunError("Version must be defined in the package.json file.");
    }
    return version;
}
