// The way in: the HA guide's checklist items 负载均衡配置 (load balancing) and SSL/TLS 证书. Every
// host the Ingress serves is covered by a certificate, the AWS NLB spreads traffic across zones
// (off by default on NLBs), and the guide's `websocket-services` annotation — which ingress-nginx
// does not have — is flagged.
import { Props, resourcePolicy, schema, stackPolicy } from "./common";
import { namespaceOf, TYPES } from "./k8s";
import { attachedListeners, durationSeconds, parentGateway, readGateways, readHttpRoute, readHttpRoutes } from "./gatewayApi";

/** Does TLS host `pattern` (possibly "*.example.com") cover `host`? DNS names compare case-insensitively. */
export function tlsHostCovers(pattern: string, host: string): boolean {
    const p = pattern.toLowerCase().replace(/\.$/, "");
    const h = host.toLowerCase().replace(/\.$/, "");
    if (p === h) {
        return true;
    }
    // A wildcard certificate name covers exactly one leftmost label, never the apex or two labels.
    if (p.startsWith("*.") && !h.startsWith("*.")) {
        const suffix = p.slice(1); // ".example.com"
        const first = h.slice(0, h.length - suffix.length);
        return h.endsWith(suffix) && first.length > 0 && !first.includes(".");
    }
    return false;
}

export const ingressTls = resourcePolicy({
    name: "ingress-tls",
    description: "Every host an Ingress routes is covered by its TLS section (spec.tls[].hosts lists it, or a wildcard "
        + "such as *.example.com covers it), every TLS entry names its certificate Secret (when `requireSecretName`), "
        + "and no rule omits its host (such a rule answers every name, with no certificate to match). Fix: add "
        + "spec.tls: [{ hosts: [<host>], secretName: <secret> }] (cert-manager fills the Secret).",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            requireSecretName: { type: "boolean", default: true, description: "Every spec.tls entry must set secretName." },
        },
    },
    types: [TYPES.ingress],
    validate(props, args, report) {
        const { requireSecretName } = args.getConfig<{ requireSecretName: boolean }>();
        const spec: Props = props.spec ?? {};
        const tls: Props[] = Array.isArray(spec.tls) ? spec.tls : [];
        const tlsHosts: string[] = tls.flatMap((t) => (Array.isArray(t?.hosts) ? t.hosts : []));
        const rules: Props[] = Array.isArray(spec.rules) ? spec.rules : [];
        if (rules.length === 0) {
            report(spec.defaultBackend
                ? "routes only a defaultBackend, without a host: TLS cannot be matched to it. Add a rule per host and cover each in spec.tls."
                : "has no rules.");
        }
        for (const [i, rule] of rules.entries()) {
            const host = rule?.host;
            if (typeof host !== "string" || host === "") {
                report(`rules[${i}] has no host: it answers every host name over plain HTTP. Name the host and cover it in spec.tls.`);
            } else if (!tlsHosts.some((pattern) => typeof pattern === "string" && tlsHostCovers(pattern, host))) {
                report(`host ${host} is not covered by spec.tls${tlsHosts.length > 0 ? ` (TLS hosts: ${tlsHosts.join(", ")})` : " (there is none)"}: `
                    + "it is served over plain HTTP.");
            }
        }
        if (requireSecretName) {
            for (const [i, entry] of tls.entries()) {
                if (typeof entry?.secretName !== "string" || entry.secretName === "") {
                    report(`spec.tls[${i}] has no secretName: the controller would serve its default (self-signed) certificate.`);
                }
            }
        }
    },
});

export const CROSS_ZONE_ATTRIBUTES = "service.beta.kubernetes.io/aws-load-balancer-attributes";
export const CROSS_ZONE_LEGACY = "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";
const CROSS_ZONE_KEY = "load_balancing.cross_zone.enabled";

/** Parses "k1=v1,k2=v2" (the AWS Load Balancer Controller's attribute list). */
function parseAttributes(value: string): Map<string, string> {
    const result = new Map<string, string>();
    for (const pair of value.split(",")) {
        const at = pair.indexOf("=");
        if (at > 0) {
            result.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
        }
    }
    return result;
}

export const LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type";

/** An NLB: the aws-load-balancer-type annotation ("nlb", or "external" for the AWS Load Balancer Controller) or its NLB class. */
function isNlb(props: Props): boolean {
    const type = props.metadata?.annotations?.[LB_TYPE];
    return type === "nlb" || type === "external" || props.spec?.loadBalancerClass === "service.k8s.aws/nlb";
}

