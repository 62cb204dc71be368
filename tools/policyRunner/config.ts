// Policy pack configuration exactly as the Pulumi CLI prepares it for `--policy-pack-config`:
//   1. parse the file: each key is a policy name (or "all"), each value an enforcement level or an
//      object with an optional enforcementLevel and the policy's properties;
//   2. reconcile: start from every policy's level (its own, else the pack's) and its configSchema
//      defaults, apply "all" (level only), then each policy's entry;
//   3. validate every policy's properties against its configSchema (JSON schema, with Ajv);
//   4. hand the result to the pack (Configure), where args.getConfig() returns the properties.
// (pulumi/pkg/resource/analyzer/config.go: parsePolicyPackConfig, ReconcilePolicyPackConfig.)
import * as fs from "fs";
import type { EnforcementLevel, Policy, PolicyConfigSchema } from "@pulumi/policy";
import Ajv, { ErrorObject, ValidateFunction } from "ajv";

export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export interface PolicyConfigEntry {
    enforcementLevel?: EnforcementLevel;
    properties?: Record<string, unknown>;
}

/** Reconciled config: every policy's level and properties, as Configure delivers them. */
export type ReconciledConfig = Map<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>;

export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

function isLevel(value: unknown): value is EnforcementLevel {
    return typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value);
}

/** Parses the text of a `--policy-pack-config` file. */
export function parsePolicyConfig(text: string, source = "policy config"): Record<string, PolicyConfigEntry> {
    if (text.trim() === "") {
        return {};
    }
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new PolicyConfigError(`${source}: not valid JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        throw new PolicyConfigError(`${source}: expected a JSON object of policy name → level or settings`);
    }
    const result: Record<string, PolicyConfigEntry> = {};
    for (const [key, value] of Object.entries(doc)) {
        if (typeof value === "string") {
            if (!isLevel(value)) {
                throw new PolicyConfigError(`${source}: parsing enforcement level for "${key}": "${value}" is not a valid enforcement level `
                    + `(allowed: ${ENFORCEMENT_LEVELS.join(", ")})`);
            }
            result[key] = { enforcementLevel: value };
        } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) {
                throw new PolicyConfigError(`${source}: parsing enforcement level for "${key}": ${JSON.stringify(enforcementLevel)} is not a valid `
                    + `enforcement level (allowed: ${ENFORCEMENT_LEVELS.join(", ")})`);
            }
            const entry: PolicyConfigEntry = {};
            if (enforcementLevel !== undefined) {
                entry.enforcementLevel = enforcementLevel;
            }
            if (Object.keys(properties).length > 0) {
                entry.properties = properties;
            }
            if (entry.enforcementLevel !== undefined || entry.properties !== undefined) {
                result[key] = entry;
            }
        } else {
            throw new PolicyConfigError(`${source}: parsing "${key}": ${JSON.stringify(value)} is not a valid value; must be a string or object`);
        }
    }
    return result;
}

export function loadPolicyConfigFile(file: string): Record<string, PolicyConfigEntry> {
    if (!fs.existsSync(file)) {
        throw new PolicyConfigError(`policy config file ${file} does not exist`);
    }
    return parsePolicyConfig(fs.readFileSync(file, "utf8"), file);
}

/** Keys of a config that name no policy of the pack ("all" is allowed). The CLI ignores them silently. */
export function unknownPolicyKeys(policies: Policy[], given: Record<string, PolicyConfigEntry>): string[] {
    const names = new Set(policies.map((p) => p.name));
    return Object.keys(given).filter((k) => k !== "all" && !names.has(k));
}

/** Defaults, then "all", then per-policy entries; then schema validation. Throws listing every error. */
export function reconcilePolicyConfig(policies: Policy[], packLevel: EnforcementLevel,
    given: Record<string, PolicyConfigEntry> = {}): ReconciledConfig {
    const result: ReconciledConfig = new Map();
    for (const p of policies) {
        const properties: Record<string, unknown> = {};
        for (const [key, prop] of Object.entries(p.configSchema?.properties ?? {})) {
            if (typeof prop === "object" && prop !== null && "default" in prop) {
                properties[key] = structuredClone(prop.default);
            }
        }
        result.set(p.name, { enforcementLevel: p.enforcementLevel ?? packLevel, properties });
    }
    const all = given.all?.enforcementLevel;
    if (all) {
        for (const entry of result.values()) {
            entry.enforcementLevel = all;
        }
    }
    for (const [name, entry] of Object.entries(given)) {
        const current = result.get(name) ?? { enforcementLevel: entry.enforcementLevel ?? packLevel, properties: {} };
        result.set(name, {
            enforcementLevel: entry.enforcementLevel ?? current.enforcementLevel,
            properties: { ...current.properties, ...(entry.properties ?? {}) },
        });
    }
    const errors: string[] = [];
    for (const p of policies) {
        if (p.configSchema) {
            for (const problem of validateAgainst(policySchema(p.configSchema), result.get(p.name)!.properties, "")) {
                errors.push(`${p.name}: ${problem}`);
            }
        }
    }
    if (errors.length > 0) {
        throw new PolicyConfigError(`validating policy config:\n  ${errors.join("\n  ")}`);
    }
    return result;
}

/** The engine validates properties against { type: object, properties, required }. */
function policySchema(schema: PolicyConfigSchema): JsonSchema {
    return { type: "object", properties: schema.properties, ...(schema.required ? { required: schema.required } : {}) };
}

type JsonSchema = Record<string, any> | boolean;

// Ajv in strict mode: a keyword, format or type combination it does not know is an error rather
// than silently ignored, so a schema cannot claim a constraint that is not enforced.
const ajv = new Ajv({ allErrors: true, strict: true });

/** "a.b.0", or "(root)", from a JSON pointer ("/a/b/0"). */
function dotted(pointer: string): string {
    return pointer === "" ? "" : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~")).join(".");
}

/** Problems of `value` against `schema` (JSON Schema draft-07, validated by Ajv), each prefixed with its path under `at`. */
export function validateAgainst(schema: JsonSchema, value: unknown, at: string): string[] {
    let validate: ValidateFunction;
    try {
        validate = ajv.compile(schema);
    } catch (e) {
        throw new PolicyConfigError(`config schema${at ? ` at ${at}` : ""} is not valid: ${(e as Error).message}`);
    }
    if (validate(value)) {
        return [];
    }
    return (validate.errors ?? []).map((error: ErrorObject) => {
        const where = [at, dotted(error.instancePath)].filter((p) => p !== "").join(".") || "(root)";
        const allowed = Array.isArray(error.params.allowedValues) ? `: ${error.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(", ")}` : "";
        const given = error.keyword === "required" || error.keyword === "additionalProperties" ? "" : `, given ${JSON.stringify(valueAt(value, error.instancePath))}`;
        return `${where}: ${error.message}${allowed}${given}`;
    });
}

function valueAt(value: unknown, pointer: string): unknown {
    return dotted(pointer).split(".").filter((p) => p !== "").reduce<any>((v, key) => (v === null || v === undefined ? undefined : v[key]), value);
}
