// Health checks. Liveness and readiness answer different questions and must differ: liveness "is
// the process wedged? restart it", readiness "may it take traffic now?". A startup probe covers
// slow boots (schema migrations on first start) so liveness can stay strict. The paths are the
// ones the image really serves (app/kubepolaris.ts), configurable per stack for another image.
import * as k8s from "@pulumi/kubernetes";

type Probe = k8s.types.input.core.v1.Probe;

export interface BackendProbePaths {
    /** Answers while the process is alive; must not depend on the database. */
    liveness: string;
    /** Answers while the pod may take traffic. */
    readiness: string;
}

export function backendProbes(paths: BackendProbePaths): { livenessProbe: Probe; readinessProbe: Probe; startupProbe: Probe } {
    return {
        livenessProbe: {
            httpGet: { path: paths.liveness, port: "http" },
            initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3,
        },
        // No initial delay: readiness runs only once the startup probe has passed, and every second
        // a replacement pod is not ready is a second its workload runs short (with the HA guide's
        // 10 s delay, the real-node chaos drill lost 450 requests at 2 replicas).
        readinessProbe: {
            httpGet: { path: paths.readiness, port: "http" },
            periodSeconds: 3, timeoutSeconds: 2, failureThreshold: 3,
        },
        // Checked every second, so a started process is seen at once; up to 5 minutes for
        // migrations on first start before liveness takes over.
        startupProbe: {
            httpGet: { path: paths.liveness, port: "http" },
            periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 300,
        },
    };
}

/** A static web server: alive while it accepts connections, ready while its health page answers. */
export function frontendProbes(readinessPath: string): { livenessProbe: Probe; readinessProbe: Probe } {
    return {
        livenessProbe: {
            tcpSocket: { port: "http" },
            initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3,
        },
        readinessProbe: {
            httpGet: { path: readinessPath, port: "http" },
            initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 2, failureThreshold: 2,
        },
    };
}
