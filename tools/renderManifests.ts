// Renders every Kubernetes object a stack registers as YAML, one file per object, from the mock
// run (tools/mockRun.ts) — what the engine's renderYamlToDirectory writes for the same stack
// (test/engine proves the two equal for the local stack). The values of Secrets are redacted, so
// the files are safe to hand to external checkers and to keep as CI artefacts.
//
//   ts-node tools/renderManifests.ts --out DIR [--stack NAME ...]   (default: every Pulumi.<stack>.yaml)
//
// Writes DIR/<stack>/<kind>-<namespace>-<name>.yaml and prints one line per stack.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { computedAtUp } from "./computedState";
import { RecordedResource, UNKNOWN, runUnderMocks } from "./mockRun";

export const REDACTED = "REDACTED";

/** "kubernetes:apps/v1:Deployment" → { apiVersion: "apps/v1", kind: "Deployment" }; core/v1 → v1. */
export function kubernetesKind(type: string): { apiVersion: string; kind: string } | undefined {
    const match = /^kubernetes:([^:]+):([A-Za-z]+)$/.exec(type);
    if (!match || match[1] === "yaml" || match[1] === "helm.sh/v3" || !match[1].includes("/")) {
        return undefined;
    }
    return { apiVersion: match[1].replace(/^core\//, ""), kind: match[2] };
}

/** The object the provider would send to the API server, Secret values replaced. */
export function manifestOf(resource: RecordedResource): Record<string, unknown> | undefined {
    const gvk = kubernetesKind(resource.type);
    if (!resource.custom || !gvk) {
        return undefined;
    }
    const { apiVersion: _a, kind: _k, ...rest } = resource.inputs;
    const object: Record<string, any> = { apiVersion: gvk.apiVersion, kind: gvk.kind, ...rest };
    if (gvk.kind === "Secret") {
        for (const field of ["data", "stringData"]) {
            if (object[field] && typeof object[field] === "object") {
                object[field] = Object.fromEntries(Object.keys(object[field]).map((key) => [key, REDACTED]));
            }
        }
    }
    return object;
}

/** <kind>-<namespace>-<name>.yaml: stable across runs (registration order is not). */
function fileName(object: Record<string, any>): string {
    const meta = object.metadata ?? {};
    const parts = [object.kind, meta.namespace, meta.name].filter((p) => p);
    return `${parts.join("-").toLowerCase().replace(/[^a-z0-9.-]+/g, "_")}.yaml`;
}

export async function renderStack(projectDir: string, stack: string, outDir: string): Promise<string[]> {
    const run = await runUnderMocks({ program: path.join(projectDir, "index.ts"), projectDir, stack, preview: false, computedState: computedAtUp });
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(outDir, { recursive: true });
    const written: string[] = [];
    for (const resource of run.resources) {
        const object = manifestOf(resource);
        if (!object) {
            continue;
        }
        const text = yaml.dump(object, { noRefs: true, lineWidth: -1, sortKeys: false });
        if (text.includes(UNKNOWN)) {
            throw new Error(`${stack}: ${resource.type} "${resource.name}" has values unknown after the mock run`);
        }
        const file = path.join(outDir, fileName(object));
        if (written.includes(file)) {
            throw new Error(`${stack}: two objects render to ${path.basename(file)}`);
        }
        fs.writeFileSync(file, text);
        written.push(file);
    }
    return written;
}

async function main(argv: string[]): Promise<number> {
    const projectDir = path.resolve(__dirname, "..");
    let out: string | undefined;
    const stacks: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--out") {
            out = argv[++i];
        } else if (argv[i] === "--stack") {
            stacks.push(argv[++i]);
        } else {
            console.error(`renderManifests: unknown argument ${argv[i]}`);
            return 2;
        }
    }
    if (!out) {
        console.error("renderManifests: --out DIR is required");
        return 2;
    }
    if (stacks.length === 0) {
        stacks.push(...fs.readdirSync(projectDir)
            .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined)
            .sort());
    }
    for (const stack of stacks) {
        const files = await renderStack(projectDir, stack, path.join(path.resolve(out), stack));
        console.log(`${stack}: ${files.length} manifests in ${path.join(out, stack)}`);
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
        console.error(`renderManifests: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    });
}
