// Runs this project's program for a stack under mocks (see tools/mockRun.ts) and offers
// look-ups over what it registered.
import * as path from "path";
import { AppConfig, ConfigError, parseConfig, rawConfig, RawConfig } from "../../config";
import { computedAtUp } from "../../tools/computedState";
import { RecordedResource, runUnderMocks, MockRunResult } from "../../tools/mockRun";
import { loadStackConfig } from "../../tools/stackConfig";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
export const STACKS = ["local", "dev", "staging", "prod"] as const;
export type Stack = (typeof STACKS)[number];

export interface Program extends MockRunResult {
    ofType(type: string): RecordedResource[];
    one(type: string, predicate?: (r: RecordedResource) => boolean): RecordedResource;
}

const cache = new Map<string, Promise<Program>>();

export function runStack(stack: string, configOverrides?: Record<string, string>, preview = false): Promise<Program> {
    const key = JSON.stringify([stack, configOverrides ?? {}, preview]);
    if (!cache.has(key)) {
        cache.set(key, runUnderMocks({
            program: path.join(PROJECT_DIR, "index.ts"),
            projectDir: PROJECT_DIR,
            stack,
            preview,
            configOverrides,
            computedState: computedAtUp,
        }).then(withLookups));
    }
    return cache.get(key)!;
}

function withLookups(result: MockRunResult): Program {
    const ofType = (type: string) => result.resources.filter((r) => r.type === type);
    return {
        ...result,
        ofType,
        one(type, predicate = () => true) {
            const matches = ofType(type).filter(predicate);
            if (matches.length !== 1) {
                throw new Error(`expected exactly one ${type}, found ${matches.length}: ${matches.map((m) => m.name).join(", ")}`);
            }
            return matches[0];
        },
    };
}

/** What AWS and the random provider would report after create (one table: tools/computedState.ts). */
export { computedAtUp as awsComputedState, MOCK_RANDOM_PASSWORD_PREFIX } from "../../tools/computedState";

/** Was the value at `path` (e.g. "stringData.password") sent as a secret, itself or by an enclosing object? */
export function isSecretInput(resource: RecordedResource, path: string): boolean {
    return resource.secretInputs.some((s) => s === "" || path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
}

/**
 * A stack file's config in parseConfig's shape, with `changes` to `kubepolaris:` keys applied
 * (undefined deletes). Image mirror digests the file has not recorded yet are sample pins
 * (tools/stackConfig.ts) unless `mirrorPins` is "recorded".
 */
export function stackValues(stack: string, changes: Record<string, unknown> = {}, mirrorPins: "sample" | "recorded" = "sample"): RawConfig {
    const { config, secretKeys } = loadStackConfig(PROJECT_DIR, stack, { mirrorPins });
    const raw = rawConfig(stack, config, secretKeys);
    for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) {
            delete raw.values[key];
        } else {
            raw.values[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return raw;
}

/** The stack's config parsed the way the program parses it. */
export function stackAppConfig(stack: string): AppConfig {
    return parseConfig(stackValues(stack));
}

/** The problems parseConfig reports for `raw`; fails the test when the config is accepted. */
export function configProblems(raw: RawConfig): string[] {
    try {
        parseConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the config to be rejected");
}

const COMPONENT_LABEL = "app.kubernetes.io/component";

/**
 * The most pods of a workload the program lets run at once, read from what it renders: the HPA's
 * maxReplicas plus the surge the Deployment's rolling update adds on top (a percentage rounds up,
 * as the Deployment controller does).
 */
export function peakPods(program: Program, component: string): number {
    const deployment = program.one("kubernetes:apps/v1:Deployment", (r) => r.inputs.metadata?.labels?.[COMPONENT_LABEL] === component);
    const hpa = program.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        (r) => r.inputs.spec.scaleTargetRef.name === deployment.inputs.metadata.name);
    const max: number = hpa.inputs.spec.maxReplicas;
    const surge = deployment.inputs.spec.strategy?.rollingUpdate?.maxSurge ?? "25%";
    return max + (typeof surge === "number" ? surge : Math.ceil((max * parseInt(surge, 10)) / 100));
}

/** The database server's max_connections as the program sets it: the RDS parameter group, the in-cluster mysqld's flag, or each Galera member's setting. */
export function serverMaxConnections(program: Program): number {
    const groups = program.ofType("aws:rds/parameterGroup:ParameterGroup").filter((g) => g.provider === undefined);
    if (groups.length > 0) {
        const values = groups.map((g) => Number(g.inputs.parameters.find((x: { name: string }) => x.name === "max_connections").value));
        return Math.min(...values);
    }
    const mysql = program.one("kubernetes:apps/v1:StatefulSet").inputs.spec.template.spec.containers[0];
    const flag: string | undefined = mysql.args?.find((a: string) => a.startsWith("--max-connections="));
    // galera/start.sh writes max_connections=$MAX_CONNECTIONS into the member's settings (test/database.test.ts).
    return Number(flag ? flag.split("=")[1] : mysql.env.find((e: { name: string }) => e.name === "MAX_CONNECTIONS").value);
}
