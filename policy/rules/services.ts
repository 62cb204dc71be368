// Services and Ingress backends as the routing and reachability policies read them: which pods a
// Service selects (a Service selector is equality on every listed label, in the Service's own
// namespace), which container port each of its targetPorts lands on, and which Service and port
// each Ingress path names. Each resource is read on its own; unknown fields are kept aside.
import type { PolicyResource } from "@pulumi/policy";
import { tryRead, Props, StackReport, unknownMessage } from "./common";
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
export function backendTarget(ingress: IngressRef, backend: IngressBackend, services: ServiceRef[]): { service?: ServiceRef; port?: ServicePort } {
    const service = services.find((s) => s.namespace === ingress.namespace && s.name === backend.service);
    const port = service?.ports.find((p) => (backend.port.name !== undefined ? p.name === backend.port.name : p.port === backend.port.number));
    return { service, port };
}

export function formatBackendPort(port: IngressBackend["port"]): string {
    return port.name !== undefined ? `port "${port.name}"` : `port ${port.number}`;
}
