// Node.js module hooks (module.register) for running a TypeScript ES-module program ("type":
// "module", as Pulumi supports) under the offline runner, the way the Node.js language host runs
// it with ts-node's ESM loader:
//   - resolve: @pulumi/pulumi always resolves to this repository's copy (the one the mocks are
//     installed on); other bare specifiers resolve from the program first, then from this
//     repository; a relative `./x.js` written for a `./x.ts` source (TypeScript's ESM
//     convention) or an extensionless `./x` finds the TypeScript file.
//   - load: TypeScript files outside node_modules are transpiled (types erased) to ES modules.
// Loaded by tools/mockRun.ts; runs on Node's loader thread.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

let repoURL;

export function initialize(data) {
    repoURL = pathToFileURL(path.join(data.repoRoot, "index.js")).href;
}

const isBare = (specifier) => !/^(\.|\/|file:|node:|data:)/.test(specifier);
const isSdk = (specifier) => specifier === "@pulumi/pulumi" || specifier.startsWith("@pulumi/pulumi/");
const notFound = (e) => e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "ERR_UNSUPPORTED_DIR_IMPORT";

export async function resolve(specifier, context, next) {
    if (isSdk(specifier)) {
        return next(specifier, { ...context, parentURL: repoURL });
    }
    try {
        return await next(specifier, context);
    } catch (e) {
        if (!notFound(e)) {
            throw e;
        }
        if (isBare(specifier)) {
            return next(specifier, { ...context, parentURL: repoURL });
        }
        const candidates = /\.[cm]?js$/.test(specifier)
            ? [specifier.replace(/js$/, "ts")]
            : [`${specifier}.ts`, `${specifier}.mts`, `${specifier}/index.ts`];
        for (const candidate of candidates) {
            try {
                return await next(candidate, context);
            } catch (again) {
                if (!notFound(again)) {
                    throw again;
                }
            }
        }
        throw e;
    }
}

/** "module" or "commonjs", as Node decides it for a .ts file from the nearest package.json. */
function packageType(file) {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) {
            return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module" ? "module" : "commonjs";
        }
        if (path.dirname(dir) === dir) {
            return "commonjs";
        }
    }
}

export async function load(url, context, next) {
    if (!url.startsWith("file:") || !/\.[cm]?ts$/.test(url) || url.includes("/node_modules/")) {
        return next(url, context);
    }
    const file = fileURLToPath(url);
    const format = file.endsWith(".mts") ? "module" : file.endsWith(".cts") ? "commonjs" : packageType(file);
    if (format === "commonjs") {
        // Loaded by the CommonJS loader, where ts-node compiles it.
        return { format, shortCircuit: true };
    }
    const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true, verbatimModuleSyntax: false },
    });
    return { format, source: outputText, shortCircuit: true };
}
