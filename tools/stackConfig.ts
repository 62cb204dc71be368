// Turns a real stack file (Pulumi.<stack>.yaml) into the flat config map the Pulumi runtime
// expects, so tests and the offline policy runner read exactly what `pulumi up` would read.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export interface StackConfig {
    /** "<namespace>:<key>" → value as the engine passes it (objects and arrays JSON-encoded). */
    config: Record<string, string>;
    /** Keys whose values are `secure:` in the stack file. */
    secretKeys: string[];
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

export function loadStackConfig(projectDir: string, stack: string): StackConfig {
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
    return { config, secretKeys };
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        && Object.keys(value).length === 1 && "secure" in value;
}
