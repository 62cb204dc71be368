// The small validators every parser uses. Each records "key: got <value>; allowed: <what>" on a
// bad value and returns undefined, so one run reports every problem at once; `orDefault` gives
// an unset key its default, written once.
import { isMutableTag, MUTABLE_TAGS, parseImageReference } from "../policy/facts";
import { CONFIG_NAMESPACE } from "./schema";

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

/** The problems found so far; `throwIfAny` ends the parse with all of them. */
export class Problems {
    private readonly list: string[] = [];
    add(key: string, value: unknown, allowed: string): void {
        this.list.push(`${CONFIG_NAMESPACE}:${key}: got ${show(value)}; allowed: ${allowed}`);
    }
    /** Whether `key` itself was found bad (its value is then a stand-in, not worth comparing). */
    has(key: string): boolean {
        return this.list.some((problem) => problem.startsWith(`${CONFIG_NAMESPACE}:${key}: `));
    }
    throwIfAny(): void {
        if (this.list.length > 0) {
            throw new ConfigError(this.list);
        }
    }
}

function show(value: unknown): string {
    if (value === undefined) {
        return "nothing (the key is not set)";
    }
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/** A validator: the value when it is allowed, else undefined (and a problem recorded). */
export type Check<T> = (p: Problems, key: string, value: unknown) => T | undefined;

/**
 * `raw` checked by `check`, or `fallback` when the key is unset. A bad value is recorded and
 * also yields `fallback`: the parse fails anyway, and the rest can still be checked.
 */
export function orDefault<T>(p: Problems, key: string, raw: unknown, fallback: T, check: Check<T>): T {
    return check(p, key, raw ?? fallback) ?? fallback;
}

/** A structured value: a JSON object from the stack file, with only `allowed` keys. */
export function object(p: Problems, key: string, raw: unknown, allowed: string[], required: boolean): Record<string, any> {
    const expected = `an object with keys ${allowed.join(", ")}`;
    if (raw === undefined) {
        if (required) {
            p.add(key, raw, expected);
        }
        return {};
    }
    let value = raw;
    if (typeof raw === "string") {
        try {
            value = JSON.parse(raw);
        } catch {
            p.add(key, raw, expected);
            return {};
        }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        p.add(key, value, expected);
        return {};
    }
    for (const child of Object.keys(value)) {
        if (!allowed.includes(child)) {
            p.add(`${key}.${child}`, (value as Record<string, unknown>)[child], `only the keys ${allowed.join(", ")} under ${key}`);
        }
    }
    return value as Record<string, any>;
}

export function oneOf<V extends string>(allowed: readonly V[]): Check<V> {
    return (p, key, value) => {
        if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
            return value as V;
        }
        p.add(key, value, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
        return undefined;
    };
}

/** An integer from `min` to `max`; `why` names the rule behind the bounds ("environment prod"). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER, why?: string): Check<number> {
    return (p, key, raw) => {
        const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
            p.add(key, raw, why ? `${range} on ${why}` : range);
            return undefined;
        }
        return value;
    };
}

export const port: Check<number> = integer(1, 65535);

export const bool: Check<boolean> = (p, key, raw) => {
    if (raw === true || raw === "true") {
        return true;
    }
    if (raw === false || raw === "false") {
        return false;
    }
    p.add(key, raw, "true or false");
    return undefined;
};

/** A string matching `pattern`; `allowed` says what that is, with an example. */
export function matching(pattern: RegExp, allowed: string): Check<string> {
    return (p, key, value) => {
        if (typeof value === "string" && pattern.test(value)) {
            return value;
        }
        p.add(key, value, allowed);
        return undefined;
    };
}

/** A list whose entries each pass `check`; a bad entry is reported by its index and left out. */
export function listOf<T>(check: Check<T>, whatList: string, options: { nonEmpty?: boolean } = {}): Check<T[]> {
    return (p, key, raw) => {
        if (!Array.isArray(raw) || (options.nonEmpty && raw.length === 0)) {
            p.add(key, raw, whatList);
            return [];
        }
        return raw.flatMap((value, i) => {
            const checked = check(p, `${key}[${i}]`, value);
            return checked === undefined ? [] : [checked];
        });
    };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const dnsLabel: Check<string> = matching(DNS_LABEL, "a DNS label (lowercase letters, digits and '-', at most 63 characters)");

/** A DNS name of at least `minLabels` labels (a host name needs a domain: 2). */
export function dnsName(minLabels = 2): Check<string> {
    return (p, key, value) => {
        const ok = typeof value === "string" && value.length <= 253
            && value.split(".").length >= minLabels && value.split(".").every((label) => DNS_LABEL.test(label));
        if (ok) {
            return value as string;
        }
        p.add(key, value, minLabels > 1
            ? "a fully qualified DNS name such as kubepolaris.example.com (lowercase, no wildcard, no scheme or port)"
            : "a DNS-1123 name (lowercase letters, digits, '-' and '.')");
        return undefined;
    };
}

export const identifier: Check<string> = matching(/^[A-Za-z][A-Za-z0-9_]{0,31}$/,
    "a MySQL identifier (a letter, then letters, digits or '_', at most 32 characters)");

/** An image reference pinned to an immutable version: a sha256 digest, or a tag that is not a moving one. */
export const image: Check<string> = (p, key, value) => {
    const allowed = `an image pinned by digest (repo@sha256:…) or by a version tag (repo:v1.2.3), not untagged or tagged ${MUTABLE_TAGS.join("/")}`;
    if (typeof value !== "string" || value.trim() === "" || /\s/.test(value)) {
        p.add(key, value, allowed);
        return undefined;
    }
    const { tag, digest } = parseImageReference(value);
    const pinned = digest !== undefined
        ? /^sha256:[a-f0-9]{64}$/.test(digest)
        : tag !== "" && !isMutableTag(tag) && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag);
    if (!pinned) {
        p.add(key, value, allowed);
        return undefined;
    }
    return value;
};

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR block; `example` goes into the message. */
export function cidr(example: string): Check<string> {
    return (p, key, value) => {
        const m = typeof value === "string" ? CIDR.exec(value) : null;
        if (m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32) {
            return value as string;
        }
        p.add(key, value, `an IPv4 CIDR block such as ${example}`);
        return undefined;
    };
}

/** A non-empty list of IPv4 CIDR blocks. */
export const cidrs: Check<string[]> = listOf(cidr("10.0.0.0/8"), "a non-empty list of IPv4 CIDR blocks such as 10.0.0.0/8", { nonEmpty: true });

export const labels: Check<Record<string, string>> = (p, key, raw) => {
    const ok = typeof raw === "object" && raw !== null && !Array.isArray(raw) && Object.keys(raw).length > 0
        && Object.values(raw).every((v) => typeof v === "string");
    if (!ok) {
        p.add(key, raw, "a non-empty map of label names to string values");
        return {};
    }
    return raw as Record<string, string>;
};

export const url: Check<string> = matching(/^https?:\/\/[^\s]+$/, "an http(s) URL");

export const httpPath: Check<string> = matching(/^\/[\x21-\x7e]*$/, "an absolute HTTP path such as /healthz (printable ASCII, no spaces)");

/** An optional non-empty string: undefined when unset. */
export function optionalString(p: Problems, key: string, value: unknown): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    return matching(/^[\s\S]+$/, "a non-empty string")(p, key, value);
}

export function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !(value instanceof Set)) {
        for (const child of Object.values(value)) {
            deepFreeze(child);
        }
        Object.freeze(value);
    }
    return value;
}
