// `policyCheck`: run a Pulumi TypeScript program for one stack under mocks (tools/mockRun.ts),
// then evaluate the policy pack over what it registered (engine.ts), with a
// `--policy-pack-config` file reconciled as the CLI does (config.ts). The CLI wrapper is cli.ts;
// tests call this function directly.
//
// Which project and stack config: the program's directory, or the nearest parent holding a
// Pulumi.yaml (the CLI searches upwards the same way); config from Pulumi.<stack>.yaml next to
// it. Without that stack file the program runs with no stack config (as a freshly `pulumi stack
// init`-ed stack would) and a note says so.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PACK_NAME, packArgs } from "../../policy/pack";
import { computedAtUp } from "../computedState";
import { runUnderMocks } from "../mockRun";
import { loadPolicyConfigFile, PolicyConfigEntry, reconcilePolicyConfig, unknownPolicyKeys } from "./config";
import { evaluatePolicies, NotApplicable, packVersion, Violation } from "./engine";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PACK_DIR = path.join(REPO_ROOT, "policy");
export const DEFAULT_PROGRAM = path.join(REPO_ROOT, "index.ts");

export interface PolicyCheckOptions {
    stack: string;
    /** Entry file of a Pulumi TypeScript program (default: this project's index.ts). */
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
    const program = path.resolve(options.program ?? DEFAULT_PROGRAM);
    if (!fs.existsSync(program)) {
        throw new CheckInputError(`program ${program} does not exist`);
    }
    const project = resolveProject(program, options.stack);
    const notes = [...project.notes];

    let given: Record<string, PolicyConfigEntry> = {};
    const policyConfig = options.policyConfig ?? stackPolicyConfig(options.stack);
    if (policyConfig) {
        given = loadPolicyConfigFile(path.resolve(policyConfig));
        for (const key of unknownPolicyKeys(packArgs.policies, given)) {
            notes.push(`${policyConfig}: "${key}" names no policy of the pack (the Pulumi CLI ignores it too)`);
        }
    }
    const config = reconcilePolicyConfig(packArgs.policies, packArgs.enforcementLevel ?? "advisory", given);

    try {
        const run = await runUnderMocks({
            program,
            projectDir: project.projectDir,
            stack: options.stack,
            preview: options.preview ?? true,
            configOverrides: options.configOverrides,
            // Under `up` the mock provider answers for what a real one computes; in preview those stay unknown.
            computedState: options.preview === false ? computedAtUp : undefined,
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
        project.cleanup();
    }
}
