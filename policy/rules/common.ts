// Shared plumbing for every policy in the pack: builders that give each policy the same shape,
// and the unknown-value guard.
//
// During `pulumi preview` a property that depends on another resource's output may be unknown.
// @pulumi/policy hands policies a proxy that throws UnknownValueError when such a value is read,
// and if the error escapes a policy the SDK downgrades the result to an *advisory* "can't run
// policy during preview" note: a mandatory check would silently pass. Every policy here catches
// that error itself and reports a violation at the policy's own enforcement level instead.
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** Resource properties as a policy sees them (plain JSON behind the SDK's unknown-checking proxy). */
export type Props = Record<string, any>;

/** True for the SDK's UnknownValueError, from whichever copy of @pulumi/policy threw it. */
export function isUnknownValueError(e: unknown): e is Error & { props: PropertyKey[] } {
    return e instanceof Error && Array.isArray((e as any).props) && "unknownTypeSentinel" in e;
}

/** ".spec.replicas" style path of an UnknownValueError. */
export function unknownPath(e: { props: PropertyKey[] }): string {
    return e.props.map((p) => String(p)).join(".");
}

export function unknownMessage(path: string, subject?: string): string {
    const what = subject ? `${subject}: ${path}` : path;
    return `${what} is unknown during preview; cannot verify. Make it known at preview time (a literal or a `
        + "stack config value rather than another resource's output) so the policy can check it.";
}

/**
 * Runs `body`; an unknown value read inside it becomes a violation instead of escaping to the
 * SDK (which would demote it to advisory). Other errors propagate.
 */
export function guardUnknowns(body: () => void, report: (message: string) => void, subject?: string): void {
    try {
        body();
    } catch (e) {
        if (!isUnknownValueError(e)) {
            throw e;
        }
        report(unknownMessage(unknownPath(e), subject));
    }
}

/** Result of reading a resource whose properties may be unknown during preview. */
export type ReadResult<T> = { ok: true; value: T } | { ok: false; unknown: string };

/** Reads with `read`; a value unknown during preview comes back as its path instead of throwing. */
export function tryRead<T>(read: () => T): ReadResult<T> {
    try {
        return { ok: true, value: read() };
    } catch (e) {
        if (!isUnknownValueError(e)) {
            throw e;
        }
        return { ok: false, unknown: unknownPath(e) };
    }
}

/** Is `key` set on `obj`, without reading (and so without tripping on) an unknown value? */
export function has(obj: unknown, key: string): boolean {
    return typeof obj === "object" && obj !== null && Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Is `key` set to something (not null or "") — or to a value unknown during preview, which only
 * exists because the program set it? Reads the value only to tell "" from a real one; resource
 * outputs carry every attribute of a provider's schema, with "" for the unset ones.
 */
export function setOrUnknown(obj: unknown, key: string): boolean {
    if (!has(obj, key)) {
        return false;
    }
    try {
        const value = (obj as Record<string, unknown>)[key];
        return value !== null && value !== undefined && value !== "";
    } catch (e) {
        if (isUnknownValueError(e)) {
            return true;
        }
        throw e;
    }
}

export interface PolicyMeta {
    /** Stable kebab-case id; per-environment config files refer to it. */
    name: string;
    /** What the policy requires and how to fix a violation. */
    description: string;
    enforcementLevel: EnforcementLevel;
    severity: Severity;
    configSchema?: PolicyConfigSchema;
    remediationSteps?: string;
}

export interface ResourcePolicyDef extends PolicyMeta {
    /** Resource type tokens the policy applies to; everything else is "not applicable". */
    types: readonly string[];
    validate(props: Props, args: ResourceValidationArgs, report: (message: string) => void): void;
}

export function resourcePolicy(def: ResourcePolicyDef): ResourceValidationPolicy {
    const { types, validate, ...meta } = def;
    return {
        ...meta,
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            if (!types.includes(args.type)) {
                args.notApplicable(`Policy only applies to resources of type ${types.map((t) => `'${t}'`).join(", ")}`);
            }
            // The violation carries the resource's URN, so the message needs no subject.
            guardUnknowns(() => validate(args.props, args, (message) => reportViolation(message)),
                (message) => reportViolation(message));
        },
    };
}

/** Reports against one resource of the stack (its URN), or the whole stack (no URN). */
export type StackReport = (message: string, urn?: string) => void;

export interface StackPolicyDef extends PolicyMeta {
    validate(resources: PolicyResource[], args: StackValidationArgs, report: StackReport): void;
}

export function stackPolicy(def: StackPolicyDef): StackValidationPolicy {
    const { validate, ...meta } = def;
    return {
        ...meta,
        validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
            // Per-resource reads are guarded where they happen (see tryRead); this catches the rest.
            guardUnknowns(() => validate(args.resources, args, (message, urn) => reportViolation(message, urn)),
                (message) => reportViolation(message));
        },
    };
}

/** JSON-schema fragments the policies' config schemas share. */
export const schema = {
    integer(description: string, defaultValue: number, minimum = 0): PolicyConfigSchema["properties"][string] {
        return { type: "integer", minimum, default: defaultValue, description };
    },
    stringList(description: string, defaultValue: string[]): PolicyConfigSchema["properties"][string] {
        return { type: "array", items: { type: "string" }, default: defaultValue, description };
    },
};
