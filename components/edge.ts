// The way in: an AWS Network Load Balancer (through the AWS Load Balancer Controller) in front of a
// maintained edge controller, and the routes that send the KubePolaris host to the frontend, the API
// and the WebSocket endpoint. Two shapes (docs/edge.md):
//   - "gateway" (the default): a Gateway API Gateway (an HTTPS listener with the stack's certificate,
//     and an HTTP listener that only redirects to it) and HTTPRoutes, for the GatewayClass of a
//     Gateway API controller (Traefik by default);
//   - "ingress": a networking.k8s.io Ingress for a cluster that already runs a maintained Ingress
//     controller of the named IngressClass.
// The controller is never assumed: the component reads the GatewayClass/IngressClass it is given,
// so a deployment without one fails with the class's name instead of serving nothing.
// No session affinity: no flow of KubePolaris 1.0.5 needs two requests on one replica (docs/edge.md).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WAIVERS, waiverAnnotations } from "./checkerWaivers";
import { ingressName } from "./labels";
import { WEBSOCKET_IDLE_TIMEOUT_SECONDS } from "./proxyTimeouts";

/** A Service the routes send to. */
export interface RouteTarget {
    serviceName: pulumi.Input<string>;
    port: number;
}

/** The ports of the edge controller's pods the NLB sends to, and the one it health-checks. */
export interface ControllerPorts {
    /** Plain HTTP (a Gateway's HTTP listener port: Traefik binds listeners to its entry points). */
    http: number;
    /** HTTPS (the Gateway's HTTPS listener port). */
    https: number;
    /** The controller's own health endpoint. */
    healthCheck: { port: number; path: string };
}

/**
 * Traefik as its Helm chart runs it: entry points web :8000 and websecure :8443 (a Gateway's
 * listener ports must name them), ping on the traefik entry point :8080.
 */
export const TRAEFIK_PORTS: ControllerPorts = { http: 8000, https: 8443, healthCheck: { port: 8080, path: "/ping" } };

/** The Service in front of the edge controller. */
export interface LoadBalancerArgs {
    /** "LoadBalancer" makes an AWS NLB (every stack but local); "NodePort" is for clusters without a cloud load balancer. */
    serviceType: "LoadBalancer" | "NodePort";
    /** The NLB's scheme ("LoadBalancer" only). */
    scheme: "internal" | "internet-facing";
    /** Client address blocks the NLB admits ("LoadBalancer" only). */
    sourceRanges: string[];
    /** Where the edge controller runs (the Service is created there). */
    controllerNamespace: string;
    /** The controller pods' labels (the Service's selector). */
    controllerLabels: Record<string, string>;
    /** Wait for the Service and routes to get an address; false where nothing will publish one (local). */
    awaitLoadBalancer: boolean;
}

export interface EdgeArgs {
    /** The release: prefix of the object names. Required. */
    release: string;
    /** The app's namespace, where the Gateway, routes or Ingress go. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** The public host name the edge serves. Required. */
    host: string;
    /**
     * Serve every Host header, not only `host` (the local stack, opened as http://127.0.0.1:<NodePort>/
     * with no DNS name). Default: false.
     */
    anyHost?: boolean;
    /** "gateway": Gateway API; "ingress": an Ingress. Default: "gateway". */
    kind?: "gateway" | "ingress";
    /** The GatewayClass or IngressClass; it must exist (the component reads it). Required. */
    className: string;
    /** HTTPS with `tls` and an HTTP → HTTPS redirect; false serves plain HTTP (the local stack). Default: true. */
    https?: boolean;
    /**
     * The TLS Secret for the host; with `clusterIssuer`, cert-manager issues it through that
     * ClusterIssuer. Required (clusterIssuer default: none, the Secret must exist).
     */
    tls: { secretName: string; clusterIssuer?: string };
    /** Gets everything not under /api or /ws. Required. */
    frontend: RouteTarget;
    /** Gets /api and /ws (WebSockets). Required. */
    backend: RouteTarget;
    /** The Service in front of the controller. Required. */
    loadBalancer: LoadBalancerArgs;
    /** The controller pods' ports. Default: TRAEFIK_PORTS. */
    controllerPorts?: ControllerPorts;
    /**
     * Read the GatewayClass/IngressClass from the cluster before creating routes for it. False only
     * where there is no cluster to read (manifests rendered to files). Default: true.
     */
    verifyClass?: boolean;
}

