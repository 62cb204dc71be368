// Edge alone: the NLB (or NodePort) in front of the edge controller, and the routes: a Gateway with
// HTTPRoutes (the default) or an Ingress.
import { Edge, EdgeArgs, LoadBalancerArgs, ROUTE_TIMEOUTS, TRAEFIK_PORTS } from "../../components/edge";
import { recordRegistrations, TYPES, valueOf } from "../support/components";

const recorder = recordRegistrations();
const LB = "service.beta.kubernetes.io/aws-load-balancer";
const CR = "kubernetes:gateway.networking.k8s.io/v1";

const NLB: LoadBalancerArgs = {
    serviceType: "LoadBalancer",
    scheme: "internal",
    sourceRanges: ["10.0.0.0/8"],
    controllerNamespace: "traefik",
    controllerLabels: { "app.kubernetes.io/name": "traefik" },
    awaitLoadBalancer: true,
};

function args(overrides: Partial<EdgeArgs> = {}): EdgeArgs {
    return {
        release: "rel",
        namespace: "kp",
        labels: { team: "ops" },
        host: "kp.example.com",
        className: "traefik",
        tls: { secretName: "kp-tls" },
        frontend: { serviceName: "rel-frontend", port: 80 },
        backend: { serviceName: "rel-backend", port: 8080 },
        loadBalancer: NLB,
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<EdgeArgs> = {}) {
    const edge = new Edge(name, args(overrides));
    await recorder.settle(edge.routeName, edge.loadBalancerServiceName);
    const byName = (type: string, n: string) => recorder.all.filter((r) => r.type === type && r.name === n).map((r) => r.inputs)[0];
    return {
        edge,
        service: recorder.one(TYPES.service, `${name}-nlb`).inputs,
        ingress: byName(TYPES.ingress, `${name}-ingress`),
        gateway: byName(`${CR}:Gateway`, `${name}-gateway`),
        routes: byName(`${CR}:HTTPRoute`, `${name}-routes`),
        redirect: byName(`${CR}:HTTPRoute`, `${name}-redirect`),
    };
}

test("an NLB with pod targets on the controller's ports, the configured scheme and sources, cross-zone on", async () => {
    const { service } = await build("nlb");
    expect(service.spec.type).toBe("LoadBalancer");
    expect(service.metadata.namespace).toBe("traefik");
    expect(service.spec.selector).toEqual(NLB.controllerLabels);
    expect(service.spec.loadBalancerSourceRanges).toEqual(["10.0.0.0/8"]);
    expect(service.spec.ports.map((p: any) => [p.port, p.targetPort])).toEqual([[80, TRAEFIK_PORTS.http], [443, TRAEFIK_PORTS.https]]);
    const annotations = service.metadata.annotations;
    expect(annotations[`${LB}-scheme`]).toBe("internal");
    expect(annotations[`${LB}-nlb-target-type`]).toBe("ip");
    expect(annotations[`${LB}-attributes`]).toContain("load_balancing.cross_zone.enabled=true");
    expect(annotations[`${LB}-healthcheck-port`]).toBe(String(TRAEFIK_PORTS.healthCheck.port));
    expect(annotations["pulumi.com/skipAwait"]).toBeUndefined();
});

test("the Gateway terminates TLS with the stack's certificate for the host; HTTP only redirects to HTTPS", async () => {
    const { gateway, redirect, routes, edge } = await build("gw");
    expect(gateway.spec.gatewayClassName).toBe("traefik");
    const listeners = Object.fromEntries(gateway.spec.listeners.map((l: any) => [l.name, l]));
    expect(listeners.https).toMatchObject({ protocol: "HTTPS", port: TRAEFIK_PORTS.https, hostname: "kp.example.com",
        tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "kp-tls" }] } });
    expect(listeners.http).toMatchObject({ protocol: "HTTP", port: TRAEFIK_PORTS.http });
    expect(redirect.spec.parentRefs).toEqual([expect.objectContaining({ name: gateway.metadata.name, sectionName: "http" })]);
    expect(redirect.spec.rules).toEqual([{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }]);
    // The app is only on the HTTPS listener.
    expect(routes.spec.parentRefs).toEqual([expect.objectContaining({ name: gateway.metadata.name, sectionName: "https" })]);
    expect(await valueOf(edge.url)).toBe("https://kp.example.com");
});

