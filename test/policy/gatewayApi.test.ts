// The Gateway API edge: HTTPRoute parents (a Gateway of the stack or a named shared one, an existing
// listener), backends (an existing Service and port), listener TLS, WebSocket timeouts; and the
// warning for Ingresses on the retired ingress-nginx class.
import { gatewayListenerTls, httpRouteWebsocketTimeouts, ingressRetiredController } from "../../policy/rules/edge";
import { durationSeconds } from "../../policy/rules/gatewayApi";
import { httpRouteBackendsExist, httpRouteParentsExist } from "../../policy/rules/routing";
import { defaultSpec, Spec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, UNKNOWN, violationsOf } from "./support";

const app = (s: Spec) => s.httpRoutes[0].spec;

policyCases(httpRouteParentsExist, [
    {
        title: "a parentRef to a Gateway the stack does not define",
        mutate: (s) => { app(s).parentRefs[0].name = "shop-gw"; },
        expected: ["httproute-0: HTTPRoute shop spec.parentRefs[0] names Gateway shop/shop-gw, which this stack does not define and `externalGateways` does not list"],
    },
    {
        title: "a parentRef to the stack's Gateway name in another namespace",
        mutate: (s) => { app(s).parentRefs[0].namespace = "edge"; },
        expected: ["names Gateway edge/shop, which this stack does not define (it defines one in namespace shop)"],
    },
    {
        title: "a shared Gateway the config lists passes",
        mutate: (s) => { app(s).parentRefs[0] = { name: "public", namespace: "edge" }; },
        config: { properties: { externalGateways: ["edge/public"] } },
        expected: [],
    },
    {
        title: "a sectionName that names no listener",
        mutate: (s) => { app(s).parentRefs[0].sectionName = "websecure"; },
        expected: ["names listener \"websecure\" of Gateway shop, which has only \"http\", \"https\": the route is not attached."],
    },
    { title: "no parentRefs at all", mutate: (s) => { app(s).parentRefs = []; }, expected: ["HTTPRoute shop has no parentRefs"] },
    {
        title: "a Gateway unknown during preview: nothing is claimed missing, the unknown is reported",
        mutate: (s) => { s.gateway.spec.listeners = UNKNOWN; app(s).parentRefs[0].name = "other"; },
        expected: ["gateway: Gateway gateway: spec.listeners is unknown during preview; cannot verify"],
    },
]);

policyCases(httpRouteBackendsExist, [
    {
        title: "a backendRef to a missing Service",
        mutate: (s) => { app(s).rules[1].backendRefs[0].name = "shop-apis"; },
        expected: ["httproute-0: HTTPRoute shop spec.rules[1].backendRefs[0] (/api) names Service shop-apis, which this stack does not define in namespace shop: that rule answers 500."],
    },
    {
        title: "a backendRef to the container's port instead of the Service's",
        mutate: (s) => { app(s).rules[1].backendRefs[0].port = 8080; },
        expected: ["names port 8080 of Service shop-api, which serves only http:80."],
    },
    {
        title: "a Service backendRef without a port",
        mutate: (s) => { delete app(s).rules[2].backendRefs[0].port; },
        expected: ["names Service shop-web without a port"],
    },
    {
        title: "a backendRef to a Service in another namespace the stack does not have",
        mutate: (s) => { app(s).rules[2].backendRefs[0].namespace = "web"; },
        expected: ["names Service shop-web, which this stack does not define in namespace web (it is in namespace shop)"],
    },
]);

