// The edge controller, installed by the stack when it asks for it (edge.controller): Traefik, the
// maintained Gateway API controller docs/edge.md chose, highly available like the app itself (two
// or more replicas spread over zones and nodes, a disruption budget, drained gracefully). Without
// it the stack only reads the GatewayClass and fronts a controller someone else installed.
// The GatewayClass and the Gateway API CRDs are the cluster's (scripts/cluster/gateway-api.sh
// locally; the platform team's on EKS): a class is cluster-wide and may serve several stacks.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ControllerPorts, TRAEFIK_PORTS } from "./edge";
import { pullPolicyWaivers, waiverAnnotations } from "./checkerWaivers";
import { withEphemeralStorage } from "./ephemeralStorage";
import { antiAffinity, MAX_SURGE, pdbBudget } from "./haWorkload";
import { DEFAULT_DENY, DNS_EGRESS, fromNamespace, PodPeer, quotaFor, restrictedNamespace, tcp } from "./namespaceBaseline";
import { TOPOLOGY_KEYS } from "../policy/facts";
import { restrictedContainerSecurity, restrictedPodSecurity } from "./podSecurity";
import { WEBSOCKET_IDLE_TIMEOUT_SECONDS } from "./proxyTimeouts";
import { ContainerResources, ImagePullPolicy, RunAs } from "./types";

export interface EdgeControllerArgs {
    /** The namespace the controller runs in; the component creates it (Pod Security restricted). Required. */
    namespace: string;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** The controller pods' labels: the edge's NodePort/NLB Service selects them. Required. */
    podLabels: Record<string, string>;
    /** Traefik's image (a v3 release). Required. */
    image: string;
    /** Default: "IfNotPresent". */
    imagePullPolicy?: ImagePullPolicy;
    /** Replicas; 2 or more keep the edge up through a drain (a budget lets one go at a time). Required. */
    replicas: number;
    /** Requests and limits of each replica. Required. */
    resources: ContainerResources;
    /** The entry points; the Gateway's listener ports must be these. Default: TRAEFIK_PORTS. */
    ports?: ControllerPorts;
    /**
     * Where its pods may connect (the namespace denies everything else): the app's pods the routes
     * send to, and the Kubernetes API server it watches, as pods reach it after kube-proxy's DNAT (the
     * endpoint's own address and port, not the `kubernetes` Service's). No `ports`: any port there. Required.
     */
    egress: {
        routesTo: { namespace: pulumi.Input<string>; pods: PodPeer[] };
        apiServer: { cidrs: string[]; ports?: number[] };
    };
}

