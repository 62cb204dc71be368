// Edge policies: TLS on every Ingress host, cross-zone NLBs, the non-existent websocket annotation.
import { ingressNoWebsocketServicesAnnotation, ingressTls, serviceNlbCrossZone, tlsHostCovers } from "../../policy/rules/edge";
import { defaultSpec } from "../fixtures/_lib/spec";
import { evaluate, policyCases, specResources } from "./support";

const ATTRIBUTES = "service.beta.kubernetes.io/aws-load-balancer-attributes";
const LEGACY = "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";

policyCases(ingressTls, [
    { title: "no TLS section", mutate: (s) => { delete s.ingress.spec.tls; }, expected: ["ingress: host shop.example.com is not covered by spec.tls (there is none): it is served over plain HTTP."] },
    { title: "TLS for another host", mutate: (s) => { s.ingress.spec.tls[0].hosts = ["www.example.com"]; }, expected: ["host shop.example.com is not covered by spec.tls (TLS hosts: www.example.com)"] },
    { title: "a wildcard certificate covers the host", mutate: (s) => { s.ingress.spec.tls[0].hosts = ["*.example.com"]; }, expected: [] },
    { title: "TLS host names compare case-insensitively", mutate: (s) => { s.ingress.spec.tls[0].hosts = ["SHOP.Example.com"]; }, expected: [] },
    {
        title: "a second host without TLS",
        mutate: (s) => { s.ingress.spec.rules.push({ host: "admin.example.com", http: s.ingress.spec.rules[0].http }); },
        expected: ["ingress: host admin.example.com is not covered by spec.tls"],
    },
    { title: "a rule without host", mutate: (s) => { delete s.ingress.spec.rules[0].host; }, expected: ["ingress: rules[0] has no host: it answers every host name over plain HTTP."] },
    { title: "a TLS entry without secretName", mutate: (s) => { delete s.ingress.spec.tls[0].secretName; }, expected: ["ingress: spec.tls[0] has no secretName"] },
    { title: "no secretName where the config allows it", mutate: (s) => { delete s.ingress.spec.tls[0].secretName; }, config: { properties: { requireSecretName: false } }, expected: [] },
    { title: "only a default backend", mutate: (s) => { s.ingress.spec.rules = []; s.ingress.spec.defaultBackend = { service: { name: "shop-web", port: { number: 80 } } }; }, expected: ["routes only a defaultBackend"] },
]);

test.each([
    ["shop.example.com", "shop.example.com", true],
    ["*.example.com", "shop.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "a.b.example.com", false],
    ["*.example.com", "*.example.com", true],
    ["shop.example.com", "*.example.com", false],
    ["shop.example.com.", "SHOP.example.com", true],
    ["*.example.com", "shop.example.org", false],
])("tlsHostCovers(%p, %p) = %p", (pattern, host, expected) => {
    expect(tlsHostCovers(pattern, host)).toBe(expected);
});

policyCases(serviceNlbCrossZone, [
    { title: "no cross-zone attribute", mutate: (s) => { delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; }, expected: ["nlb: cross-zone load balancing is not enabled (no load_balancing.cross_zone.enabled=true in service.beta.kubernetes.io/aws-load-balancer-attributes); NLBs leave it off by default."] },
    {
        title: "a plain LoadBalancer Service (no NLB annotation) is not called an NLB",
        mutate: (s) => { s.loadBalancer.metadata.annotations = {}; },
        expected: ["nlb: cross-zone load balancing is not enabled (no load_balancing.cross_zone.enabled=true in service.beta.kubernetes.io/aws-load-balancer-attributes); the Classic ELB AWS creates for a LoadBalancer Service without an NLB annotation or class leaves it off by default."],
    },
    { title: "cross-zone explicitly false", mutate: (s) => { s.loadBalancer.metadata.annotations[ATTRIBUTES] = "load_balancing.cross_zone.enabled=false"; }, expected: ["nlb: service.beta.kubernetes.io/aws-load-balancer-attributes sets load_balancing.cross_zone.enabled=false; it must be true."] },
    {
        title: "among other attributes, with spaces",
        mutate: (s) => { s.loadBalancer.metadata.annotations[ATTRIBUTES] = "deletion_protection.enabled=true, load_balancing.cross_zone.enabled = true"; },
        expected: [],
    },
    { title: "the legacy annotation set to true passes", mutate: (s) => { delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; s.loadBalancer.metadata.annotations[LEGACY] = "true"; }, expected: [] },
    { title: "the legacy annotation set to false", mutate: (s) => { delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; s.loadBalancer.metadata.annotations[LEGACY] = "false"; }, expected: [`nlb: ${LEGACY} is "false"`] },
    { title: "another attribute list without cross-zone", mutate: (s) => { s.loadBalancer.metadata.annotations[ATTRIBUTES] = "deletion_protection.enabled=true"; }, expected: ["nlb: cross-zone load balancing is not enabled"] },
    { title: "a ClusterIP Service is not a load balancer", mutate: (s) => { s.loadBalancer.spec.type = "ClusterIP"; delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; }, expected: [] },
    { title: "a non-AWS loadBalancerClass is skipped", mutate: (s) => { s.loadBalancer.spec.loadBalancerClass = "metallb.io/metallb"; delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; }, expected: [] },
    { title: "the AWS controller's class is checked", mutate: (s) => { s.loadBalancer.spec.loadBalancerClass = "service.k8s.aws/nlb"; delete s.loadBalancer.metadata.annotations[ATTRIBUTES]; }, expected: ["nlb: cross-zone load balancing is not enabled"] },
]);

policyCases(ingressNoWebsocketServicesAnnotation, [
    {
        title: "the seed's websocket-services annotation",
        mutate: (s) => { s.ingress.metadata.annotations["nginx.ingress.kubernetes.io/websocket-services"] = "shop-api"; },
        expected: ["ingress: has nginx.ingress.kubernetes.io/websocket-services, which ingress-nginx ignores"],
    },
]);

test("the websocket-services annotation is advisory by default", async () => {
    const spec = defaultSpec();
    spec.ingress.metadata.annotations["nginx.ingress.kubernetes.io/websocket-services"] = "shop-api";
    const result = await evaluate(specResources(spec), { policies: [ingressNoWebsocketServicesAnnotation] });
    expect(result.violations.map((v) => v.level)).toEqual(["advisory"]);
});
