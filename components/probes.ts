// Health checks, seed 000 "Kubernetes 探针". Liveness and readiness answer different questions
// and must differ: liveness "is the process wedged? restart it", readiness "may it take traffic
// now?". A startup probe covers slow boots so liveness can stay strict.
import * as k8s from "@pulumi/kubernetes";

type Probe = k8s.types.input.core.v1.Probe;

/** The KubePolaris API server's port (also its metrics port). */
export const BACKEND_PORT = 8080;

export function backendProbes(): { livenessProbe: Probe; readinessProbe: Probe; startupProbe: Probe } {
    return {
        livenessProbe: {
            httpGet: { path: "/api/health", port: "http" },
            initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3,
        },
        readinessProbe: {
            httpGet: { path: "/api/health/ready", port: "http" },
            initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3,
        },
        // Up to 5 minutes for migrations on first start before liveness takes over.
        startupProbe: {
            httpGet: { path: "/api/health", port: "http" },
            periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60,
        },
    };
}

/** A static web server: alive while it accepts connections, ready while it serves the app. */
export function frontendProbes(port: number): { livenessProbe: Probe; readinessProbe: Probe } {
    return {
        livenessProbe: {
            tcpSocket: { port },
            initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3,
        },
        readinessProbe: {
            httpGet: { path: "/", port },
            initialDelaySeconds: 2, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2,
        },
    };
}