test("the HTTPRoute sends /api and /ws to the backend and the rest to the frontend; WebSockets have no timeout", async () => {
    const { routes } = await build("paths");
    expect(routes.spec.hostnames).toEqual(["kp.example.com"]);
    const byPath = Object.fromEntries(routes.spec.rules.map((r: any) => [r.matches[0].path.value, r]));
    const target = (path: string) => byPath[path].backendRefs.map((b: any) => `${b.name}:${b.port}`);
    expect({ api: target("/api"), ws: target("/ws"), root: target("/") })
        .toEqual({ api: ["rel-backend:8080"], ws: ["rel-backend:8080"], root: ["rel-frontend:80"] });
    expect(byPath["/ws"].timeouts.request).toBe("0s");
    expect(byPath["/api"].timeouts.request).toBe(ROUTE_TIMEOUTS.api);
    // Nothing keeps a client on one pod: no session persistence on any rule.
    expect(routes.spec.rules.filter((r: any) => r.sessionPersistence !== undefined)).toEqual([]);
});

test("a plain-HTTP edge (the local stack) has one HTTP listener carrying the app, and no redirect", async () => {
    const { gateway, routes, redirect, edge } = await build("plain", { https: false });
    expect(gateway.spec.listeners.map((l: any) => l.protocol)).toEqual(["HTTP"]);
    expect(routes.spec.parentRefs[0].sectionName).toBe("http");
    expect(redirect).toBeUndefined();
    expect(await valueOf(edge.url)).toBe("http://kp.example.com");
});

test("the controller is never assumed: the GatewayClass or IngressClass is read, and the routes wait for it", async () => {
    const reads = () => recorder.all.filter((r) => r.name.endsWith("-gatewayclass") || r.name.endsWith("-ingressclass")).map((r) => r.name);
    await build("check-gw");
    await build("check-ing", { kind: "ingress", className: "haproxy" });
    expect(reads()).toEqual(expect.arrayContaining(["check-gw-gatewayclass", "check-ing-ingressclass"]));
    await build("render", { verifyClass: false });
    expect(reads().filter((n) => n.startsWith("render-"))).toEqual([]);
});

test("a NodePort edge carries no NLB settings, and nothing waits for an address no one will publish", async () => {
    const { service, gateway, routes } = await build("nodeport", { loadBalancer: { ...NLB, serviceType: "NodePort", awaitLoadBalancer: false } });
    expect(service.spec.type).toBe("NodePort");
    expect(service.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(Object.keys(service.metadata.annotations).filter((key) => key.startsWith(LB))).toEqual([]);
    for (const r of [service, gateway, routes]) {
        expect(r.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    }
});

test("the Ingress edge: the API and WebSockets to the backend, the rest to the frontend, TLS for the host", async () => {
    const { ingress, gateway, edge } = await build("routes", { kind: "ingress", className: "haproxy" });
    expect(gateway).toBeUndefined();
    expect(ingress.spec.ingressClassName).toBe("haproxy");
    const [rule] = ingress.spec.rules;
    expect(rule.host).toBe("kp.example.com");
    const routes = Object.fromEntries(rule.http.paths.map((p: any) => [p.path, `${p.backend.service.name}:${p.backend.service.port.number}`]));
    expect(routes).toEqual({ "/api": "rel-backend:8080", "/ws": "rel-backend:8080", "/": "rel-frontend:80" });
    expect(ingress.spec.tls).toEqual([{ hosts: ["kp.example.com"], secretName: "kp-tls" }]);
    expect(await valueOf(edge.url)).toBe("https://kp.example.com");
});

test("Ingress WebSockets stay open for an hour idle, and no cookie pins a browser to one pod", async () => {
    const annotations = (await build("websockets", { kind: "ingress" })).ingress.metadata.annotations;
    for (const timeout of ["proxy-read-timeout", "proxy-send-timeout"]) {
        expect(Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`])).toBeGreaterThanOrEqual(3600);
    }
    // Connecting to a dead pod must fail over quickly, not hang for the idle timeout.
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-connect-timeout"])).toBeLessThanOrEqual(30);
    expect(Object.keys(annotations).filter((k) => /affinity|session-cookie/.test(k))).toEqual([]);
    expect(annotations["nginx.ingress.kubernetes.io/websocket-services"]).toBeUndefined();
});

test("cert-manager issues the TLS Secret only when a ClusterIssuer is named, on either edge", async () => {
    const issued = await build("issuer", { tls: { secretName: "kp-tls", clusterIssuer: "letsencrypt" } });
    expect(issued.gateway.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    const issuedIngress = await build("issuer-ing", { kind: "ingress", tls: { secretName: "kp-tls", clusterIssuer: "letsencrypt" } });
    expect(issuedIngress.ingress.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    const existing = (await build("existing")).gateway.metadata.annotations;
    expect(existing["cert-manager.io/cluster-issuer"]).toBeUndefined();
});