/**
 * Route timeouts (Gateway API HTTPRoute `timeouts.request`; "0s" turns the timeout off). A WebSocket
 * under /ws is one request that lasts as long as the terminal or log stream: no timeout. API calls
 * (log exports, searches over managed clusters) get five minutes; static files one minute.
 */
export const ROUTE_TIMEOUTS = { ws: "0s", api: "300s", frontend: "60s" } as const;

/** Seconds ingress-nginx-style controllers keep an idle proxied connection: WebSockets under /ws stay open for an hour. */
const PROXY_IDLE_TIMEOUT_SECONDS = String(WEBSOCKET_IDLE_TIMEOUT_SECONDS);
/**
 * Seconds to open a connection to a pod. Not a WebSocket setting (the guide's 3600 s would be
 * capped by nginx at ~75 s anyway): short, so a request aimed at a dead pod's IP moves on to the
 * next upstream within seconds instead of hanging.
 */
const PROXY_CONNECT_TIMEOUT_SECONDS = "10";

export class Edge extends pulumi.ComponentResource {
    /** The HTTPRoute (gateway) or Ingress (ingress) carrying the app's paths. */
    public readonly routeName: pulumi.Output<string>;
    /** The Gateway ("" for an Ingress edge). */
    public readonly gatewayName: pulumi.Output<string>;
    public readonly loadBalancerServiceName: pulumi.Output<string>;
    /** The NLB's DNS name once AWS has created it (empty on NodePort). */
    public readonly loadBalancerHostname: pulumi.Output<string>;
    /** Where a person opens the app: https://<host>, or on a NodePort edge http://127.0.0.1:<port>/. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:edge:Edge", name, {}, opts);

        const kind = args.kind ?? "gateway";
        const controllerClass = args.verifyClass ?? true ? [readControllerClass(name, kind, args.className, this)] : [];
        const loadBalancer = createLoadBalancer(name, args, this);
        if (kind === "gateway") {
            const gateway = createGateway(name, args, controllerClass, this);
            const routes = createHttpRoutes(name, args, gateway, this);
            this.routeName = routes.metadata.name;
            this.gatewayName = gateway.metadata.name;
        } else {
            this.routeName = createIngress(name, args, controllerClass, this).metadata.name;
            this.gatewayName = pulumi.output("");
        }
        this.loadBalancerServiceName = loadBalancer.metadata.name;
        this.loadBalancerHostname = loadBalancer.status.apply((s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? "");
        this.url = args.loadBalancer.serviceType === "NodePort"
            // NodePort is for the local cluster alone, whose kube-proxy serves NodePorts on loopback.
            ? loadBalancer.spec.ports.apply((ports) => `http://127.0.0.1:${ports.find((p) => p.name === "http")?.nodePort ?? "?"}/`)
            : pulumi.output(`${args.https ?? true ? "https" : "http"}://${args.host}`);
        this.registerOutputs({
            routeName: this.routeName,
            gatewayName: this.gatewayName,
            loadBalancerServiceName: this.loadBalancerServiceName,
            loadBalancerHostname: this.loadBalancerHostname,
            url: this.url,
        });
    }
}

/**
 * Reads the GatewayClass or IngressClass the edge is for: a cluster without it fails the deployment
 * here, naming it, instead of creating routes no controller serves. The routes depend on the read.
 */
function readControllerClass(name: string, kind: "gateway" | "ingress", className: string, parent: pulumi.Resource): pulumi.Resource {
    if (kind === "gateway") {
        return k8s.apiextensions.CustomResource.get(`${name}-gatewayclass`, {
            apiVersion: GATEWAY_API_VERSION, kind: "GatewayClass", id: className, parent,
        });
    }
    return k8s.networking.v1.IngressClass.get(`${name}-ingressclass`, className, { parent });
}

/** The Gateway API group/version the Gateway and HTTPRoutes use (standard channel). */
export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

/** Without a controller that publishes an address (the local stack), awaiting would never finish. */
function awaitAnnotations(args: EdgeArgs): Record<string, string> {
    return args.loadBalancer.awaitLoadBalancer ? {} : { "pulumi.com/skipAwait": "true" };
}

/**
 * The Gateway's or Ingress's metadata: the release's edge name, not awaited where nothing publishes
 * an address, and the ClusterIssuer cert-manager issues the host's certificate through (its
 * gateway-shim reads Gateways, its ingress-shim Ingresses).
 */
function edgeMetadata(args: EdgeArgs, annotations: Record<string, string> = {}): k8s.types.input.meta.v1.ObjectMeta {
    return {
        name: ingressName(args.release),
        namespace: args.namespace,
        labels: args.labels,
        annotations: {
            ...awaitAnnotations(args),
            ...(args.tls.clusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": args.tls.clusterIssuer } : {}),
            ...annotations,
        },
    };
}

/** The Service in front of the edge controller: an NLB, or a NodePort. */
function createLoadBalancer(name: string, args: EdgeArgs, parent: pulumi.Resource): k8s.core.v1.Service {
    const lb = args.loadBalancer;
    return new k8s.core.v1.Service(`${name}-nlb`, {
        metadata: {
            name: `${args.release}-ingress-nlb`,
            namespace: lb.controllerNamespace,
            labels: args.labels,
            annotations: {
                ...awaitAnnotations(args),
                ...(lb.serviceType === "LoadBalancer" ? nlbAnnotations(lb, ports(args)) : {}),
                ...waiverAnnotations(WAIVERS.externalSelector, lb.serviceType === "NodePort" ? WAIVERS.nodePort : []),
            },
        },
        spec: {
            type: lb.serviceType,
            selector: lb.controllerLabels,
            loadBalancerSourceRanges: lb.serviceType === "LoadBalancer" ? lb.sourceRanges : undefined,
            ports: [
                { name: "http", port: 80, targetPort: ports(args).http, protocol: "TCP" },
                { name: "https", port: 443, targetPort: ports(args).https, protocol: "TCP" },
            ],
        },
    }, { parent });
}

function ports(args: EdgeArgs): ControllerPorts {
    return args.controllerPorts ?? TRAEFIK_PORTS;
}

/**
 * The Gateway: on HTTPS stacks an HTTPS listener terminating TLS with the stack's certificate and an
 * HTTP listener that only carries the redirect route; on the local stack one plain HTTP listener.
 */
function createGateway(name: string, args: EdgeArgs, controllerClass: pulumi.Resource[], parent: pulumi.Resource): k8s.apiextensions.CustomResource {
    const p = ports(args);
    const hostname = args.anyHost ? undefined : args.host;
    const http = { name: "http", protocol: "HTTP", port: p.http, hostname, allowedRoutes: { namespaces: { from: "Same" } } };
    const https = {
        name: "https", protocol: "HTTPS", port: p.https, hostname,
        tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: args.tls.secretName }] },
        allowedRoutes: { namespaces: { from: "Same" } },
    };
    return new k8s.apiextensions.CustomResource(`${name}-gateway`, {
        apiVersion: GATEWAY_API_VERSION,
        kind: "Gateway",
        metadata: edgeMetadata(args),
        spec: { gatewayClassName: args.className, listeners: args.https ?? true ? [http, https] : [http] },
    }, { parent, dependsOn: controllerClass });
}

