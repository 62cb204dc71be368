// Routing: the path a request takes must exist end to end. An Ingress backend names a Service of
// the stack and one of its ports; the Service selects the pods of a workload (every selector label,
// same namespace) and its targetPort is a port those pods declare. Each link can be wrong while
// every resource on its own looks fine, and each broken link is an outage.
import { formatPort, POD_WORKLOADS, TYPES } from "./k8s";
import { stackPolicy } from "./common";
import { StackModel } from "./model";
import { formatLabels, formatSelector } from "./selectors";
import { backendTarget, formatBackendPort, readIngresses, readServices, selectedWorkloads, ServiceRef, targetPortIn } from "./services";

function serviceName(s: ServiceRef): string {
    return s.name ?? s.resource.name;
}

export const serviceRoutesToPods = stackPolicy({
    name: "service-routes-to-pods",
    description: "Every Service with a selector, in a namespace where this stack runs workloads, selects the pods of "
        + "some workload of the stack (every selector label present with the same value, same namespace), and each of "
        + "its named targetPorts is a port name those pods' containers declare (a numeric targetPort, or none, which "
        + "means the port itself, routes whether or not a container declares it). Otherwise the Service has no "
        + "endpoints. Fix: make "
        + "spec.selector the workload's pod labels and spec.ports[].targetPort the container port's name (e.g. \"http\"). "
        + "Services in namespaces where the stack runs no workload (e.g. an ingress controller's load balancer) are "
        + "not checked.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources, POD_WORKLOADS);
        model.reportUnknown(report, POD_WORKLOADS);
        const namespaces = new Set(model.workloads.map((w) => w.namespace));
        for (const s of readServices(resources, report)) {
            if (!s.selector || !namespaces.has(s.namespace) || s.type === "ExternalName") {
                continue;
            }
            const selected = selectedWorkloads(s, model.workloads);
            if (selected.length === 0) {
                if (model.unknown.length > 0) {
                    continue; // a workload we could not read may be the one it selects (reported above)
                }
                const peers = model.workloads.filter((w) => w.namespace === s.namespace)
                    .map((w) => `${w.kind} ${w.name ?? w.resource.name} has ${formatLabels(w.podLabels)}`);
                report(`Service ${serviceName(s)} (namespace ${s.namespace}, selector ${formatSelector({ matchLabels: s.selector })}) `
                    + `selects the pods of no workload of this stack: it has no endpoints and every request to it fails (${peers.join("; ")}).`,
                s.resource.urn);
                continue;
            }
            for (const p of s.ports) {
                for (const w of selected) {
                    if (!targetPortIn(p.targetPort, w)) {
                        report(`Service ${serviceName(s)} port ${p.name ?? p.port} targets ${formatPort(p.targetPort)}, which no container of `
                            + `${w.kind} ${w.name ?? w.resource.name} declares (spec.template.spec.containers[].ports): `
                            + "its pods get no endpoint for this port. Target a container port's name, or its number.", s.resource.urn);
                    }
                }
            }
        }
    },
});

export const ingressBackendsExist = stackPolicy({
    name: "ingress-backends-exist",
    description: "Every Service backend of an Ingress (each rule path and the defaultBackend) names a Service of this "
        + "stack in the Ingress's own namespace, and one of that Service's ports (by number or by name). A backend "
        + "naming a missing Service or port answers 503 for its whole path. Fix: pass the Service's metadata.name "
        + "output and one of its spec.ports (port number or name) to the Ingress.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const services = readServices(resources, report);
        // A Service we could not read (reported) may be the one a backend names: claim nothing missing then.
        const allRead = services.length === resources.filter((r) => r.type === TYPES.service).length;
        for (const ingress of readIngresses(resources, report)) {
            for (const b of ingress.backends) {
                const { service, port } = backendTarget(ingress, b, services);
                const where = `Ingress ${ingress.name ?? ingress.resource.name} ${b.where}`;
                if (!service && !allRead) {
                    continue;
                } else if (!service) {
                    const elsewhere = services.filter((s) => s.name === b.service).map((s) => s.namespace);
                    report(`${where} names Service ${b.service}, which this stack does not define in namespace ${ingress.namespace}`
                        + (elsewhere.length > 0 ? ` (it is in namespace ${elsewhere.join(", ")}; an Ingress reaches only its own namespace)` : "")
                        + ": that path answers 503.", ingress.resource.urn);
                } else if (!port) {
                    const ports = service.ports.map((p) => (p.name ? `${p.name}:${p.port}` : String(p.port))).join(", ");
                    report(`${where} names ${formatBackendPort(b.port)} of Service ${b.service}, which serves only ${ports || "no ports"}.`,
                        ingress.resource.urn);
                }
            }
        }
    },
});

export const routingPolicies = [serviceRoutesToPods, ingressBackendsExist];
