// The way in: an AWS Network Load Balancer (through the AWS Load Balancer Controller) in front of
// the ingress-nginx controller, and the Ingress that routes the KubePolaris host to the frontend,
// the API and the WebSocket endpoint.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WAIVERS, waiverAnnotations } from "./checkerWaivers";
import { ingressName } from "./labels";
import { WEBSOCKET_IDLE_TIMEOUT_SECONDS } from "./proxyTimeouts";

/** A Service the Ingress routes to. */
export interface RouteTarget {
    serviceName: pulumi.Input<string>;
    port: number;
}

/** The Service in front of the ingress-nginx controller. */
export interface LoadBalancerArgs {
    /** "LoadBalancer" makes an AWS NLB; "NodePort" is for clusters without a cloud load balancer. */
    serviceType: "LoadBalancer" | "NodePort";
    /** The NLB's scheme ("LoadBalancer" only). */
    scheme: "internal" | "internet-facing";
    /** Client address blocks the NLB admits ("LoadBalancer" only). */
    sourceRanges: string[];
    /** Where the ingress-nginx controller runs (the Service is created there). */
    controllerNamespace: string;
    /** The controller pods' labels (the Service's selector). */
    controllerLabels: Record<string, string>;
    /** Wait for the Service and Ingress to get an address; false where nothing will publish one. */
    awaitLoadBalancer: boolean;
}

export interface EdgeArgs {
    /** The release: prefix of the object names. Required. */
    release: string;
    /** The app's namespace, where the Ingress goes. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** The public host name the Ingress serves. Required. */
    host: string;
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
}

/** Seconds nginx keeps an idle proxied connection: WebSockets under /ws stay open for an hour. */
const PROXY_IDLE_TIMEOUT_SECONDS = String(WEBSOCKET_IDLE_TIMEOUT_SECONDS);
/**
 * Seconds to open a connection to a pod. Not a WebSocket setting (the guide's 3600 s would be
 * capped by nginx at ~75 s anyway): short, so a request aimed at a dead pod's IP moves on to the
 * next upstream within seconds instead of hanging.
 */
const PROXY_CONNECT_TIMEOUT_SECONDS = "10";

export class Edge extends pulumi.ComponentResource {
    public readonly ingressName: pulumi.Output<string>;
    public readonly loadBalancerServiceName: pulumi.Output<string>;
    /** The NLB's DNS name once AWS has created it (empty on NodePort). */
    public readonly loadBalancerHostname: pulumi.Output<string>;
    public readonly url: string;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:edge:Edge", name, {}, opts);

        const loadBalancer = createLoadBalancer(name, args, this);
        const ingress = createIngress(name, args, this);

        this.ingressName = ingress.metadata.name;
        this.loadBalancerServiceName = loadBalancer.metadata.name;
        this.loadBalancerHostname = loadBalancer.status.apply((s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? "");
        this.url = `https://${args.host}`;
        this.registerOutputs({
            ingressName: this.ingressName,
            loadBalancerServiceName: this.loadBalancerServiceName,
            loadBalancerHostname: this.loadBalancerHostname,
            url: this.url,
        });
    }
}

/** Without a controller that publishes an address (the local stack), awaiting would never finish. */
function awaitAnnotations(args: EdgeArgs): Record<string, string> {
    return args.loadBalancer.awaitLoadBalancer ? {} : { "pulumi.com/skipAwait": "true" };
}

/** The Service in front of the ingress-nginx controller: an NLB, or a NodePort. */
function createLoadBalancer(name: string, args: EdgeArgs, parent: pulumi.Resource): k8s.core.v1.Service {
    const lb = args.loadBalancer;
    return new k8s.core.v1.Service(`${name}-nlb`, {
        metadata: {
            name: `${args.release}-ingress-nlb`,
            namespace: lb.controllerNamespace,
            labels: args.labels,
            annotations: {
                ...awaitAnnotations(args),
                ...(lb.serviceType === "LoadBalancer" ? nlbAnnotations(lb) : {}),
                ...waiverAnnotations(WAIVERS.externalSelector, lb.serviceType === "NodePort" ? WAIVERS.nodePort : []),
            },
        },
        spec: {
            type: lb.serviceType,
            selector: lb.controllerLabels,
            loadBalancerSourceRanges: lb.serviceType === "LoadBalancer" ? lb.sourceRanges : undefined,
            ports: [
                { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
                { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
            ],
        },
    }, { parent });
}

/** The host's routes: the API and WebSockets to the backend, the rest to the frontend; TLS only. */
function createIngress(name: string, args: EdgeArgs, parent: pulumi.Resource): k8s.networking.v1.Ingress {
    return new k8s.networking.v1.Ingress(`${name}-ingress`, {
        metadata: {
            name: ingressName(args.release),
            namespace: args.namespace,
            labels: args.labels,
            annotations: {
                ...awaitAnnotations(args),
                ...(args.tls.clusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": args.tls.clusterIssuer } : {}),
                "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
                // Sticky sessions: the HA guide's session management (会话管理) keeps a
                // browser's WebSocket and API calls on one backend pod with cookie affinity.
                "nginx.ingress.kubernetes.io/affinity": "cookie",
                "nginx.ingress.kubernetes.io/session-cookie-name": "route",
                "nginx.ingress.kubernetes.io/session-cookie-max-age": "3600",
                "nginx.ingress.kubernetes.io/session-cookie-secure": "true",
                "nginx.ingress.kubernetes.io/session-cookie-samesite": "Lax",
                // WebSockets: ingress-nginx upgrades connections by itself (there is no
                // websocket-services annotation); idle sockets only need long timeouts.
                "nginx.ingress.kubernetes.io/proxy-read-timeout": PROXY_IDLE_TIMEOUT_SECONDS,
                "nginx.ingress.kubernetes.io/proxy-send-timeout": PROXY_IDLE_TIMEOUT_SECONDS,
                "nginx.ingress.kubernetes.io/proxy-connect-timeout": PROXY_CONNECT_TIMEOUT_SECONDS,
                "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
            },
        },
        spec: {
            ingressClassName: "nginx",
            tls: [{ hosts: [args.host], secretName: args.tls.secretName }],
            rules: [{
                host: args.host,
                http: {
                    paths: [
                        route("/api", args.backend),
                        route("/ws", args.backend),
                        route("/", args.frontend),
                    ],
                },
            }],
        },
    }, { parent });
}

/** AWS Load Balancer Controller annotations for an NLB with pod (ip) targets across zones. */
function nlbAnnotations(edge: LoadBalancerArgs): Record<string, string> {
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
        [`${prefix}-healthcheck-port`]: "10254",
        [`${prefix}-healthcheck-path`]: "/healthz",
    };
}

function route(path: string, to: RouteTarget): k8s.types.input.networking.v1.HTTPIngressPath {
    return { path, pathType: "Prefix", backend: { service: { name: to.serviceName, port: { number: to.port } } } };
}
