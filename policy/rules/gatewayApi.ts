// Gateway API objects as the routing and edge policies read them: each Gateway's listeners, and each
// HTTPRoute's parents (Gateways and listeners), rules (paths, backends, timeouts, redirect filters).
// Defaults are the API's own: a parentRef is a Gateway of group gateway.networking.k8s.io in the
// route's namespace; a backendRef is a Service (core group) in the route's namespace.
import type { PolicyResource } from "@pulumi/policy";
import { Props, StackReport, tryRead, unknownMessage } from "./common";
import { nameOf, namespaceOf, TYPES } from "./k8s";
import { displayName } from "./model";

export const GATEWAY_GROUP = "gateway.networking.k8s.io";

export interface ListenerRef {
    name: string;
    protocol: string;
    port?: number;
    hostname?: string;
    /** tls.mode (Terminate by default when tls is set) and how many certificateRefs it names. */
    tls?: { mode: string; certificates: number };
}

export interface GatewayRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    className?: string;
    listeners: ListenerRef[];
}

export interface ParentRef {
    where: string;
    group: string;
    kind: string;
    name: string;
    namespace: string;
    sectionName?: string;
}

export interface RouteBackend {
    where: string;
    group: string;
    kind: string;
    name: string;
    namespace: string;
    port?: number;
}

export interface RouteRule {
    where: string;
    /** PathPrefix/Exact values of the rule's matches ("/" when it has none). */
    paths: string[];
    backends: RouteBackend[];
    timeouts: { request?: string; backendRequest?: string };
    /** Only RequestRedirect filters to https, and no backends: the rule answers every request with a redirect. */
    redirectsToHttps: boolean;
}

export interface HttpRouteRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    hostnames: string[];
    parents: ParentRef[];
    rules: RouteRule[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const list = (v: unknown): Props[] => (Array.isArray(v) ? v : []);

/** Every Gateway of the stack; those with unknown fields are reported and left out. */
export function readGateways(resources: PolicyResource[], report: StackReport): GatewayRef[] {
    return readAll(resources, TYPES.gateway, report, (r): GatewayRef => {
        const spec: Props = r.props.spec ?? {};
        return {
            resource: r,
            name: nameOf(r.props),
            namespace: namespaceOf(r.props, r.provider),
            className: str(spec.gatewayClassName),
            listeners: list(spec.listeners).map((l) => ({
                name: String(l?.name ?? ""),
                protocol: String(l?.protocol ?? ""),
                port: typeof l?.port === "number" ? l.port : undefined,
                hostname: str(l?.hostname),
                tls: l?.tls ? { mode: str(l.tls.mode) ?? "Terminate", certificates: list(l.tls.certificateRefs).length } : undefined,
            })),
        };
    });
}

/** Every HTTPRoute of the stack; those with unknown fields are reported and left out. */
export function readHttpRoutes(resources: PolicyResource[], report: StackReport): HttpRouteRef[] {
    return readAll(resources, TYPES.httpRoute, report, (r): HttpRouteRef => readHttpRoute(r.props, r, namespaceOf(r.props, r.provider)));
}

/** One HTTPRoute's props, read (also used by the single-resource policies). */
export function readHttpRoute(props: Props, resource: PolicyResource | undefined, namespace: string): HttpRouteRef {
    const spec: Props = props.spec ?? {};
    return {
        resource: resource as PolicyResource,
        name: nameOf(props),
        namespace,
        hostnames: (Array.isArray(spec.hostnames) ? spec.hostnames as unknown[] : []).filter((h): h is string => typeof h === "string"),
        parents: list(spec.parentRefs).map((p, i) => ({
            where: `spec.parentRefs[${i}]`,
            group: str(p?.group) ?? GATEWAY_GROUP,
            kind: str(p?.kind) ?? "Gateway",
            name: String(p?.name ?? ""),
            namespace: str(p?.namespace) ?? namespace,
            sectionName: str(p?.sectionName),
        })),
        rules: list(spec.rules).map((rule, i) => {
            const matches = list(rule?.matches);
            const filters = list(rule?.filters);
            const backends = list(rule?.backendRefs).map((b, j): RouteBackend => ({
                where: `spec.rules[${i}].backendRefs[${j}]`,
                group: typeof b?.group === "string" ? b.group : "",
                kind: str(b?.kind) ?? "Service",
                name: String(b?.name ?? ""),
                namespace: str(b?.namespace) ?? namespace,
                port: typeof b?.port === "number" ? b.port : undefined,
            }));
            return {
                where: `spec.rules[${i}]`,
                paths: matches.length === 0 ? ["/"] : matches.map((m) => String(m?.path?.value ?? "/")),
                backends,
                timeouts: { request: str(rule?.timeouts?.request), backendRequest: str(rule?.timeouts?.backendRequest) },
                redirectsToHttps: backends.length === 0 && filters.length > 0
                    && filters.every((f) => f?.type === "RequestRedirect" && f?.requestRedirect?.scheme === "https"),
            };
        }),
    };
}

/** The Gateway a parentRef names, if the stack defines it. */
export function parentGateway(parent: ParentRef, gateways: GatewayRef[]): GatewayRef | undefined {
    return parent.group === GATEWAY_GROUP && parent.kind === "Gateway"
        ? gateways.find((g) => g.namespace === parent.namespace && g.name === parent.name)
        : undefined;
}

/** The listeners of `gateway` a parentRef attaches to: the named section, or every listener. */
export function attachedListeners(parent: ParentRef, gateway: GatewayRef): ListenerRef[] {
    return parent.sectionName === undefined ? gateway.listeners : gateway.listeners.filter((l) => l.name === parent.sectionName);
}

/** A Gateway API Duration ("1h30m", "500ms", "0s") in seconds; undefined if it does not parse. */
export function durationSeconds(value: string): number | undefined {
    const re = /(\d+)(h|ms|m|s)/g;
    let total = 0;
    let consumed = 0;
    for (let m = re.exec(value); m !== null; m = re.exec(value)) {
        total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as "h" | "m" | "s" | "ms"];
        consumed += m[0].length;
    }
    return consumed === value.length && value.length > 0 ? total : undefined;
}

function readAll<T>(resources: PolicyResource[], type: string, report: StackReport, read: (r: PolicyResource) => T): T[] {
    const out: T[] = [];
    for (const r of resources.filter((x) => x.type === type)) {
        const result = tryRead(() => read(r));
        if (result.ok) {
            out.push(result.value);
        } else {
            report(unknownMessage(result.unknown, displayName(r)), r.urn);
        }
    }
    return out;
}
