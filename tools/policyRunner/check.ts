// `policyCheck`: run a Pulumi TypeScript program for one stack under mocks (tools/mockRun.ts),
// then evaluate the policy pack over what it registered (engine.ts), with a
// `--policy-pack-config` file reconciled as the CLI does (config.ts). The CLI wrapper is cli.ts;
// tests call this function directly.
//
// Which project and stack config: the program's directory, or the nearest parent holding a
// Pulumi.yaml (the CLI searches upwards the same way); config from Pulumi.<stack>.yaml next to
// it. Without that stack file the program runs with no stack config (as a freshly `pulumi stack
// init`-ed stack would) and a note says so. A directory as the program is a project directory:
// its entry is Pulumi.yaml's `main`, else package.json's `main`, else index.ts/index.js. The
// program runs from its project directory, as Pulumi runs it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PACK_NAME, packArgs } from "../../policy/pack";
import * as yaml from "js-yaml";
import { computedAtUp } from "../computedState";
import { loadStackConfig } from "../stackConfig";
import { runUnderMocks } from "../mockRun";
import { loadPolicyConfigFile, PolicyConfigEntry, reconcilePolicyConfig, unknownPolicyKeys } from "./config";
import { evaluatePolicies, NotApplicable, packVersion, Violation } from "./engine";
import { resolveForProgram } from "./resolution";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PACK_DIR = path.join(REPO_ROOT, "policy");
export const DEFAULT_PROGRAM = path.join(REPO_ROOT, "index.ts");

export interface PolicyCheckOptions {
    stack: string;
    /** Entry file of a Pulumi TypeScript program, or its project directory (default: this project's index.ts). */
    program?: string;
    /**
     * A `--policy-pack-config` JSON file. Without one, policy/config/<stack>.json when it exists,
     * else every policy at its default level and settings.
     */
    policyConfig?: string;
    /** Run as `pulumi preview` (default), where values computed by other resources are unknown, or as `pulumi up`. */
    preview?: boolean;
    /** Extra stack config ("<ns>:<key>" → value) on top of the stack file. */
    configOverrides?: Record<string, string>;
}

export interface PolicyCheckResult {
    violations: Violation[];
    notApplicable: NotApplicable[];
    mandatory: number;
    advisory: number;
    /** Resources the program registered. */
    resourceCount: number;
    program: string;
    projectDir: string;
    stackUrn: string;
    /** Things the operator should know (missing stack file, unknown policy names in the config). */
    notes: string[];
    /** The policy config file used, if any. */
    policyConfig?: string;
}

/** policy/config/<stack>.json, the environment's config the runner uses when none is given, if it exists. */
export function stackPolicyConfig(stack: string): string | undefined {
    const file = path.join(PACK_DIR, "config", `${stack}.json`);
    return /^[A-Za-z0-9_.-]+$/.test(stack) && fs.existsSync(file) ? file : undefined;
}

/** A problem with the check's inputs (not with the program or the pack): reported without a stack trace. */
export class CheckInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckInputError";
    }
}

/** The check could not run (`cause`); `notes` are what the operator should know all the same (a missing stack file explains missing config). */
export class PolicyCheckFailure extends Error {
    constructor(readonly cause: unknown, readonly notes: string[]) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "PolicyCheckFailure";
    }
}

/**
 * The entry file of a program given as a file or as a project directory: Pulumi.yaml's `main`
 * (a file, or a directory holding index.*), else package.json's `main` when it exists, else
 * index.ts, index.mts or index.js.
 */
export function programEntry(program: string): string {
    const given = path.resolve(program);
    if (!fs.existsSync(given)) {
        throw new CheckInputError(`program ${given} does not exist`);
    }
    if (!fs.statSync(given).isDirectory()) {
        return given;
    }
    if (!fs.existsSync(path.join(given, "Pulumi.yaml"))) {
        throw new CheckInputError(`${given} is a directory without a Pulumi.yaml: give a Pulumi project directory or the program's entry file`);
    }
    const index = (dir: string) => ["index.ts", "index.mts", "index.js", "index.mjs"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    const project = yaml.load(fs.readFileSync(path.join(given, "Pulumi.yaml"), "utf8")) as { main?: unknown } | undefined;
    if (typeof project?.main === "string") {
        const main = path.resolve(given, project.main);
        const entry = fs.existsSync(main) && fs.statSync(main).isDirectory() ? index(main) : main;
        if (!entry || !fs.existsSync(entry)) {
            throw new CheckInputError(`${path.join(given, "Pulumi.yaml")}: main "${project.main}" names no program file`);
        }
        return entry;
    }
    const manifest = path.join(given, "package.json");
    const packageMain = fs.existsSync(manifest) ? (JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: unknown }).main : undefined;
    if (typeof packageMain === "string" && fs.existsSync(path.resolve(given, packageMain)) && fs.statSync(path.resolve(given, packageMain)).isFile()) {
        return path.resolve(given, packageMain);
    }
    const entry = index(given);
    if (!entry) {
        throw new CheckInputError(`no program in ${given}: Pulumi.yaml names no main and there is no index.ts or index.js`);
    }
    return entry;
}

