// Graceful shutdown: the kubelet runs the preStop hook, then sends SIGTERM, and kills the
// container with SIGKILL when terminationGracePeriodSeconds (counted from the start of preStop)
// runs out. A preStop wait that eats the whole grace period leaves the process no time to finish
// its requests: every rollout and drain then cuts connections.
import { Props, schema } from "./common";
import { containersOf, POD_WORKLOADS } from "./k8s";
import { podTemplatePolicy } from "./workloads";

/** The kubelet's default grace period. */
export const DEFAULT_GRACE_SECONDS = 30;

const SLEEP_UNITS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds a shell command line sleeps: the sum of its `sleep N[smhd]` commands; undefined if none. */
export function shellSleepSeconds(commandLine: string): number | undefined {
    let total: number | undefined;
    for (const m of commandLine.matchAll(/(?:^|[\s;&|(])(?:\/(?:usr\/)?bin\/)?sleep\s+(\d+(?:\.\d+)?)([smhd]?)(?=$|[\s;&|)])/g)) {
        total = (total ?? 0) + Number(m[1]) * SLEEP_UNITS[m[2]];
    }
    return total;
}

/** How long a preStop hook waits: the `sleep` action, or `sleep N` in an exec command; undefined when unknown. */
export function preStopWaitSeconds(preStop: Props | undefined): { seconds: number; how: string } | undefined {
    if (!preStop) {
        return undefined;
    }
    if (typeof preStop.sleep?.seconds === "number") {
        return { seconds: preStop.sleep.seconds, how: `sleep action ${preStop.sleep.seconds}s` };
    }
    const command: unknown[] = Array.isArray(preStop.exec?.command) ? preStop.exec.command : [];
    const seconds = shellSleepSeconds(command.map(String).join(" "));
    return seconds === undefined ? undefined : { seconds, how: `exec ${JSON.stringify(command)}` };
}

export const terminationGraceCoversPreStop = podTemplatePolicy({
    name: "termination-grace-covers-prestop",
    description: "terminationGracePeriodSeconds (default 30) is at least the longest preStop wait of the pod's "
        + "containers (a `sleep` action, or `sleep N` in an exec hook) plus `marginSeconds` (10) for the process to "
        + "finish its requests after SIGTERM. The grace period counts from the start of preStop: a hook that waits as "
        + "long as the grace period gets the process SIGKILLed mid-request on every rollout and drain. Fix: set "
        + "terminationGracePeriodSeconds = preStop wait + the time the server needs to drain.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            marginSeconds: schema.integer("Seconds the process must keep after the preStop wait before SIGKILL.", 10, 0),
        },
    },
    types: POD_WORKLOADS,
    validate(template, args, report) {
        const { marginSeconds } = args.getConfig<{ marginSeconds: number }>();
        const set = template.spec.terminationGracePeriodSeconds;
        const grace = typeof set === "number" ? set : DEFAULT_GRACE_SECONDS;
        for (const { where, container } of containersOf(template.spec, { init: false })) {
            const wait = preStopWaitSeconds(container.lifecycle?.preStop);
            if (wait && grace < wait.seconds + marginSeconds) {
                report(`${where} waits ${wait.seconds}s in preStop (${wait.how}) but terminationGracePeriodSeconds is ${grace}`
                    + `${typeof set === "number" ? "" : " (the default)"}: the process gets ${Math.max(0, grace - wait.seconds)}s after `
                    + `SIGTERM, less than the ${marginSeconds}s margin, and is killed mid-request. Set terminationGracePeriodSeconds to at `
                    + `least ${wait.seconds + marginSeconds}.`);
            }
        }
    },
});

export const shutdownPolicies = [terminationGraceCoversPreStop];