/** Where Kubernetes clients in a pod look for their token, CA and namespace. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const TMP_SIZE = "64Mi";

/** What automounting would give, stated: a token that expires within the hour, the cluster CA, the namespace. */
function apiTokenVolume(): k8s.types.input.core.v1.Volume {
    return {
        name: "api-token",
        projected: {
            sources: [
                { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
                { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
            ],
        },
    };
}

/** The image's own unprivileged user (the official image's and scripts/cluster/images.sh's). */
const TRAEFIK_USER: RunAs = { uid: 65532, gid: 65532 };

/**
 * Seconds a replica keeps accepting requests after SIGTERM while the endpoints controller and the
 * load balancer take it out of rotation, then seconds it lets requests in flight finish.
 */
export const EDGE_DRAIN = { acceptSeconds: 10, finishSeconds: 10 } as const;

/** Traefik's static configuration, as command-line flags. */
export function traefikArgs(ports: ControllerPorts): string[] {
    const entryPoint = (name: string, port: number) => [
        `--entryPoints.${name}.address=:${port}`,
        `--entryPoints.${name}.transport.lifeCycle.requestAcceptGraceTimeout=${EDGE_DRAIN.acceptSeconds}s`,
        `--entryPoints.${name}.transport.lifeCycle.graceTimeOut=${EDGE_DRAIN.finishSeconds}s`,
        // An idle keep-alive connection (and an idle WebSocket under /ws) lasts as long as at every other hop.
        `--entryPoints.${name}.transport.respondingTimeouts.idleTimeout=${WEBSOCKET_IDLE_TIMEOUT_SECONDS}s`,
    ];
    return [
        ...entryPoint("web", ports.http),
        ...entryPoint("websecure", ports.https),
        // Health and metrics on their own entry point, which no Service outside the pod exposes
        // except the NLB's health check.
        `--entryPoints.traefik.address=:${ports.healthCheck.port}`,
        "--ping=true",
        "--ping.entryPoint=traefik",
        "--ping.terminatingStatusCode=503",
        "--metrics.prometheus=true",
        "--metrics.prometheus.entryPoint=traefik",
        "--providers.kubernetesgateway=true",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        "--log.level=INFO",
    ];
}

export class EdgeController extends pulumi.ComponentResource {
    public readonly namespaceName: pulumi.Output<string>;
    public readonly deploymentName: pulumi.Output<string>;
    public readonly pdbName: pulumi.Output<string> | undefined;

    constructor(name: string, args: EdgeControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:edge:EdgeController", name, {}, opts);
        if (!Number.isInteger(args.replicas) || args.replicas < 1) {
            throw new Error(`EdgeController ${name}: replicas must be a whole number of at least 1, got ${args.replicas}`);
        }
        const ports = args.ports ?? TRAEFIK_PORTS;
        const labels = { ...args.labels, ...args.podLabels };
        const namespace = restrictedNamespace(`${name}-namespace`, args.namespace, args.labels, this);
        const metadata = { name: "traefik", namespace: namespace.metadata.name, labels };

        // No token by default; the pod mounts one explicitly (projected, expiring), as it watches the API.
        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata, automountServiceAccountToken: false }, { parent: this });
        const role = new k8s.rbac.v1.ClusterRole(`${name}-role`, {
            metadata: { name: `${args.namespace}-traefik-gateway`, labels },
            rules: gatewayControllerRules(),
        }, { parent: this });
        const binding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-binding`, {
            metadata: { name: `${args.namespace}-traefik-gateway`, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: namespace.metadata.name }],
        }, { parent: this });

        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { ...metadata, annotations: waiverAnnotations(pullPolicyWaivers(args.imagePullPolicy ?? "IfNotPresent", args.image)) },
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: args.podLabels },
                minReadySeconds: 5,
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: serviceAccount.metadata.name,
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        terminationGracePeriodSeconds: EDGE_DRAIN.acceptSeconds + EDGE_DRAIN.finishSeconds + 10,
                        securityContext: restrictedPodSecurity(TRAEFIK_USER),
                        affinity: { podAntiAffinity: antiAffinity("preferred", args.podLabels) },
                        topologySpreadConstraints: [{
                            maxSkew: 1,
                            topologyKey: TOPOLOGY_KEYS.zone,
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: args.podLabels },
                            matchLabelKeys: ["pod-template-hash"],
                        }],
                        containers: [{
                            name: "traefik",
                            image: args.image,
                            imagePullPolicy: args.imagePullPolicy ?? "IfNotPresent",
                            args: traefikArgs(ports),
                            ports: [
                                { name: "web", containerPort: ports.http, protocol: "TCP" },
                                { name: "websecure", containerPort: ports.https, protocol: "TCP" },
                                { name: "traefik", containerPort: ports.healthCheck.port, protocol: "TCP" },
                            ],
                            resources: withEphemeralStorage(args.resources, [TMP_SIZE]),
                            // Ready while the configuration is loaded and it is not terminating (ping answers 503
                            // then, so endpoints drop it while it still accepts requests); alive while
                            // the entry point accepts connections.
                            readinessProbe: { httpGet: { path: ports.healthCheck.path, port: "traefik" }, periodSeconds: 2, failureThreshold: 1 },
                            livenessProbe: { tcpSocket: { port: "web" }, periodSeconds: 10, failureThreshold: 3 },
                            securityContext: restrictedContainerSecurity(),
                            volumeMounts: [
                                { name: "tmp", mountPath: "/tmp" },
                                { name: "api-token", mountPath: SERVICE_ACCOUNT_DIR, readOnly: true },
                            ],
                        }],
                        volumes: [{ name: "tmp", emptyDir: { sizeLimit: TMP_SIZE } }, apiTokenVolume()],
                    },
                },
            },
        }, { parent: this, dependsOn: [binding] });

        const budget = pdbBudget(args.replicas);
        const pdb = budget && new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
            metadata,
            spec: { maxUnavailable: budget.maxUnavailable, selector: { matchLabels: args.podLabels }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
        }, { parent: this });

        createGuardRails(name, args, ports, namespace.metadata.name, labels, this);

        this.namespaceName = namespace.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.pdbName = pdb?.metadata.name;
        this.registerOutputs({ namespaceName: this.namespaceName, deploymentName: this.deploymentName, pdbName: this.pdbName });
    }
}

/**
 * What Traefik's Gateway API provider reads and writes (its documented RBAC; it watches TLSRoutes too):
 * the routes and Gateways it serves and their status, the Services and EndpointSlices it sends to,
 * and the Secrets a listener's certificateRefs name.
 */
function gatewayControllerRules(): k8s.types.input.rbac.v1.PolicyRule[] {
    const gatewayKinds = ["gatewayclasses", "gateways", "httproutes", "grpcroutes", "tcproutes", "tlsroutes", "referencegrants", "backendtlspolicies"];
    return [
        { apiGroups: [""], resources: ["namespaces"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["services", "secrets", "configmaps"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        { apiGroups: ["gateway.networking.k8s.io"], resources: gatewayKinds, verbs: ["get", "list", "watch"] },
        { apiGroups: ["gateway.networking.k8s.io"], resources: gatewayKinds.map((k) => `${k}/status`), verbs: ["update"] },
    ];
}

/**
 * The controller's namespace as the app's: a quota sized for its replicas plus a rollout's surge (its
 * one pod spec declares its resources, so no LimitRange fills them in), and default-deny NetworkPolicies with the flows an edge needs (clients in on the entry
 * points; out to DNS, the app's pods and the API server).
 */
function createGuardRails(name: string, args: EdgeControllerArgs, ports: ControllerPorts, namespace: pulumi.Output<string>,
    labels: Record<string, string>, parent: pulumi.Resource): void {
    const workloads = [{ name: "traefik", maxPods: args.replicas + MAX_SURGE, resources: args.resources }];
    new k8s.core.v1.ResourceQuota(`${name}-quota`, { metadata: { name: "traefik", namespace, labels }, spec: { hard: quotaFor(workloads) } }, { parent });

    const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace, labels }, spec }, { parent });
    const pods = { matchLabels: args.podLabels };
    policy("default-deny-all", DEFAULT_DENY);
    policy("allow-dns-egress", DNS_EGRESS);
    // Clients from anywhere (the NLB keeps client addresses; its health checks come from the VPC).
    policy("allow-clients-to-entry-points", {
        podSelector: pods,
        policyTypes: ["Ingress"],
        ingress: [{ ports: [tcp(ports.http), tcp(ports.https), tcp(ports.healthCheck.port)] }],
    });
    policy("allow-routes-to-app", {
        podSelector: pods,
        policyTypes: ["Egress"],
        egress: args.egress.routesTo.pods.map((peer) => ({
            to: [fromNamespace(args.egress.routesTo.namespace, peer.labels)],
            ports: [tcp(peer.port)],
        })),
    });
    policy("allow-api-server-egress", {
        podSelector: pods,
        policyTypes: ["Egress"],
        egress: [{
            to: args.egress.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: args.egress.apiServer.ports?.map(tcp),
        }],
    });
}