policyCases(gatewayListenerTls, [
    {
        title: "an HTTPS listener without certificateRefs",
        mutate: (s) => { s.gateway.spec.listeners[1].tls = { mode: "Terminate" }; },
        expected: ["gateway: Gateway shop listener \"https\" is HTTPS without a certificate"],
    },
    {
        title: "the app's route attached to every listener (no sectionName), the HTTP one included",
        mutate: (s) => { delete app(s).parentRefs[0].sectionName; },
        expected: ["httproute-0: HTTPRoute shop sends /ws; /api; / to backends through plain-HTTP listener \"http\" of Gateway shop"],
    },
    {
        title: "only an HTTP listener",
        mutate: (s) => {
            s.gateway.spec.listeners = [s.gateway.spec.listeners[0]];
            app(s).parentRefs[0].sectionName = "http";
            s.httpRoutes.pop();
        },
        expected: ["gateway: Gateway shop has no HTTPS listener (listeners: http:HTTP)", "httproute-0: HTTPRoute shop sends"],
    },
    {
        title: "a redirect route to http (not https) on the HTTP listener",
        mutate: (s) => { s.httpRoutes[1].spec.rules[0].filters[0].requestRedirect.scheme = "http"; },
        expected: ["httproute-1: HTTPRoute shop-https-redirect sends / to backends through plain-HTTP listener \"http\""],
    },
]);

policyCases(httpRouteWebsocketTimeouts, [
    {
        title: "a /ws rule with a 30 s request timeout",
        mutate: (s) => { app(s).rules[0].timeouts = { request: "30s" }; },
        expected: ["httproute-0: spec.rules[0] (/ws) carries WebSockets with timeouts.request 30s"],
    },
    {
        title: "a /ws rule without timeouts (the controller's default)",
        mutate: (s) => { delete app(s).rules[0].timeouts; },
        expected: ["httproute-0: spec.rules[0] (/ws) carries WebSockets with no timeouts.request"],
    },
    {
        title: "a /ws rule with a short backendRequest timeout",
        mutate: (s) => { app(s).rules[0].timeouts = { request: "0s", backendRequest: "10m" }; },
        expected: ["timeouts.backendRequest 10m"],
    },
    { title: "two hours passes", mutate: (s) => { app(s).rules[0].timeouts = { request: "2h" }; }, expected: [] },
    {
        title: "an exact /ws/terminal path counts as a WebSocket path",
        mutate: (s) => { app(s).rules[0].matches = [{ path: { type: "Exact", value: "/ws/terminal" } }]; app(s).rules[0].timeouts = { request: "1m" }; },
        expected: ["(/ws/terminal) carries WebSockets with timeouts.request 1m"],
    },
]);

policyCases(ingressRetiredController, [
    {
        title: "ingressClassName nginx",
        mutate: (s) => { s.ingress.spec.ingressClassName = "nginx"; },
        expected: ["ingress: targets IngressClass \"nginx\", the retired ingress-nginx controller's: the community ingress-nginx controller was retired by Kubernetes SIG Network: best-effort maintenance ended in March 2026"],
    },
    {
        title: "the legacy kubernetes.io/ingress.class annotation",
        mutate: (s) => { delete s.ingress.spec.ingressClassName; s.ingress.metadata.annotations["kubernetes.io/ingress.class"] = "nginx"; },
        expected: ["targets IngressClass \"nginx\""],
    },
    {
        title: "a class the stack's config names as retired",
        mutate: (s) => { s.ingress.spec.ingressClassName = "internal-nginx"; },
        config: { properties: { retiredClassNames: ["nginx", "internal-nginx"] } },
        expected: ["targets IngressClass \"internal-nginx\""],
    },
]);

test("ingress-retired-controller: an IngressClass for k8s.io/ingress-nginx is named whatever it is called", async () => {
    const resources = [...specResources(defaultSpec()),
        { type: TYPES.ingressClass, name: "edge-class", inputs: { metadata: { name: "public" }, spec: { controller: "k8s.io/ingress-nginx" } } }];
    expect(await violationsOf(ingressRetiredController, resources)).toEqual([expect.stringContaining("edge-class: IngressClass for controller k8s.io/ingress-nginx")]);
});

test("Gateway API durations", () => {
    expect(["0s", "1h30m", "500ms", "3600s", "1h", "", "1d", "10"].map(durationSeconds)).toEqual([0, 5400, 0.5, 3600, 3600, undefined, undefined, undefined]);
});