export const serviceNlbCrossZone = resourcePolicy({
    name: "service-nlb-cross-zone",
    description: "Every LoadBalancer Service (on EKS: an NLB, or a classic ELB from the in-tree controller) enables "
        + "cross-zone load balancing, which NLBs leave off by default: otherwise a zone with fewer ready targets gets "
        + "the same share of traffic as the others, and a zone with none drops its share. Fix: annotate "
        + `${CROSS_ZONE_ATTRIBUTES}: "${CROSS_ZONE_KEY}=true" (or the legacy ${CROSS_ZONE_LEGACY}: "true"). `
        + "Services with a non-AWS spec.loadBalancerClass are skipped.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [TYPES.service],
    validate(props, args, report) {
        const spec: Props = props.spec ?? {};
        if (spec.type !== "LoadBalancer") {
            args.notApplicable("only LoadBalancer Services provision a load balancer");
        }
        const lbClass = spec.loadBalancerClass;
        if (typeof lbClass === "string" && lbClass !== "" && !lbClass.startsWith("service.k8s.aws/")) {
            args.notApplicable(`loadBalancerClass ${lbClass} is not an AWS load balancer controller`);
        }
        const annotations: Props = props.metadata?.annotations ?? {};
        const attributes = annotations[CROSS_ZONE_ATTRIBUTES];
        if (typeof attributes === "string" && parseAttributes(attributes).has(CROSS_ZONE_KEY)) {
            const value = parseAttributes(attributes).get(CROSS_ZONE_KEY);
            if (value?.toLowerCase() !== "true") {
                report(`${CROSS_ZONE_ATTRIBUTES} sets ${CROSS_ZONE_KEY}=${value}; it must be true.`);
            }
            return;
        }
        const legacy = annotations[CROSS_ZONE_LEGACY];
        if (typeof legacy === "string" && legacy.toLowerCase() === "true") {
            return;
        }
        report(legacy !== undefined
            ? `${CROSS_ZONE_LEGACY} is "${legacy}"; cross-zone load balancing stays off.`
            : `cross-zone load balancing is not enabled (no ${CROSS_ZONE_KEY}=true in ${CROSS_ZONE_ATTRIBUTES}); `
                + `${isNlb(props) ? "NLBs leave" : "the Classic ELB AWS creates for a LoadBalancer Service without an NLB annotation or class leaves"} it off by default.`);
    },
});

export const WEBSOCKET_SERVICES = "nginx.ingress.kubernetes.io/websocket-services";

export const ingressNoWebsocketServicesAnnotation = resourcePolicy({
    name: "ingress-no-websocket-services-annotation",
    description: `The annotation ${WEBSOCKET_SERVICES} (from nginx-inc's controller and old guides) is not an `
        + "ingress-nginx annotation and does nothing: ingress-nginx proxies WebSocket upgrades on its own. What "
        + "long-lived WebSockets need is long proxy timeouts. Fix: remove it and set "
        + "nginx.ingress.kubernetes.io/proxy-read-timeout and proxy-send-timeout (e.g. \"3600\").",
    enforcementLevel: "advisory",
    severity: "low",
    types: [TYPES.ingress],
    validate(props, _args, report) {
        const annotations: Props = props.metadata?.annotations ?? {};
        if (Object.prototype.hasOwnProperty.call(annotations, WEBSOCKET_SERVICES)) {
            report(`has ${WEBSOCKET_SERVICES}, which ingress-nginx ignores; set proxy-read-timeout/proxy-send-timeout for WebSockets instead.`);
        }
    },
});

export const gatewayListenerTls = stackPolicy({
    name: "gateway-listener-tls",
    description: "Every Gateway of the stack terminates TLS: it has an HTTPS listener whose tls names a certificate "
        + "(certificateRefs) for each hostname its routes serve, and no HTTPRoute sends traffic to a backend through a "
        + "plain-HTTP listener (on HTTP a route may only redirect to https, a RequestRedirect filter with scheme https). "
        + "Otherwise logins and the JWT cross the network in clear text. Fix: an HTTPS listener with "
        + "tls: { mode: Terminate, certificateRefs: [{ kind: Secret, name: <secret> }] }, the app's routes attached to it "
        + "by sectionName, and the HTTP listener carrying only a redirect route. Mandatory on staging and prod; the "
        + "local stack serves plain HTTP and disables it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const gateways = readGateways(resources, report);
        for (const g of gateways) {
            const https = g.listeners.filter((l) => l.protocol === "HTTPS");
            if (https.length === 0) {
                report(`Gateway ${g.name ?? g.resource.name} has no HTTPS listener (listeners: `
                    + `${g.listeners.map((l) => `${l.name}:${l.protocol}`).join(", ") || "none"}): everything it serves is plain HTTP.`, g.resource.urn);
            }
            for (const l of https) {
                if (!l.tls || l.tls.mode !== "Terminate" || l.tls.certificates === 0) {
                    report(`Gateway ${g.name ?? g.resource.name} listener "${l.name}" is HTTPS without a certificate to terminate TLS with `
                        + "(tls.mode Terminate and tls.certificateRefs): it is not programmed, or serves a default certificate.", g.resource.urn);
                }
            }
        }
        for (const route of readHttpRoutes(resources, report)) {
            for (const parent of route.parents) {
                const gateway = parentGateway(parent, gateways);
                const plain = gateway ? attachedListeners(parent, gateway).filter((l) => l.protocol === "HTTP") : [];
                const served = route.rules.filter((r) => !r.redirectsToHttps);
                if (plain.length > 0 && served.length > 0) {
                    report(`HTTPRoute ${route.name ?? route.resource.name} sends ${served.map((r) => r.paths.join(", ")).join("; ")} to backends `
                        + `through plain-HTTP listener ${plain.map((l) => `"${l.name}"`).join(", ")} of Gateway ${gateway!.name}: attach it to the `
                        + "HTTPS listener (parentRefs[].sectionName) and leave HTTP to a redirect.", route.resource.urn);
                }
            }
        }
    },
});

