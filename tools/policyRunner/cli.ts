// npm run policy:check -- --stack <name> [--program <entry file or project directory>] [--json] [--policy-config <file>] [--up]
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
import { parseArgs as parseArgv } from "util";
import { ProgramError } from "../mockRun";
import { PolicyCheckFailure, policyCheck, PolicyCheckResult, REPO_ROOT } from "./check";

const USAGE = "usage: npm run policy:check -- --stack <name> [--program <Pulumi TypeScript entry file or project directory>] "
    + "[--json] [--policy-config <policy pack config .json>] [--up]";

export interface CliArgs {
    stack: string;
    program?: string;
    policyConfig?: string;
    json: boolean;
    preview: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], cwd: string): CliArgs {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgv({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                stack: { type: "string", short: "s" },
                program: { type: "string" },
                "policy-config": { type: "string" },
                "policy-pack-config": { type: "string" },
                json: { type: "boolean" },
                up: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (e) {
        throw new UsageError((e as Error).message.split("\n")[0]);
    }
    if (values.help) {
        throw new UsageError("");
    }
    const text = (key: string) => {
        const value = values[key] as string | undefined;
        if (value !== undefined && (value === "" || value.startsWith("-"))) {
            throw new UsageError(`--${key} needs a value`);
        }
        return value;
    };
    const stack = text("stack");
    if (!stack) {
        throw new UsageError("--stack is required");
    }
    const program = text("program");
    const policyConfig = text("policy-config") ?? text("policy-pack-config");
    return {
        stack,
        program: program === undefined ? undefined : path.resolve(cwd, program),
        policyConfig: policyConfig === undefined ? undefined : path.resolve(cwd, policyConfig),
        json: values.json === true,
        preview: values.up !== true,
    };
}

/** Tab-free fixed columns: policy, level, urn, message (multi-line messages indented). */
export function formatRows(result: PolicyCheckResult): string {
    const rows = result.violations.map((v) => [v.policy, v.level, v.urn, v.message.replace(/\n/g, " ")]);
    const width = (i: number) => Math.max(...rows.map((r) => r[i].length), 0);
    const [w0, w1] = [width(0), width(1)];
    return rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}  ${r[3]}`).join("\n");
}

/**
 * One line for why the check could not run: the error's message and, for a program that threw,
 * where in the program (its first stack frame in a file outside node_modules and this runner).
 */
export function failureMessage(e: unknown, program: string): string {
    const error = e instanceof ProgramError ? e.cause : e;
    const message = oneLine(error instanceof Error ? error.message : String(error));
    if (!(e instanceof ProgramError)) {
        return message;
    }
    const stack = error instanceof Error ? error.stack ?? "" : "";
    const frame = stack.split("\n").map((l) => /\(?(?:file:\/\/)?([^()\s]+\.[cm]?[jt]s):(\d+):\d+\)?$/.exec(l.trim()))
        .find((m) => m && !m[1].includes("node_modules") && !m[1].startsWith(path.join(REPO_ROOT, "tools")) && !m[1].startsWith("node:"));
    const at = frame ? ` (at ${shown(frame[1])}:${frame[2]})` : "";
    return `the program ${shown(program)} failed: ${message}${at}`;
}

/** A path as the user gave it: relative to the directory they ran npm in. */
function shown(file: string): string {
    return path.relative(process.env.INIT_CWD ?? process.cwd(), file) || file;
}

/**
 * An error message on one line: Node's "Require stack:" list dropped, the rest of the lines
 * (Pulumi's "please set a value using …" hint) joined.
 */
export function oneLine(message: string): string {
    const lines = message.split("\n");
    const cut = lines.findIndex((l) => /^Require stack:/.test(l.trim()));
    return (cut >= 0 ? lines.slice(0, cut) : lines).map((l) => l.trim()).filter((l) => l !== "").join(" ");
}

/**
 * Runs `body` with what the program writes to stdout sent to stderr: stdout carries only the
 * runner's rows or JSON, so `--json` stays valid whatever the program prints.
 */
async function programOutputToStderr<T>(body: () => Promise<T>): Promise<T> {
    const write = process.stdout.write;
    process.stdout.write = ((chunk: any, encoding?: any, callback?: any) => process.stderr.write(chunk, encoding, callback)) as typeof process.stdout.write;
    const log = console.log;
    const info = console.info;
    console.log = console.info = (...args: unknown[]) => console.error(...args);
    try {
        return await body();
    } finally {
        process.stdout.write = write;
        console.log = log;
        console.info = info;
    }
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
    let result: PolicyCheckResult;
    const started = Date.now();
    // A rejection the program leaves behind after the run (an apply nobody awaits) must not reach
    // Node's default handler (a stack trace and exit 1, the code for a mandatory violation).
    const late: unknown[] = [];
    const onLate = (reason: unknown) => late.push(reason);
    process.on("unhandledRejection", onLate);
    // Node runs out of work while the run still waits: the program waits on something that can
    // never happen (an output of a resource that was never registered, a promise nothing resolves).
    const onStall = () => {
        console.error(`policy:check: the program ${shown(args.program ?? path.join(REPO_ROOT, "index.ts"))} never finished: it waits on a value `
            + "nothing will ever resolve (a promise or an output that never settles)");
        process.exitCode = 2;
    };
    process.once("beforeExit", onStall);
    try {
        result = await programOutputToStderr(() => policyCheck({ stack: args.stack, program: args.program, policyConfig: args.policyConfig, preview: args.preview }));
    } catch (e) {
        const failure = e instanceof PolicyCheckFailure ? e : new PolicyCheckFailure(e, []);
        for (const note of failure.notes) {
            console.error(`note: ${note}`);
        }
        console.error(`policy:check: ${failureMessage(failure.cause, args.program ?? path.join(REPO_ROOT, "index.ts"))}`);
        return 2;
    } finally {
        process.removeListener("unhandledRejection", onLate);
        process.removeListener("beforeExit", onStall);
    }
    if (late.length > 0) {
        console.error(`policy:check: ${failureMessage(new ProgramError(late[0], []), result.program)}`);
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
            + `(stack ${args.stack}, ${result.resourceCount} resources, ${shown(result.program)}, `
            + `policy config ${result.policyConfig ? shown(result.policyConfig) : "none: policy defaults"}, `
            + `${args.preview ? "preview" : "up"}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
    return result.mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (e) => {
        console.error(`policy:check: ${oneLine(e instanceof Error ? e.message : String(e))}`);
        process.exitCode = 2;
    });
}
