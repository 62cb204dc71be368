// Where a judged program's packages come from. The program resolves its packages itself first
// (its own @pulumi/command, @pulumi/awsx, its own @pulumi/kubernetes or @pulumi/aws version), and
// only what it lacks from this repository's node_modules; @pulumi/pulumi is always this
// repository's copy, the one the mocks are installed on (two copies would be two runtimes).
// Notes say which versions judged a program outside this repository.
import * as fs from "fs";
import * as path from "path";
import Module from "module";

interface ModuleInternals {
    _resolveFilename(request: string, parent: any, isMain: boolean, options?: unknown): string;
    _nodeModulePaths(dir: string): string[];
}

const isSdk = (request: string) => request === "@pulumi/pulumi" || request.startsWith("@pulumi/pulumi/");
const isBare = (request: string) => !request.startsWith(".") && !path.isAbsolute(request) && !request.startsWith("node:");
const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith("..");

/** `@pulumi/x` (or `x`) of a bare request. */
function packageName(request: string): string {
    const parts = request.split("/");
    return request.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function versionAt(resolvedFile: string, name: string): string {
    const at = resolvedFile.lastIndexOf(`${path.sep}node_modules${path.sep}${name.split("/").join(path.sep)}${path.sep}`);
    if (at < 0) {
        return "unknown";
    }
    const dir = resolvedFile.slice(0, at + `${path.sep}node_modules${path.sep}`.length + name.length);
    try {
        return String(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version);
    } catch {
        return "unknown";
    }
}

export interface ProgramResolution {
    /** What the operator should know about the versions that judged the program (none for a program inside this repository). */
    notes(): string[];
    /** Puts Node's resolution back. */
    restore(): void;
}

/** Installs the resolution for a program in `programDir`, with this repository at `repoRoot`. */
export function resolveForProgram(programDir: string, repoRoot: string): ProgramResolution {
    const M = Module as unknown as ModuleInternals;
    const original = M._resolveFilename;
    const repoParent = { id: path.join(repoRoot, "index.js"), filename: path.join(repoRoot, "index.js"), paths: M._nodeModulePaths(repoRoot) };
    const programParent = { id: path.join(programDir, "index.js"), filename: path.join(programDir, "index.js"), paths: M._nodeModulePaths(programDir) };
    const repoModules = path.join(repoRoot, "node_modules");
    const outsideRepo = !inside(repoRoot, programDir);
    const fromRunner = new Map<string, string>();

    M._resolveFilename = function (request, parent, isMain, options) {
        const parentFile: unknown = parent?.filename;
        // Packages this repository installed keep their own resolution; the program and its packages get the runner's SDK.
        if (isSdk(request) && !(typeof parentFile === "string" && inside(repoModules, parentFile))) {
            return original.call(this, request, repoParent, isMain, options);
        }
        const programCode = typeof parentFile === "string" && inside(programDir, parentFile) && !parentFile.includes(`${path.sep}node_modules${path.sep}`);
        let resolved: string;
        try {
            resolved = original.call(this, request, parent, isMain, options);
        } catch (e) {
            const fromOutside = typeof parentFile === "string" && !inside(repoRoot, parentFile);
            if (!(fromOutside && isBare(request) && (e as { code?: string }).code === "MODULE_NOT_FOUND")) {
                throw e;
            }
            resolved = original.call(this, request, repoParent, isMain, options);
        }
        if (programCode && outsideRepo && request.startsWith("@pulumi/") && inside(repoModules, resolved)) {
            fromRunner.set(packageName(request), versionAt(resolved, packageName(request)));
        }
        return resolved;
    };

    return {
        notes() {
            const notes = [...fromRunner].sort().map(([name, version]) => `${name} is not installed in the program's directory: judged with this runner's ${name} ${version}`);
            if (outsideRepo) {
                try {
                    const own = original.call(Module, "@pulumi/pulumi/package.json", programParent, false);
                    const runner = original.call(Module, "@pulumi/pulumi/package.json", repoParent, false);
                    const [ownVersion, runnerVersion] = [own, runner].map((f) => String(JSON.parse(fs.readFileSync(f, "utf8")).version));
                    if (own !== runner && ownVersion !== runnerVersion) {
                        notes.push(`the program's @pulumi/pulumi ${ownVersion} is replaced by this runner's ${runnerVersion} (the mocks run on it)`);
                    }
                } catch {
                    // The program has no @pulumi/pulumi of its own.
                }
            }
            return notes;
        },
        restore() {
            M._resolveFilename = original;
        },
    };
}
