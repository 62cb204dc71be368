// Routing: Ingress backend → Service (name, port) → pods (selector) → declared container port.
import { ingressBackendsExist, serviceRoutesToPods } from "../../policy/rules/routing";
import { defaultSpec, Spec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, UNKNOWN, violationsOf } from "./support";

const apiPaths = (s: Spec) => s.ingress.spec.rules[0].http.paths;

policyCases(serviceRoutesToPods, [
    {
        title: "a selector with a label the pods lack selects nothing",
        mutate: (s) => { s.tiers.api.service.spec.selector = { ...s.tiers.api.service.spec.selector, tier: "api" }; },
        expected: [/^api-service: Service shop-api \(namespace shop, selector .*tier=api\) selects the pods of no workload of this stack: it has no endpoints/],
    },
    {
        title: "a Service in the pods' namespace but the pods in another",
        mutate: (s) => { s.tiers.web.deployment.metadata = { ...s.tiers.web.deployment.metadata, namespace: "other" }; },
        expected: ["web-service: Service shop-web (namespace shop"],
    },
    {
        title: "a named targetPort the container does not declare",
        mutate: (s) => { s.tiers.api.service.spec.ports[0].targetPort = "web"; },
        expected: ["api-service: Service shop-api port http targets \"web\", which no container of Deployment shop-api declares (spec.template.spec.containers[].ports): its pods get no endpoint for this port. Target a container port's name, or its number."],
    },
    {
        title: "a numeric targetPort no container declares routes all the same (Kubernetes needs no declaration for a number)",
        mutate: (s) => { s.tiers.api.service.spec.ports[0].targetPort = 9090; },
        expected: [],
    },
    {
        title: "no targetPort: the port itself (80), routed without a declaration",
        mutate: (s) => { delete s.tiers.api.service.spec.ports[0].targetPort; },
        expected: [],
    },
    { title: "a numeric targetPort the container declares passes", mutate: (s) => { s.tiers.api.service.spec.ports[0].targetPort = 8080; }, expected: [] },
    {
        title: "a Service without selector (endpoints managed by hand) is not checked",
        mutate: (s) => { delete s.tiers.api.service.spec.selector; },
        expected: [],
    },
    {
        title: "a Service whose selector is unknown during preview",
        mutate: (s) => { s.tiers.api.service.spec.selector = UNKNOWN; },
        expected: ["api-service: Service api-service: spec.selector is unknown during preview; cannot verify"],
    },
]);

test("service-routes-to-pods: a Service in a namespace without workloads of the stack (the controller's NLB) is not checked", async () => {
    const spec = defaultSpec();
    expect(spec.loadBalancer.metadata.namespace).toBe("ingress-nginx");
    expect(await violationsOf(serviceRoutesToPods, specResources(spec))).toEqual([]);
});

test("service-routes-to-pods: a Service selecting two workloads needs the port on both", async () => {
    const spec = defaultSpec();
    spec.tiers.web.deployment.spec.template.spec.containers[0].ports = [{ name: "web", containerPort: 8080 }];
    const shared = { type: TYPES.service, name: "both", inputs: { metadata: { name: "both", namespace: "shop" }, spec: { selector: { "app.kubernetes.io/name": "shop" }, ports: [{ port: 80, targetPort: "http" }] } } };
    expect(await violationsOf(serviceRoutesToPods, [...specResources(spec), shared])).toEqual([
        expect.stringContaining("web-service: Service shop-web port http targets \"http\", which no container of Deployment shop-web declares"),
        expect.stringContaining("both: Service both port 80 targets \"http\", which no container of Deployment shop-web declares"),
    ]);
});

policyCases(ingressBackendsExist, [
    {
        title: "a backend naming a Service the stack does not have",
        mutate: (s) => { apiPaths(s)[0].backend.service.name = "shop-backend"; },
        expected: ["ingress: Ingress shop rules[0].http.paths[0] (/api) names Service shop-backend, which this stack does not define in namespace shop: that path answers 503."],
    },
    {
        title: "a backend naming a Service of another namespace",
        mutate: (s) => { s.tiers.api.service.metadata = { ...s.tiers.api.service.metadata, namespace: "other" }; },
        expected: ["names Service shop-api, which this stack does not define in namespace shop (it is in namespace other; an Ingress reaches only its own namespace)"],
    },
    {
        title: "a port number the Service does not serve",
        mutate: (s) => { apiPaths(s)[0].backend.service.port = { number: 8080 }; },
        expected: ["ingress: Ingress shop rules[0].http.paths[0] (/api) names port 8080 of Service shop-api, which serves only http:80."],
    },
    {
        title: "a port name the Service does not serve",
        mutate: (s) => { apiPaths(s)[1].backend.service.port = { name: "https" }; },
        expected: ["names port \"https\" of Service shop-web, which serves only http:80."],
    },
    { title: "a backend by port name passes", mutate: (s) => { apiPaths(s)[1].backend.service.port = { name: "http" }; }, expected: [] },
    {
        title: "a defaultBackend is checked too",
        mutate: (s) => { s.ingress.spec.defaultBackend = { service: { name: "fallback", port: { number: 80 } } }; },
        expected: ["ingress: Ingress shop defaultBackend names Service fallback"],
    },
    {
        title: "a Service unknown during preview is reported, and not also called missing",
        mutate: (s) => { s.tiers.api.service.metadata = UNKNOWN; },
        expected: ["api-service: Service api-service: metadata is unknown during preview; cannot verify"],
    },
    {
        title: "a backend Service name unknown during preview",
        mutate: (s) => { apiPaths(s)[0].backend.service.name = UNKNOWN; },
        expected: ["ingress: Ingress ingress: spec.rules.0.http.paths.0.backend.service.name is unknown during preview; cannot verify"],
    },
]);
