// Policy pack configuration exactly as the Pulumi CLI prepares it for `--policy-pack-config`:
//   1. parse the file: each key is a policy name (or "all"), each value an enforcement level or an
//      object with an optional enforcementLevel and the policy's properties;
//   2. reconcile: start from every policy's level (its own, else the pack's) and its configSchema
//      defaults, apply "all" (level only), then each policy's entry;
//   3. validate every policy's properties against its configSchema (JSON schema);
//   4. hand the result to the pack (Configure), where args.getConfig() returns the properties.
// (pulumi/pkg/resource/analyzer/config.go: parsePolicyPackConfig, ReconcilePolicyPackConfig.)
import * as fs from "fs";
import type { EnforcementLevel, Policy, PolicyConfigSchema } from "@pulumi/policy";

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

// --------------------------------------------------------------------------------------------
// A JSON-schema validator for the keywords config schemas use. A keyword it does not know is an
// error rather than silently ignored, so a schema cannot claim a constraint that is not enforced.

type JsonSchema = Record<string, any> | boolean;

const ANNOTATIONS = new Set(["description", "default", "title", "examples", "$comment"]);
const KEYWORDS = new Set(["type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "items", "minItems", "maxItems", "uniqueItems", "properties", "required",
    "additionalProperties", "minProperties", "maxProperties"]);

function typeOf(value: unknown): string {
    if (value === null) {
        return "null";
    }
    if (Array.isArray(value)) {
        return "array";
    }
    return typeof value;
}

function hasType(value: unknown, type: string): boolean {
    switch (type) {
        case "integer": return typeof value === "number" && Number.isInteger(value);
        case "number": return typeof value === "number";
        default: return typeOf(value) === type;
    }
}

/** Problems of `value` against `schema`, each prefixed with its path. */
export function validateAgainst(schema: JsonSchema, value: unknown, at: string): string[] {
    if (schema === true) {
        return [];
    }
    if (schema === false) {
        return [`${at || "(root)"}: no value is allowed here`];
    }
    const where = at || "(root)";
    const problems: string[] = [];
    for (const key of Object.keys(schema)) {
        if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) {
            throw new PolicyConfigError(`config schema keyword "${key}" at ${where} is not supported by the offline runner`);
        }
    }
    if (schema.type !== undefined) {
        const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
        if (!types.some((t) => hasType(value, t))) {
            return [`${where}: Invalid type. Expected: ${types.join(" or ")}, given: ${typeOf(value)}`];
        }
    }
    if (schema.enum !== undefined && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
        problems.push(`${where}: must be one of ${schema.enum.map((e: unknown) => JSON.stringify(e)).join(", ")}`);
    }
    if (schema.const !== undefined && JSON.stringify(schema.const) !== JSON.stringify(value)) {
        problems.push(`${where}: must be ${JSON.stringify(schema.const)}`);
    }
    if (typeof value === "number") {
        if (schema.minimum !== undefined && value < schema.minimum) {
            problems.push(`${where}: Must be greater than or equal to ${schema.minimum}`);
        }
        if (schema.maximum !== undefined && value > schema.maximum) {
            problems.push(`${where}: Must be less than or equal to ${schema.maximum}`);
        }
        if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
            problems.push(`${where}: Must be greater than ${schema.exclusiveMinimum}`);
        }
        if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
            problems.push(`${where}: Must be less than ${schema.exclusiveMaximum}`);
        }
        if (schema.multipleOf !== undefined && !Number.isInteger(value / schema.multipleOf)) {
            problems.push(`${where}: Must be a multiple of ${schema.multipleOf}`);
        }
    }
    if (typeof value === "string") {
        if (schema.minLength !== undefined && value.length < schema.minLength) {
            problems.push(`${where}: String length must be greater than or equal to ${schema.minLength}`);
        }
        if (schema.maxLength !== undefined && value.length > schema.maxLength) {
            problems.push(`${where}: String length must be less than or equal to ${schema.maxLength}`);
        }
        if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
            problems.push(`${where}: Does not match pattern '${schema.pattern}'`);
        }
    }
    if (Array.isArray(value)) {
        if (schema.minItems !== undefined && value.length < schema.minItems) {
            problems.push(`${where}: Array must have at least ${schema.minItems} items`);
        }
        if (schema.maxItems !== undefined && value.length > schema.maxItems) {
            problems.push(`${where}: Array must have at most ${schema.maxItems} items`);
        }
        if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
            problems.push(`${where}: array items must be unique`);
        }
        if (schema.items !== undefined) {
            if (Array.isArray(schema.items)) {
                throw new PolicyConfigError(`tuple "items" at ${where} is not supported by the offline runner`);
            }
            value.forEach((item, i) => problems.push(...validateAgainst(schema.items, item, `${at}.${i}`.replace(/^\./, ""))));
        }
    }
    if (typeOf(value) === "object") {
        const obj = value as Record<string, unknown>;
        for (const name of schema.required ?? []) {
            if (!(name in obj)) {
                problems.push(`${name}: ${name} is required`);
            }
        }
        const known = schema.properties ?? {};
        for (const [key, child] of Object.entries(obj)) {
            const path = at ? `${at}.${key}` : key;
            if (key in known) {
                problems.push(...validateAgainst(known[key], child, path));
            } else if (schema.additionalProperties !== undefined) {
                problems.push(...validateAgainst(schema.additionalProperties, child, path));
            }
        }
        const count = Object.keys(obj).length;
        if (schema.minProperties !== undefined && count < schema.minProperties) {
            problems.push(`${where}: must have at least ${schema.minProperties} properties`);
        }
        if (schema.maxProperties !== undefined && count > schema.maxProperties) {
            problems.push(`${where}: must have at most ${schema.maxProperties} properties`);
        }
    }
    return problems;
}
