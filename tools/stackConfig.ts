// Turns a real stack file (Pulumi.<stack>.yaml) into the flat config map the Pulumi runtime
// expects, so tests and the offline policy runner read exactly what `pulumi up` would read.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export interface StackConfig {
    /** "<namespace>:<key>" → value as the engine passes it (objects and arrays JSON-encoded). */
    config: Record<string, string>;
    /** Keys whose values are `secure:` in the stack file. */
    secretKeys: string[];
    /** The `images.mirror.digests` filled with sample pins (see samplePin); empty when the stack recorded its own. */
    samplePins: string[];
}

export interface LoadOptions {
    /**
     * "sample" (the default, for offline runs: tests, renders, policy:check): a stack whose image
     * mirror has no digests recorded yet (`npm run images:mirror` has not run: it needs the upstream
     * registry, which CI cannot reach) is run with sample pins in their place, so the rest of the
     * stack is still judged as it will run after the mirror; the real engine refuses such a stack.
     * "recorded": exactly what the file says.
     */
    mirrorPins?: "sample" | "recorded";
}

/** The config key of the image settings, and the components the mirror holds (config/schema.ts MIRRORED_COMPONENTS). */
const IMAGES_KEY = "kubepolaris:images";
const MIRRORED = ["backend", "frontend"];

/** A stand-in digest for a pin not recorded yet: the sha256 of a text naming it, so it is recognisable and never a real image's. */
export function samplePin(stack: string, component: string): string {
    return `sha256:${createHash("sha256").update(`kubepolaris sample pin, not mirrored yet: ${stack} ${component}`).digest("hex")}`;
}

/**
 * Secure values are ciphertext only the CLI can decrypt. Under mocks they become a fixed,
 * obviously fake value that is still a *secret* for the program, so tests can assert that
 * it stays secret wherever it flows.
 */
export const MOCK_SECRET_PREFIX = "mock-secret-for-";

export function readProjectName(projectDir: string): string {
    const doc = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: unknown };
    if (typeof doc?.name !== "string") {
        throw new Error(`${path.join(projectDir, "Pulumi.yaml")} has no project name`);
    }
    return doc.name;
}

export function stackFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

export function loadStackConfig(projectDir: string, stack: string, options: LoadOptions = {}): StackConfig {
    const file = stackFilePath(projectDir, stack);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${file} (stack "${stack}")`);
    }
    const project = readProjectName(projectDir);
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
        // The engine qualifies bare keys with the project name.
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        if (isSecure(value)) {
            config[key] = `${MOCK_SECRET_PREFIX}${key}`;
            secretKeys.push(key);
        } else if (typeof value === "string") {
            config[key] = value;
        } else {
            config[key] = JSON.stringify(value);
        }
    }
    const samplePins = options.mirrorPins === "recorded" ? [] : fillSamplePins(config, stack);
    return { config, secretKeys, samplePins };
}

function fillSamplePins(config: Record<string, string>, stack: string): string[] {
    const images = config[IMAGES_KEY] === undefined ? undefined : JSON.parse(config[IMAGES_KEY]);
    const mirror = images?.mirror;
    if (typeof mirror !== "object" || mirror === null || Array.isArray(mirror)) {
        return [];
    }
    const digests = mirror.digests ?? {};
    const filled = MIRRORED.filter((component) => digests[component] === undefined);
    if (filled.length > 0) {
        mirror.digests = { ...digests, ...Object.fromEntries(filled.map((component) => [component, samplePin(stack, component)])) };
        config[IMAGES_KEY] = JSON.stringify(images);
    }
    return filled.map((component) => `images.mirror.digests.${component}`);
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        && Object.keys(value).length === 1 && "secure" in value;
}
