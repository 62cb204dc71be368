// Services and route backends as the routing and reachability policies read them: which pods a
// Service selects (a Service selector is equality on every listed label, in the Service's own
// namespace), which container port each of its targetPorts lands on, and which Service and port
// each Ingress path and HTTPRoute backendRef names (readRouteBackends: one reader for both). Each
// resource is read on its own; unknown fields are kept aside.
import type { PolicyResource } from "@pulumi/policy";
import { tryRead, Props, StackReport, unknownMessage } from "./common";
import { readHttpRoutes } from "./gatewayApi";
import { containersOf, DeclaredPort, nameOf, namespaceOf, resolveDeclaredPort, TYPES } from "./k8s";
import { displayName, WorkloadRef } from "./model";
import { selects } from "./selectors";

export interface ServicePort {
    name?: string;
    port: number;
    /** spec.ports[].targetPort, defaulting to `port` as the API server does. */
    targetPort: number | string;
    protocol: string;
}

export interface ServiceRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    /** undefined: no selector (endpoints are managed by hand, or ExternalName). */
    selector?: Record<string, string>;
    type: string;
    ports: ServicePort[];
}

export interface IngressBackend {
    /** "rules[0].http.paths[1]" or "defaultBackend" */
    where: string;
    service: string;
    port: { number?: number; name?: string };
}

export interface IngressRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    backends: IngressBackend[];
}

/** Every Service of the stack; those with unknown fields are reported and left out. */
export function readServices(resources: PolicyResource[], report: StackReport): ServiceRef[] {
    const services: ServiceRef[] = [];
    for (const r of resources.filter((x) => x.type === TYPES.service)) {
        const read = tryRead((): ServiceRef => {
            const spec: Props = r.props.spec ?? {};
            const selector = spec.selector;
            const ports: Props[] = Array.isArray(spec.ports) ? spec.ports : [];
            return {
                resource: r,
                name: nameOf(r.props),
                namespace: namespaceOf(r.props, r.provider),
                selector: selector && typeof selector === "object" && Object.keys(selector).length > 0 ? { ...selector } : undefined,
                type: typeof spec.type === "string" ? spec.type : "ClusterIP",
                ports: ports.map((p) => ({
                    name: typeof p?.name === "string" && p.name !== "" ? p.name : undefined,
                    port: p?.port,
                    targetPort: p?.targetPort ?? p?.port,
                    protocol: typeof p?.protocol === "string" ? p.protocol : "TCP",
                })),
            };
        });
        if (read.ok) {
            services.push(read.value);
        } else {
            report(unknownMessage(read.unknown, displayName(r)), r.urn);
        }
    }
    return services;
}

function backendOf(where: string, backend: Props | undefined): IngressBackend[] {
    const service = backend?.service;
    if (!service) {
        return []; // a `resource` backend (e.g. a storage bucket): not a Service
    }
    return [{ where, service: service.name, port: { number: service.port?.number, name: service.port?.name } }];
}

/** Every Ingress of the stack with the Service backends it names. */
export function readIngresses(resources: PolicyResource[], report: StackReport): IngressRef[] {
    const ingresses: IngressRef[] = [];
    for (const r of resources.filter((x) => x.type === TYPES.ingress)) {
        const read = tryRead((): IngressRef => {
            const spec: Props = r.props.spec ?? {};
            const rules: Props[] = Array.isArray(spec.rules) ? spec.rules : [];
            const backends = [
                ...backendOf("defaultBackend", spec.defaultBackend),
                ...rules.flatMap((rule, i) => (Array.isArray(rule?.http?.paths) ? rule.http.paths : [])
                    .flatMap((p: Props, j: number) => backendOf(`rules[${i}].http.paths[${j}] (${p?.path ?? "/"})`, p?.backend))),
            ];
            return { resource: r, name: nameOf(r.props), namespace: namespaceOf(r.props, r.provider), backends };
        });
        if (read.ok) {
            ingresses.push(read.value);
        } else {
            report(unknownMessage(read.unknown, displayName(r)), r.urn);
        }
    }
    return ingresses;
}

/** Workloads in the Service's namespace whose pod labels carry every label of its selector. */
export function selectedWorkloads(service: ServiceRef, workloads: WorkloadRef[]): WorkloadRef[] {
    if (!service.selector) {
        return [];
    }
    return workloads.filter((w) => w.namespace === service.namespace && selects({ matchLabels: service.selector }, w.podLabels));
}

/**
 * The container port a Service targetPort lands on in one workload's pods: the declared port it
 * names or numbers, else, for a number, that port as it is (Kubernetes routes a numeric target port
 * whether or not a container declares it; only a name must match a declaration). undefined: a name
 * no container declares.
 */
export function targetPortIn(targetPort: number | string, w: WorkloadRef): DeclaredPort | undefined {
    for (const { container } of containersOf(w.podSpec, { init: false })) {
        const found = resolveDeclaredPort(targetPort, container);
        if (found) {
            return found;
        }
    }
    return typeof targetPort === "number" ? { containerPort: targetPort, protocol: "TCP" } : undefined;
}

/** The Service an Ingress backend names (same namespace), and the Service port it names. */
/** A Service an edge route sends to: an Ingress path (or defaultBackend) or an HTTPRoute rule's Service backendRef. */
export interface RouteBackendRef {
    route: { kind: "Ingress" | "HTTPRoute"; name: string; resource: PolicyResource };
    /** "Ingress shop rules[0].http.paths[1] (/api)", "HTTPRoute shop spec.rules[1].backendRefs[0] (/api)". */
    where: string;
    /** The Service's namespace: the Ingress's own; the HTTPRoute's unless the backendRef names another. */
    namespace: string;
    service: string;
    /** By number or (Ingress only) by name; an HTTPRoute backendRef without a port has neither. */
    port: IngressBackend["port"];
}

/** Every Service backend of the stack's Ingresses and HTTPRoutes (other kinds of backends are not Services). */
export function readRouteBackends(resources: PolicyResource[], report: StackReport): RouteBackendRef[] {
    const fromIngresses = readIngresses(resources, report).flatMap((ingress) => {
        const route = { kind: "Ingress" as const, name: ingress.name ?? ingress.resource.name, resource: ingress.resource };
        return ingress.backends.map((b) => ({ route, where: `Ingress ${route.name} ${b.where}`, namespace: ingress.namespace, service: b.service, port: b.port }));
    });
    const fromHttpRoutes = readHttpRoutes(resources, report).flatMap((r) => {
        const route = { kind: "HTTPRoute" as const, name: r.name ?? r.resource.name, resource: r.resource };
        return r.rules.flatMap((rule) => rule.backends.filter((b) => b.group === "" && b.kind === "Service").map((b) => ({
            route, where: `HTTPRoute ${route.name} ${b.where} (${rule.paths.join(", ")})`, namespace: b.namespace, service: b.name, port: { number: b.port },
        })));
    });
    return [...fromIngresses, ...fromHttpRoutes];
}

/** The Service and port a route backend names, where the stack defines them. */
export function backendTarget(backend: RouteBackendRef, services: ServiceRef[]): { service?: ServiceRef; port?: ServicePort } {
    const service = services.find((s) => s.namespace === backend.namespace && s.name === backend.service);
    const port = service?.ports.find((p) => (backend.port.name !== undefined ? p.name === backend.port.name : p.port === backend.port.number));
    return { service, port };
}

export function formatBackendPort(port: IngressBackend["port"]): string {
    return port.name !== undefined ? `port "${port.name}"` : `port ${port.number}`;
}
