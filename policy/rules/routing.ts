// Routing: the path a request takes must exist end to end. An Ingress or HTTPRoute backend names a
// Service of the stack and one of its ports (one reader for both: readRouteBackends); the Service selects the pods of a workload (every selector label,
// same namespace) and its targetPort is a port those pods declare. Each link can be wrong while
// every resource on its own looks fine, and each broken link is an outage.
import type { PolicyResource } from "@pulumi/policy";
import { formatPort, POD_WORKLOADS, TYPES } from "./k8s";
import { StackReport, stackPolicy } from "./common";
import { StackModel } from "./model";
import { formatLabels, formatSelector } from "./selectors";
import { backendTarget, formatBackendPort, readRouteBackends, readServices, RouteBackendRef, selectedWorkloads, ServiceRef, targetPortIn } from "./services";
import { attachedListeners, GATEWAY_GROUP, parentGateway, readGateways, readHttpRoutes } from "./gatewayApi";
import { schema } from "./common";

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
        reportMissingBackends("Ingress", resources, report);
    },
});

export const httpRouteParentsExist = stackPolicy({
    name: "httproute-parents-exist",
    description: "Every parentRef of an HTTPRoute names a Gateway this stack defines (same namespace unless the ref "
        + "names one) or one listed in `externalGateways` (\"namespace/name\", a Gateway the platform team runs), "
        + "and its sectionName, when set, names a listener of that Gateway. A route attached to nothing is never "
        + "served: every path answers 404 while each resource on its own looks fine. Fix: pass the Gateway's "
        + "metadata.name output (and the listener's name) as the parentRef, or list the shared Gateway.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            externalGateways: schema.stringList("Gateways outside the stack routes may attach to, as namespace/name.", []),
        },
    },
    validate(resources, args, report) {
        const { externalGateways } = args.getConfig<{ externalGateways: string[] }>();
        const gateways = readGateways(resources, report);
        // A Gateway we could not read (reported) may be the one a route names: claim nothing missing then.
        const allRead = gateways.length === resources.filter((r) => r.type === TYPES.gateway).length;
        for (const route of readHttpRoutes(resources, report)) {
            const subject = `HTTPRoute ${route.name ?? route.resource.name}`;
            if (route.parents.length === 0) {
                report(`${subject} has no parentRefs: no Gateway serves it.`, route.resource.urn);
            }
            for (const parent of route.parents) {
                if (parent.group !== GATEWAY_GROUP || parent.kind !== "Gateway") {
                    continue; // a Service (GAMMA mesh) or another kind of parent: not an edge route
                }
                const gateway = parentGateway(parent, gateways);
                if (!gateway) {
                    if (externalGateways.includes(`${parent.namespace}/${parent.name}`) || !allRead) {
                        continue;
                    }
                    const elsewhere = gateways.filter((g) => g.name === parent.name).map((g) => g.namespace);
                    report(`${subject} ${parent.where} names Gateway ${parent.namespace}/${parent.name}, which this stack does not define`
                        + (elsewhere.length > 0 ? ` (it defines one in namespace ${elsewhere.join(", ")})` : "")
                        + " and `externalGateways` does not list: the route is served by nothing.", route.resource.urn);
                } else if (attachedListeners(parent, gateway).length === 0) {
                    report(`${subject} ${parent.where} names listener "${parent.sectionName}" of Gateway ${parent.name}, which has only `
                        + `${gateway.listeners.map((l) => `"${l.name}"`).join(", ") || "no listeners"}: the route is not attached.`, route.resource.urn);
                }
            }
        }
    },
});

export const httpRouteBackendsExist = stackPolicy({
    name: "httproute-backends-exist",
    description: "Every Service backendRef of an HTTPRoute names a Service of this stack in the route's namespace "
        + "(or the namespace the ref names) and one of that Service's port numbers; a Service backendRef must set "
        + "its port. A backend naming a missing Service or port answers 500 for its whole rule (the Gateway API's "
        + "answer for an invalid backend). Fix: pass the Service's metadata.name output and one of its spec.ports[].port.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        reportMissingBackends("HTTPRoute", resources, report);
    },
});

/** What a request gets on a path or rule whose backend is missing: ingress controllers answer 503, the Gateway API 500. */
const MISSING_BACKEND = {
    Ingress: { unit: "path", answer: 503, reach: "; an Ingress reaches only its own namespace" },
    HTTPRoute: { unit: "rule", answer: 500, reach: "" },
} as const;

/** Reports each Service backend of `kind`'s routes that names a Service, or a port of one, the stack does not define. */
function reportMissingBackends(kind: RouteBackendRef["route"]["kind"], resources: PolicyResource[], report: StackReport): void {
    const services = readServices(resources, report);
    // A Service we could not read (reported) may be the one a backend names: claim nothing missing then.
    const allRead = services.length === resources.filter((r) => r.type === TYPES.service).length;
    const missing = MISSING_BACKEND[kind];
    for (const b of readRouteBackends(resources, report).filter((x) => x.route.kind === kind)) {
        const { service, port } = backendTarget(b, services);
        if (!service && !allRead) {
            continue;
        } else if (!service) {
            const elsewhere = services.filter((s) => s.name === b.service).map((s) => s.namespace);
            report(`${b.where} names Service ${b.service}, which this stack does not define in namespace ${b.namespace}`
                + (elsewhere.length > 0 ? ` (it is in namespace ${elsewhere.join(", ")}${missing.reach})` : "")
                + `: that ${missing.unit} answers ${missing.answer}.`, b.route.resource.urn);
        } else if (b.port.number === undefined && b.port.name === undefined) {
            report(`${b.where} names Service ${b.service} without a port: the API requires one for a Service backend.`, b.route.resource.urn);
        } else if (!port) {
            const ports = service.ports.map((p) => (p.name ? `${p.name}:${p.port}` : String(p.port))).join(", ");
            report(`${b.where} names ${formatBackendPort(b.port)} of Service ${b.service}, which serves only ${ports || "no ports"}.`, b.route.resource.urn);
        }
    }
}

export const routingPolicies = [serviceRoutesToPods, ingressBackendsExist, httpRouteParentsExist, httpRouteBackendsExist];
