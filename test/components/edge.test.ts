// Edge alone: the NLB (or NodePort) in front of ingress-nginx and the Ingress routes.
import { Edge, EdgeArgs, LoadBalancerArgs } from "../../components/edge";
import { recordRegistrations, TYPES } from "../support/components";

const recorder = recordRegistrations();
const LB = "service.beta.kubernetes.io/aws-load-balancer";

const NLB: LoadBalancerArgs = {
    serviceType: "LoadBalancer",
    scheme: "internal",
    sourceRanges: ["10.0.0.0/8"],
    controllerNamespace: "ingress-nginx",
    controllerLabels: { "app.kubernetes.io/name": "ingress-nginx" },
    awaitLoadBalancer: true,
};

function args(overrides: Partial<EdgeArgs> = {}): EdgeArgs {
    return {
        release: "rel",
        namespace: "kp",
        labels: { team: "ops" },
        host: "kp.example.com",
        tls: { secretName: "kp-tls" },
        frontend: { serviceName: "rel-frontend", port: 80 },
        backend: { serviceName: "rel-backend", port: 8080 },
        loadBalancer: NLB,
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<EdgeArgs> = {}) {
    const edge = new Edge(name, args(overrides));
    await recorder.settle(edge.ingressName, edge.loadBalancerServiceName);
    return {
        edge,
        service: recorder.one(TYPES.service, `${name}-nlb`).inputs,
        ingress: recorder.one(TYPES.ingress, `${name}-ingress`).inputs,
    };
}

test("an NLB with pod targets, the configured scheme and sources, and cross-zone load balancing on", async () => {
    const { service } = await build("nlb");
    expect(service.spec.type).toBe("LoadBalancer");
    expect(service.metadata.namespace).toBe("ingress-nginx");
    expect(service.spec.selector).toEqual(NLB.controllerLabels);
    expect(service.spec.loadBalancerSourceRanges).toEqual(["10.0.0.0/8"]);
    const annotations = service.metadata.annotations;
    expect(annotations[`${LB}-scheme`]).toBe("internal");
    expect(annotations[`${LB}-nlb-target-type`]).toBe("ip");
    expect(annotations[`${LB}-attributes`]).toContain("load_balancing.cross_zone.enabled=true");
    expect(annotations["pulumi.com/skipAwait"]).toBeUndefined();
});

test("a NodePort edge carries no NLB settings, and nothing waits for an address no one will publish", async () => {
    const { service, ingress } = await build("nodeport", { loadBalancer: { ...NLB, serviceType: "NodePort", awaitLoadBalancer: false } });
    expect(service.spec.type).toBe("NodePort");
    expect(service.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(Object.keys(service.metadata.annotations).filter((key) => key.startsWith(LB))).toEqual([]);
    expect(service.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    expect(ingress.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
});

test("the API and WebSockets go to the backend, everything else to the frontend, over TLS for the host", async () => {
    const { ingress, edge } = await build("routes");
    const [rule] = ingress.spec.rules;
    expect(rule.host).toBe("kp.example.com");
    const routes = Object.fromEntries(rule.http.paths.map((p: any) => [p.path, `${p.backend.service.name}:${p.backend.service.port.number}`]));
    expect(routes).toEqual({ "/api": "rel-backend:8080", "/ws": "rel-backend:8080", "/": "rel-frontend:80" });
    expect(ingress.spec.tls).toEqual([{ hosts: ["kp.example.com"], secretName: "kp-tls" }]);
    expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"]).toBe("true");
    expect(edge.url).toBe("https://kp.example.com");
});

test("WebSockets stay open for an hour idle, and a browser sticks to one backend pod", async () => {
    const annotations = (await build("websockets")).ingress.metadata.annotations;
    for (const timeout of ["proxy-read-timeout", "proxy-send-timeout"]) {
        expect(Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`])).toBeGreaterThanOrEqual(3600);
    }
    // Connecting to a dead pod must fail over quickly, not hang for the idle timeout.
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-connect-timeout"])).toBeLessThanOrEqual(30);
    expect(annotations["nginx.ingress.kubernetes.io/affinity"]).toBe("cookie");
    expect(annotations["nginx.ingress.kubernetes.io/websocket-services"]).toBeUndefined();
});

test("cert-manager issues the TLS Secret only when a ClusterIssuer is named", async () => {
    const issued = (await build("issuer", { tls: { secretName: "kp-tls", clusterIssuer: "letsencrypt" } })).ingress.metadata.annotations;
    expect(issued["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    const existing = (await build("existing")).ingress.metadata.annotations;
    expect(existing["cert-manager.io/cluster-issuer"]).toBeUndefined();
});
