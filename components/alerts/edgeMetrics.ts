// Where the backend's requests are measured: the edge controller's own Prometheus metrics, for the
// route the program creates. Pure: PromQL selectors only. The names below are read from the
// controllers' source (docs/alerts.md, "Edge metrics"):
// - Traefik v3.7.13 (pkg/observability/metrics/prometheus.go): traefik_service_requests_total
//   {code, method, protocol, service} and the histogram traefik_service_request_duration_seconds
//   (same labels; default buckets 0.1, 0.3, 1.2, 5 s), recorded per load-balancer service
//   (pkg/server/service/service.go), on by default (addServicesLabels). `service` is the service's
//   qualified name, `<name>@<provider>`:
//     - Gateway API (pkg/provider/kubernetes/gateway): one service per HTTPRoute rule and backendRef,
//       `<router>-svc-<namespace>-<Service>-<backendRef index>@kubernetesgateway`, where router is
//       `httproute-<route ns>-<route>-gw-<gateway ns>-<gateway>-ep-<entry point>-<rule index>-<20 hex>`
//       with that prefix passed through provider.Normalize (every run of non-alphanumerics becomes
//       one "-") and the hex the first 10 bytes of a SHA-256 over those names and the rule's match;
//     - Ingress (pkg/provider/kubernetes/ingress): `Normalize(<namespace>-<Service>-<port>)@kubernetes`.
//   `protocol` is "websocket" for an upgrade (pkg/middlewares/metrics), so WebSockets under /ws,
//   which last as long as the session, are left out by it.
// - ingress-nginx: nginx_ingress_controller_requests{status, ingress, service, path, namespace} and
//   nginx_ingress_controller_request_duration_seconds; WebSockets are left out by path.
//
// Scrapes rename a metric's own labels that clash with the target's: a ServiceMonitor sets the
// target's `namespace` and `service` (the metric's become exported_namespace/exported_service), a
// PodMonitor only `namespace`, honorLabels neither. A selector here is one branch per shape.

/** Edge controllers whose request metrics the alerts can read (config `monitoring.edgeMetrics`). */
export const EDGE_METRICS_SOURCES = ["traefik", "ingress-nginx"] as const;
export type EdgeMetricsSource = (typeof EDGE_METRICS_SOURCES)[number];

/** The route the edge alerts watch, by the controller serving it (from the stack's config). */
export type EdgeTarget =
    | { controller: "traefik"; kind: "gateway"; gateway: string; route: string; backendService: string }
    | { controller: "traefik"; kind: "ingress"; route: string; backendService: string; backendPort: number }
    | { controller: "ingress-nginx"; kind: "ingress"; route: string; backendService: string };

/** Each controller's request counter and latency histogram, and the label holding the status code. */
export const EDGE_METRICS: Record<EdgeMetricsSource, { requests: string; duration: string; status: string }> = {
    traefik: { requests: "traefik_service_requests_total", duration: "traefik_service_request_duration_seconds", status: "code" },
    "ingress-nginx": { requests: "nginx_ingress_controller_requests", duration: "nginx_ingress_controller_request_duration_seconds", status: "status" },
};

/** Traefik's provider names: the `@<provider>` suffix of a service's qualified name. */
export const TRAEFIK_PROVIDERS = { gateway: "kubernetesgateway", ingress: "kubernetes" } as const;

/** Traefik's provider.Normalize: every run of characters that are not letters or digits becomes one "-". */
export function traefikNormalize(name: string): string {
    return name.split(/[^\p{L}\p{N}]+/u).filter((part) => part !== "").join("-");
}

/** A regex matching the `service` label of every Traefik service behind the route that sends to the backend Service. */
export function traefikBackendServices(edge: Extract<EdgeTarget, { controller: "traefik" }>, namespace: string): string {
    if (edge.kind === "ingress") {
        return escapeRegex(`${traefikNormalize(`${namespace}-${edge.backendService}-${edge.backendPort}`)}@${TRAEFIK_PROVIDERS.ingress}`);
    }
    const router = traefikNormalize(`httproute-${namespace}-${edge.route}-gw-${namespace}-${edge.gateway}-ep-`);
    // Any entry point and rule (the /api, /ws and any future backend rule): WebSockets go by `protocol`.
    return `${escapeRegex(router)}-[^@]+-[0-9a-f]{20}-svc-${escapeRegex(`${namespace}-${edge.backendService}`)}-[0-9]+@${TRAEFIK_PROVIDERS.gateway}`;
}

/** What the edge alerts say they measure: "HTTPRoute kubepolaris/kubepolaris (Traefik)". */
export function edgeRouteDescription(edge: EdgeTarget, namespace: string): string {
    const controller = edge.controller === "traefik" ? "Traefik" : "ingress-nginx";
    return `${edge.kind === "gateway" ? "HTTPRoute" : "Ingress"} ${namespace}/${edge.route} (${controller})`;
}

/**
 * The rates of the backend's requests through the route, WebSockets left out, one `rate(...)` per
 * scrape shape joined by `or`; `extra` adds matchers (`statusMatcher` for the 5xx answers).
 */
export function edgeRequestRates(edge: EdgeTarget, namespace: string, metric: string, window: string, extra: string[] = []): string {
    const { own, clashing } = edge.controller === "traefik"
        ? { own: [nre("protocol", "websocket"), ...extra], clashing: { service: re("service", traefikBackendServices(edge, namespace)) } }
        : {
            own: [eq("ingress", edge.route), nre("path", "/ws.*"), ...extra],
            clashing: { namespace: eq("namespace", namespace), service: eq("service", edge.backendService) },
        };
    return scrapeShapes(own, clashing).map((s) => `rate(${metric}${s}[${window}])`).join("\n    or\n    ");
}

/** The matcher for a 5xx answer in the controller's status label. */
export function statusMatcher(edge: EdgeTarget): string {
    return re(EDGE_METRICS[edge.controller].status, "5..");
}

/** Which of a metric's own labels a scrape renames to exported_<label>: ServiceMonitor, PodMonitor, honorLabels. */
const SCRAPE_SHAPES: readonly (readonly string[])[] = [["namespace", "service"], ["namespace"], []];

/**
 * One selector per scrape shape: a clashing label renamed is matched as exported_<label>; one kept is
 * matched as itself with exported_<label> empty, so no series matches two branches.
 */
function scrapeShapes(own: string[], clashing: Record<string, string>): string[] {
    const selectors = SCRAPE_SHAPES.map((renamed) => {
        const matchers = Object.entries(clashing).flatMap(([label, matcher]) => renamed.includes(label)
            ? [`exported_${matcher}`]
            : [matcher, eq(`exported_${label}`, "")]);
        return `{${[...own, ...matchers].join(", ")}}`;
    });
    return [...new Set(selectors)];
}

// --- PromQL matchers ---------------------------------------------------------------------------

export function quote(value: string): string {
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function escapeRegex(value: string): string {
    return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function eq(label: string, value: string): string {
    return `${label}=${quote(value)}`;
}

export function re(label: string, regex: string): string {
    return `${label}=~${quote(regex)}`;
}

export function nre(label: string, regex: string): string {
    return `${label}!~${quote(regex)}`;
}
