// Probes that look right on their own but probe the wrong thing: a port the container does not
// declare (a name that resolves to nothing fails the pod's creation; a number nothing listens on
// restarts it forever), or liveness and readiness on the same endpoint, so one slow dependency
// behind it restarts every replica at once instead of only taking them out of rotation.
import { Props } from "./common";
import { containersOf, formatPort, POD_WORKLOADS, resolveDeclaredPort } from "./k8s";
import { podTemplatePolicy } from "./workloads";

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;

/** The port a probe connects to, and which handler field holds it. */
function probePort(probe: Props): { field: string; port: unknown } | undefined {
    for (const field of ["httpGet", "tcpSocket", "grpc"]) {
        if (probe?.[field]) {
            return { field, port: probe[field].port };
        }
    }
    return undefined;
}

/** "/healthz" for "/healthz/?verbose": what a server routes on (query and trailing slash ignored). */
function normalizePath(path: unknown): string {
    const raw = typeof path === "string" && path !== "" ? path : "/";
    const noQuery = raw.split("?")[0];
    return noQuery.length > 1 ? noQuery.replace(/\/+$/, "") : noQuery;
}

/** The endpoint a network probe hits (kind, resolved port, path), ignoring timings, headers and scheme. */
function endpoint(probe: Props, container: Props): string | undefined {
    const at = probePort(probe);
    if (!at) {
        return undefined; // exec: workload-probes compares commands
    }
    const port = resolveDeclaredPort(at.port, container)?.containerPort ?? at.port;
    if (at.field === "httpGet") {
        return `HTTP port ${port} path ${normalizePath(probe.httpGet.path)}`;
    }
    return at.field === "grpc" ? `gRPC port ${port} service "${probe.grpc.service ?? ""}"` : `TCP port ${port}`;
}

export const probeEndpoints = podTemplatePolicy({
    name: "probe-endpoints",
    description: "Every probe (liveness, readiness, startup; httpGet, tcpSocket or grpc) connects to a port its "
        + "container declares in ports[] (by number, or by name), and a container's liveness and readiness probes do "
        + "not hit the same endpoint (same port and HTTP path, whatever their timings, headers or scheme). Fix: declare "
        + "the port (and name it, e.g. \"http\") and probe it by name; point liveness at a cheap \"process is alive\" "
        + "endpoint and readiness at one that also checks what the pod needs to serve.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: POD_WORKLOADS,
    validate(template, _args, report) {
        for (const { where, container } of containersOf(template.spec)) {
            for (const kind of PROBES) {
                const at = container[kind] ? probePort(container[kind]) : undefined;
                if (at && !resolveDeclaredPort(at.port, container)) {
                    const declared = (Array.isArray(container.ports) ? container.ports : [])
                        .map((p: Props) => (p?.name ? `${p.name}:${p.containerPort}` : String(p?.containerPort))).join(", ");
                    report(`${where} ${kind}.${at.field}.port is ${formatPort(at.port)}, which the container does not declare `
                        + `(ports: ${declared || "none"}).`);
                }
            }
            const live = container.livenessProbe ? endpoint(container.livenessProbe, container) : undefined;
            const ready = container.readinessProbe ? endpoint(container.readinessProbe, container) : undefined;
            if (live !== undefined && live === ready) {
                report(`${where} livenessProbe and readinessProbe both hit ${live}: when that check fails (a slow `
                    + "dependency, overload), every replica is restarted instead of only being taken out of rotation.");
            }
        }
    },
});

export const probePolicies = [probeEndpoints];
