// npm run policy:check -- --stack <name> [--program <entry.ts>] [--json] [--policy-config <file>] [--up]
//
// Runs the program for the stack under Pulumi mocks and evaluates the policy pack (policy/) on
// what it registers, the way `pulumi preview --policy-pack policy --policy-pack-config <file>`
// would, without a cloud, a cluster or the Pulumi CLI. One row per violation:
//   <policy>  <level>  <urn>  <message>
// or with --json: {"violations":[{"policy","level","urn","message"}]}.
// Without --policy-config, policy/config/<stack>.json is used when it exists.
// Exit status: 0 no mandatory violation, 1 at least one mandatory violation, 2 the check could
// not run (bad arguments, invalid policy config, the program failed, or it needs an invoke or a
// component the runner cannot supply offline); the message names the cause, without a stack trace.
import * as path from "path";
import Module from "module";
import { ProgramError } from "../mockRun";
import { policyCheck, PolicyCheckResult, REPO_ROOT } from "./check";

const USAGE = "usage: npm run policy:check -- --stack <name> [--program <path to a Pulumi TypeScript entry file>] "
    + "[--json] [--policy-config <policy pack config .json>] [--up]";

export interface CliArgs {
    stack: string;
    program?: string;
    policyConfig?: string;
    json: boolean;
    preview: boolean;
}

export function parseArgs(argv: string[], cwd: string): CliArgs {
    let stack: string | undefined;
    let program: string | undefined;
    let policyConfig: string | undefined;
    let json = false;
    let preview = true;
    const value = (i: number, flag: string) => {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith("--")) {
            throw new UsageError(`${flag} needs a value`);
        }
        return v;
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const take = () => inline ?? value(i++, flag);
        switch (flag) {
            case "--stack": case "-s": stack = take(); break;
            case "--program": program = path.resolve(cwd, take()); break;
            case "--policy-config": case "--policy-pack-config": policyConfig = path.resolve(cwd, take()); break;
            case "--json": json = true; break;
            case "--up": preview = false; break;
            case "--help": case "-h": throw new UsageError("");
            default: throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (!stack) {
        throw new UsageError("--stack is required");
    }
    return { stack, program, policyConfig, json, preview };
}

export class UsageError extends Error {}

/** Tab-free fixed columns: policy, level, urn, message (multi-line messages indented). */
export function formatRows(result: PolicyCheckResult): string {
    const rows = result.violations.map((v) => [v.policy, v.level, v.urn, v.message.replace(/\n/g, " ")]);
    const width = (i: number) => Math.max(...rows.map((r) => r[i].length), 0);
    const [w0, w1] = [width(0), width(1)];
    return rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}  ${r[3]}`).join("\n");
}

/**
 * A program outside this repository resolves `@pulumi/*` from this repository's node_modules
 * (one copy of @pulumi/pulumi: the one the mocks are installed on), and any other package it
 * cannot find from its own location.
 */
export function resolveFromRepo(): void {
    const M = Module as unknown as {
        _resolveFilename(request: string, parent: any, isMain: boolean, options?: unknown): string;
        _nodeModulePaths(dir: string): string[];
    };
    const original = M._resolveFilename;
    const repoParent = { id: path.join(REPO_ROOT, "index.js"), filename: path.join(REPO_ROOT, "index.js"), paths: M._nodeModulePaths(REPO_ROOT) };
    const bare = (request: string) => !request.startsWith(".") && !path.isAbsolute(request);
    M._resolveFilename = function (request, parent, isMain, options) {
        const outside = typeof parent?.filename === "string" && path.relative(REPO_ROOT, parent.filename).startsWith("..");
        if (outside && request.startsWith("@pulumi/")) {
            return original.call(this, request, repoParent, isMain, options);
        }
        try {
            return original.call(this, request, parent, isMain, options);
        } catch (e) {
            if (outside && bare(request) && (e as { code?: string }).code === "MODULE_NOT_FOUND") {
                return original.call(this, request, repoParent, isMain, options);
            }
            throw e;
        }
    };
}

/**
 * One line for why the check could not run: the error's message and, for a program that threw,
 * where in the program (its first stack frame in a file outside node_modules and this runner).
 */
export function failureMessage(e: unknown, program: string): string {
    const error = e instanceof ProgramError ? e.cause : e;
    const message = error instanceof Error ? error.message : String(error);
    if (!(e instanceof ProgramError)) {
        return message;
    }
    const stack = error instanceof Error ? error.stack ?? "" : "";
    const frame = stack.split("\n").map((l) => /\(?([^()\s]+\.[jt]s):(\d+):\d+\)?$/.exec(l.trim()))
        .find((m) => m && !m[1].includes("node_modules") && !m[1].startsWith(path.join(REPO_ROOT, "tools")));
    const at = frame ? ` (at ${path.relative(process.cwd(), frame[1]) || frame[1]}:${frame[2]})` : "";
    return `the program ${path.relative(process.cwd(), program) || program} failed: ${message}${at}`;
}

export async function main(argv: string[]): Promise<number> {
    let args: CliArgs;
    try {
        // npm runs scripts from the package root; paths are relative to where the user ran npm.
        args = parseArgs(argv, process.env.INIT_CWD ?? process.cwd());
    } catch (e) {
        if (e instanceof UsageError) {
            if (e.message) {
                console.error(`policy:check: ${e.message}`);
            }
            console.error(USAGE);
            return e.message ? 2 : 0;
        }
        throw e;
    }
    resolveFromRepo();
    let result: PolicyCheckResult;
    const started = Date.now();
    try {
        result = await policyCheck({ stack: args.stack, program: args.program, policyConfig: args.policyConfig, preview: args.preview });
    } catch (e) {
        console.error(`policy:check: ${failureMessage(e, args.program ?? path.join(REPO_ROOT, "index.ts"))}`);
        return 2;
    }
    for (const note of result.notes) {
        console.error(`note: ${note}`);
    }
    if (args.json) {
        const violations = result.violations.map(({ policy, level, urn, message }) => ({ policy, level, urn, message }));
        process.stdout.write(`${JSON.stringify({ violations }, null, 2)}\n`);
    } else {
        if (result.violations.length > 0) {
            console.log(formatRows(result));
        }
        console.log(`${result.violations.length} violation(s): ${result.mandatory} mandatory, ${result.advisory} advisory `
            + `(stack ${args.stack}, ${result.resourceCount} resources, ${path.relative(process.cwd(), result.program) || result.program}, `
            + `policy config ${result.policyConfig ? path.relative(process.cwd(), result.policyConfig) : "none: policy defaults"}, `
            + `${args.preview ? "preview" : "up"}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
    return result.mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (e) => {
        console.error(`policy:check: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 2;
    });
}