/** The app's paths on the HTTPS listener (HTTP on the local stack), and the redirect on the HTTP one. */
function createHttpRoutes(name: string, args: EdgeArgs, gateway: k8s.apiextensions.CustomResource,
    parent: pulumi.Resource): k8s.apiextensions.CustomResource {
    const https = args.https ?? true;
    const parentRef = (sectionName: string) => ({ group: "gateway.networking.k8s.io", kind: "Gateway", name: gateway.metadata.name, sectionName });
    const rule = (path: string, to: RouteTarget, request: string) => ({
        matches: [{ path: { type: "PathPrefix", value: path } }],
        backendRefs: [{ kind: "Service", name: to.serviceName, port: to.port }],
        timeouts: { request },
    });
    if (https) {
        new k8s.apiextensions.CustomResource(`${name}-redirect`, {
            apiVersion: GATEWAY_API_VERSION,
            kind: "HTTPRoute",
            metadata: { name: `${ingressName(args.release)}-https-redirect`, namespace: args.namespace, labels: args.labels, annotations: awaitAnnotations(args) },
            spec: {
                parentRefs: [parentRef("http")],
                hostnames: [args.host],
                rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
            },
        }, { parent });
    }
    return new k8s.apiextensions.CustomResource(`${name}-routes`, {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: ingressName(args.release), namespace: args.namespace, labels: args.labels, annotations: awaitAnnotations(args) },
        spec: {
            parentRefs: [parentRef(https ? "https" : "http")],
            hostnames: args.anyHost ? undefined : [args.host],
            rules: [
                rule("/ws", args.backend, ROUTE_TIMEOUTS.ws),
                rule("/api", args.backend, ROUTE_TIMEOUTS.api),
                rule("/", args.frontend, ROUTE_TIMEOUTS.frontend),
            ],
        },
    }, { parent });
}