export const httpRouteWebsocketTimeouts = resourcePolicy({
    name: "httproute-websocket-timeouts",
    description: "An HTTPRoute rule for the WebSocket paths (`websocketPaths`, default /ws) sets timeouts.request "
        + "explicitly, to \"0s\" (no timeout) or at least `minSeconds` (default 3600): a WebSocket is one request that "
        + "lasts the whole terminal or log session. Left unset, the implementation's default applies (Envoy-based "
        + "controllers default to 15 s per request), and a short one cuts every session. timeouts.backendRequest "
        + "likewise. Fix: timeouts: { request: \"0s\" } on the /ws rule.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            websocketPaths: schema.stringList("Path prefixes that carry WebSockets.", ["/ws"]),
            minSeconds: schema.integer("Shortest acceptable non-zero request timeout for a WebSocket rule, in seconds.", 3600, 1),
        },
    },
    types: [TYPES.httpRoute],
    validate(props, args, report) {
        const { websocketPaths, minSeconds } = args.getConfig<{ websocketPaths: string[]; minSeconds: number }>();
        const route = readHttpRoute(props, undefined, namespaceOf(props));
        const isWs = (path: string) => websocketPaths.some((ws) => path === ws || path.startsWith(`${ws.replace(/\/$/, "")}/`));
        for (const rule of route.rules) {
            if (rule.backends.length === 0 || !rule.paths.some(isWs)) {
                continue;
            }
            for (const key of ["request", "backendRequest"] as const) {
                const value = rule.timeouts[key];
                const seconds = value === undefined ? undefined : durationSeconds(value);
                if (value === undefined && key === "request") {
                    report(`${rule.where} (${rule.paths.join(", ")}) carries WebSockets with no timeouts.request: the controller's default applies `
                        + `(Envoy-based ones cut requests at 15 s). Set it to "0s" or at least ${minSeconds}s.`);
                } else if (value !== undefined && seconds !== 0 && (seconds === undefined || seconds < minSeconds)) {
                    report(`${rule.where} (${rule.paths.join(", ")}) carries WebSockets with timeouts.${key} ${value}: every terminal and log `
                        + `session is cut after it. Set it to "0s" or at least ${minSeconds}s.`);
                }
            }
        }
    },
});

/** Ingress controllers that no longer get fixes, with what to say about them. */
export const RETIRED_INGRESS_CONTROLLERS: Record<string, string> = {
    "k8s.io/ingress-nginx": "the community ingress-nginx controller was retired by Kubernetes SIG Network: best-effort "
        + "maintenance ended in March 2026, with no releases, bug fixes or security patches since",
};

export const ingressRetiredController = resourcePolicy({
    name: "ingress-retired-controller",
    description: "An Ingress (or IngressClass) targets a retired controller: by default the class names "
        + "`retiredClassNames` (\"nginx\", ingress-nginx's usual class) or an IngressClass whose spec.controller is "
        + "k8s.io/ingress-nginx. Kubernetes SIG Network retired ingress-nginx: maintenance ended in March 2026 and "
        + "there are no security patches since, so an internet-facing edge built on it starts unpatched. Fix: the "
        + "Gateway API edge (edge.kind gateway, docs/edge.md) or a maintained Ingress controller's class. Advisory "
        + "everywhere unless a stack's policy config makes it mandatory.",
    enforcementLevel: "advisory",
    severity: "medium",
    configSchema: {
        properties: {
            retiredClassNames: schema.stringList("IngressClass names that mean a retired controller.", ["nginx"]),
        },
    },
    types: [TYPES.ingress, TYPES.ingressClass],
    validate(props, args, report) {
        const { retiredClassNames } = args.getConfig<{ retiredClassNames: string[] }>();
        const spec: Props = props.spec ?? {};
        if (args.type === TYPES.ingressClass) {
            const why = RETIRED_INGRESS_CONTROLLERS[spec.controller];
            if (why !== undefined) {
                report(`IngressClass for controller ${spec.controller}: ${why}.`);
            }
            return;
        }
        const annotations: Props = props.metadata?.annotations ?? {};
        const className = spec.ingressClassName ?? annotations["kubernetes.io/ingress.class"];
        if (typeof className === "string" && retiredClassNames.includes(className)) {
            report(`targets IngressClass "${className}", the retired ingress-nginx controller's: `
                + `${RETIRED_INGRESS_CONTROLLERS["k8s.io/ingress-nginx"]}. Move to the Gateway API edge or a maintained Ingress controller.`);
        }
    },
});

export const edgePolicies = [ingressTls, serviceNlbCrossZone, ingressNoWebsocketServicesAnnotation, gatewayListenerTls,
    httpRouteWebsocketTimeouts, ingressRetiredController];
