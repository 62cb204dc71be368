// Reachability: with default-deny, the edge controller still reaches every pod an Ingress or HTTPRoute
// routes to on its target port, and isolated pods may still resolve names and reach their database port.
import { networkPolicyReachability } from "../../policy/rules/reachability";
import { defaultSpec, Spec } from "../fixtures/_lib/spec";
import { policyCases, specResources, UNKNOWN, violationsOf } from "./support";

const policy = (s: Spec, name: string) => s.networkPolicies.find((np) => np.metadata.name === name);
const allowController = (s: Spec) => policy(s, "allow-ingress-controller");
const fromController = (s: Spec) => allowController(s).spec.ingress[0];
const env = (s: Spec, vars: object[]) => { s.tiers.api.deployment.spec.template.spec.containers[0].env = vars; };

policyCases(networkPolicyReachability, [
    {
        title: "no policy admits the ingress controller",
        mutate: (s) => { s.networkPolicies = s.networkPolicies.filter((np) => np !== allowController(s)); },
        expected: [
            "api-deployment: Deployment shop-api serves Ingress shop (Service shop-api, container port http:8080) but its NetworkPolicies (default-deny) admit no traffic from the edge controller (namespace traefik) on that port: every request through the Ingress times out.",
            "web-deployment: Deployment shop-web serves Ingress shop",
        ],
    },
    {
        title: "the controller admitted on another port",
        mutate: (s) => { fromController(s).ports = [{ protocol: "TCP", port: 80 }]; },
        expected: ["api-deployment: Deployment shop-api serves Ingress shop", "web-deployment: Deployment shop-web serves Ingress shop"],
    },
    { title: "admitted on the port by name", mutate: (s) => { fromController(s).ports = [{ port: "http" }]; }, expected: [] },
    { title: "admitted on a port range", mutate: (s) => { fromController(s).ports = [{ port: 8000, endPort: 8100 }]; }, expected: [] },
    {
        title: "a namespaceSelector naming another namespace",
        mutate: (s) => { fromController(s).from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"] = "ingress-nginx"; },
        expected: ["api-deployment: Deployment shop-api serves Ingress shop", "web-deployment: Deployment shop-web serves Ingress shop"],
    },
    {
        title: "a podSelector the controller's pods do not match (full selector semantics)",
        mutate: (s) => { fromController(s).from[0].podSelector = { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["traefik"] }] }; },
        expected: ["api-deployment: Deployment shop-api serves Ingress shop", "web-deployment: Deployment shop-web serves Ingress shop"],
    },
    {
        title: "a podSelector alone only admits pods of the policy's own namespace",
        mutate: (s) => { fromController(s).from = [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } } }]; },
        expected: ["api-deployment: Deployment shop-api serves Ingress shop", "web-deployment: Deployment shop-web serves Ingress shop"],
    },
    {
        title: "the allowing policy selects only the web pods",
        mutate: (s) => { allowController(s).spec.podSelector = { matchLabels: { "app.kubernetes.io/component": "web" } }; },
        expected: ["api-deployment: Deployment shop-api serves Ingress shop"],
    },
    {
        title: "HTTPRoutes alone (no Ingress): the pods behind their backendRefs must admit the controller too",
        mutate: (s) => {
            s.ingress.spec.rules = [];
            s.networkPolicies = s.networkPolicies.filter((np) => np !== allowController(s));
        },
        expected: [
            "api-deployment: Deployment shop-api serves HTTPRoute shop (Service shop-api, container port http:8080) but its NetworkPolicies (default-deny) admit no traffic from the edge controller (namespace traefik) on that port: every request through the HTTPRoute times out.",
            "web-deployment: Deployment shop-web serves HTTPRoute shop",
        ],
    },
    {
        title: "HTTPRoutes alone, the controller admitted: nothing to report",
        mutate: (s) => { s.ingress.spec.rules = []; },
        expected: [],
    },
    {
        title: "without any isolating policy nothing is checked",
        mutate: (s) => { s.networkPolicies = []; },
        expected: [],
    },
    {
        title: "default-deny without DNS egress",
        mutate: (s) => { s.networkPolicies = s.networkPolicies.filter((np) => np !== policy(s, "allow-dns")); },
        expected: [
            "api-deployment: Deployment shop-api is isolated for egress by NetworkPolicy default-deny and no policy allows DNS (UDP 53): it cannot resolve any name.",
            "web-deployment: Deployment shop-web is isolated for egress",
        ],
    },
    {
        title: "DNS over TCP only is not enough",
        mutate: (s) => { policy(s, "allow-dns").spec.egress[0].ports = [{ protocol: "TCP", port: 53 }]; },
        expected: ["api-deployment: Deployment shop-api is isolated for egress", "web-deployment: Deployment shop-web is isolated for egress"],
    },
    {
        title: "a database port without an egress rule",
        mutate: (s) => { env(s, [{ name: "DB_HOST", value: "db" }, { name: "DB_PORT", value: "3306" }]); },
        expected: ["api-deployment: Deployment shop-api connects to its database on port 3306 (DB_PORT) but its NetworkPolicies allow no egress to that port: every database connection times out."],
    },
    {
        title: "a database port with an egress rule passes",
        mutate: (s) => {
            env(s, [{ name: "PGPORT", value: "5432" }]);
            s.networkPolicies.push({
                metadata: { name: "api-to-db", namespace: "shop" },
                spec: { podSelector: { matchLabels: { "app.kubernetes.io/component": "api" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ port: 5432 }] }] },
            });
        },
        expected: [],
    },
    {
        title: "a NetworkPolicy unknown during preview",
        mutate: (s) => { allowController(s).spec.ingress = UNKNOWN; },
        expected: ["netpol-2: NetworkPolicy netpol-2: spec.ingress is unknown during preview; cannot verify"],
    },
]);

test("network-policy-reachability: the controller's namespace and labels come from the policy config", async () => {
    const spec = defaultSpec();
    const resources = specResources(spec);
    const config = { properties: { ingressControllerNamespace: "edge", ingressControllerPodLabels: { app: "haproxy" } } };
    expect(await violationsOf(networkPolicyReachability, resources, config)).toEqual([
        expect.stringContaining("admit no traffic from the edge controller (namespace edge)"),
        expect.stringContaining("admit no traffic from the edge controller (namespace edge)"),
    ]);
});