/** The host's routes as an Ingress: the API and WebSockets to the backend, the rest to the frontend; TLS only. */
function createIngress(name: string, args: EdgeArgs, controllerClass: pulumi.Resource[], parent: pulumi.Resource): k8s.networking.v1.Ingress {
    const https = args.https ?? true;
    return new k8s.networking.v1.Ingress(`${name}-ingress`, {
        metadata: edgeMetadata(args, {
            // ingress-nginx's spelling, kept for maintained controllers that read it (e.g. F5 NGINX
            // Ingress reads its own nginx.org/* keys; Traefik uses entry-point redirects).
            ...(https ? { "nginx.ingress.kubernetes.io/force-ssl-redirect": "true" } : {}),
            // No session affinity: no KubePolaris flow needs two requests on one pod (docs/edge.md).
            // WebSockets: the controller upgrades connections by itself (there is no
            // websocket-services annotation); idle sockets only need long timeouts.
            "nginx.ingress.kubernetes.io/proxy-read-timeout": PROXY_IDLE_TIMEOUT_SECONDS,
            "nginx.ingress.kubernetes.io/proxy-send-timeout": PROXY_IDLE_TIMEOUT_SECONDS,
            "nginx.ingress.kubernetes.io/proxy-connect-timeout": PROXY_CONNECT_TIMEOUT_SECONDS,
            "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
        }),
        spec: {
            ingressClassName: args.className,
            tls: https ? [{ hosts: [args.host], secretName: args.tls.secretName }] : undefined,
            rules: [{
                host: args.anyHost ? undefined : args.host,
                http: {
                    paths: [
                        route("/api", args.backend),
                        route("/ws", args.backend),
                        route("/", args.frontend),
                    ],
                },
            }],
        },
    }, { parent, dependsOn: controllerClass });
}

/** AWS Load Balancer Controller annotations for an NLB with pod (ip) targets across zones. */
function nlbAnnotations(edge: LoadBalancerArgs, p: ControllerPorts): Record<string, string> {
    const prefix = "service.beta.kubernetes.io/aws-load-balancer";
    return {
        [`${prefix}-type`]: "external",
        [`${prefix}-nlb-target-type`]: "ip",
        [`${prefix}-scheme`]: edge.scheme,
        // Off by default on NLBs: without it a zone with fewer controller pods gets the same
        // share of traffic as the others, and a zone without any drops its share.
        [`${prefix}-attributes`]: "load_balancing.cross_zone.enabled=true",
        // Health-check the controller itself, so a dying controller pod leaves the target group.
        [`${prefix}-healthcheck-protocol`]: "http",
        [`${prefix}-healthcheck-port`]: String(p.healthCheck.port),
        [`${prefix}-healthcheck-path`]: p.healthCheck.path,
    };
}

function route(path: string, to: RouteTarget): k8s.types.input.networking.v1.HTTPIngressPath {
    return { path, pathType: "Prefix", backend: { service: { name: to.serviceName, port: { number: to.port } } } };
}