export function findProjectDir(program: string): string {
    let dir = path.dirname(path.resolve(program));
    for (;;) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
            return dir;
        }
        const parent = path.dirname(dir);
        if (parent === dir) {
            throw new CheckInputError(`no Pulumi.yaml in ${path.dirname(path.resolve(program))} or any parent directory`);
        }
        dir = parent;
    }
}

export interface ResolvedProject {
    /** Directory holding Pulumi.yaml and Pulumi.<stack>.yaml for the run (a scratch copy when the stack file is missing). */
    projectDir: string;
    /** The program's real project directory. */
    realProjectDir: string;
    notes: string[];
    cleanup(): void;
}

/** Finds the program's project and stack file; without a stack file, a scratch project with empty config. */
export function resolveProject(program: string, stack: string): ResolvedProject {
    const realProjectDir = findProjectDir(program);
    const stackFile = path.join(realProjectDir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(stackFile)) {
        return { projectDir: realProjectDir, realProjectDir, notes: [], cleanup: () => undefined };
    }
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
    fs.copyFileSync(path.join(realProjectDir, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
    fs.writeFileSync(path.join(scratch, `Pulumi.${stack}.yaml`), "config: {}\n");
    return {
        projectDir: scratch,
        realProjectDir,
        notes: [`${stackFile} does not exist: running stack "${stack}" with no stack config`],
        cleanup: () => fs.rmSync(scratch, { recursive: true, force: true }),
    };
}

export async function policyCheck(options: PolicyCheckOptions): Promise<PolicyCheckResult> {
    const program = programEntry(options.program ?? DEFAULT_PROGRAM);
    const project = resolveProject(program, options.stack);
    const notes = [...project.notes];
    const { samplePins } = loadStackConfig(project.projectDir, options.stack);
    if (samplePins.length > 0) {
        notes.push(`Pulumi.${options.stack}.yaml records no ${samplePins.join(", ")} yet: judged with sample pins in their place`
            + " (the images are mirrored later; `pulumi up` refuses the stack until they are recorded)");
    }
    try {
        return await checkProject(options, program, project, notes);
    } catch (e) {
        throw new PolicyCheckFailure(e, notes);
    } finally {
        project.cleanup();
    }
}

async function checkProject(options: PolicyCheckOptions, program: string, project: ResolvedProject, notes: string[]): Promise<PolicyCheckResult> {

    let given: Record<string, PolicyConfigEntry> = {};
    const policyConfig = options.policyConfig ?? stackPolicyConfig(options.stack);
    if (policyConfig) {
        given = loadPolicyConfigFile(path.resolve(policyConfig));
        for (const key of unknownPolicyKeys(packArgs.policies, given)) {
            notes.push(`${policyConfig}: "${key}" names no policy of the pack (the Pulumi CLI ignores it too)`);
        }
    }
    const config = reconcilePolicyConfig(packArgs.policies, packArgs.enforcementLevel ?? "advisory", given);

    const resolution = resolveForProgram(path.dirname(program), REPO_ROOT);
    const up = options.preview === false;
    try {
        const run = await runUnderMocks({
            program,
            projectDir: project.projectDir,
            workDir: project.realProjectDir,
            stack: options.stack,
            preview: !up,
            configOverrides: options.configOverrides,
            // Under `up` the mock provider answers for what a real one computes, and what it does
            // not model stays unknown (as in preview), rather than undefined.
            computedState: up ? computedAtUp : undefined,
            unknownMissingOutputs: up,
        });
        const root = run.resources.find((r) => r.type === "pulumi:pulumi:Stack");
        const stackUrn = root?.urn ?? `urn:pulumi:${options.stack}::unknown::pulumi:pulumi:Stack::stack`;
        const evaluation = await evaluatePolicies({
            packName: PACK_NAME,
            packVersion: packVersion(PACK_DIR),
            packArgs,
            config,
            resources: run.resources,
            stackUrn,
            programDir: path.dirname(program),
        });
        return {
            ...evaluation,
            mandatory: evaluation.violations.filter((v) => v.level === "mandatory").length,
            advisory: evaluation.violations.filter((v) => v.level === "advisory").length,
            resourceCount: run.resources.length,
            program,
            projectDir: project.realProjectDir,
            stackUrn,
            notes,
            policyConfig,
        };
    } finally {
        notes.push(...resolution.notes());
        resolution.restore();
    }
}
