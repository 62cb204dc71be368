// The namespace the release lives in, and the guard rails around it: Pod Security "restricted",
// a ResourceQuota with room for every workload at its HPA maximum plus a rollout surge, a
// LimitRange, default-deny NetworkPolicies with the few flows KubePolaris needs, and an optional
// PriorityClass.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { cpuMillis, formatCpu, formatMemory, memoryBytes } from "./quantity";
import { ContainerResources, DatabasePeer } from "./types";

/** Pods a workload may run at once: its maximum plus the pods a rollout surges. */
export interface QuotaWorkload {
    /** What the entry is for (only for reading the code and the quota's arithmetic). */
    name: string;
    /** The most pods it runs at once (an HPA maximum plus a rollout's surge). */
    maxPods: number;
    /** Each pod's requests and limits. */
    resources: ContainerResources;
    /**
     * Other sizes its pods may still have while it rolls to `resources` (the other size tiers'): the
     * quota counts each pod at the largest, so a tier change down can replace the bigger pods it
     * runs (the API server refuses every new pod while the old ones exceed a smaller quota).
     * Default: none.
     */
    rolloutFrom?: ContainerResources[];
}

/** Pods of the namespace that take traffic on one port. */
export interface PodPeer {
    /** The pods' labels (their selector). */
    labels: Record<string, string>;
    /** The container port they serve. */
    port: number;
}

export interface NamespaceBaselineArgs {
    /** The namespace's name. Required. */
    namespace: string;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** Everything that runs pods in the namespace: the quota has room for all of them at once. Required. */
    workloads: QuotaWorkload[];
    /** The backend's pods: reached by the ingress controller and `backendClients` (it serves no /metrics to scrape). Required. */
    backend: PodPeer;
    /** The frontend's pods: reached by the ingress controller. Required. */
    frontend: PodPeer;
    /** Pods of this namespace that call the backend's API (e.g. the admin-password Job). Default: none. */
    backendClients?: { name: string; labels: Record<string, string> }[];
    /** Where the edge controller (Traefik by default; any Gateway API or Ingress controller) runs and its pods' labels. Required. */
    ingressController: { namespace: string; labels: Record<string, string> };
    /**
     * What enforces NetworkPolicies in the cluster ("none": the policies are created but isolate
     * nothing, and the namespace is not called isolated). Required.
     */
    policyEnforcer: string;
    /** Where the backend's database traffic goes (the only egress to it). Required. */
    database: DatabasePeer;
    /** Pods of this namespace besides the backend that connect to the database (the backups' Jobs). Default: none. */
    databaseClients?: { name: string; labels: Record<string, string> }[];
    /** Managed clusters' API servers the backend may call. Required (may be empty). */
    apiServerEgress: { cidrs: string[]; ports: number[] };
    /** A PriorityClass for the release's pods. Default: none. */
    priorityClass?: { name: string; value: number };
    /** A Grafana the frontend proxies `/grafana/` to: its namespace and port. Default: none (no egress to it). */
    grafana?: { namespace: string; port: number };
}

export class NamespaceBaseline extends pulumi.ComponentResource {
    /**
     * Use this (not the plain string) so objects in the namespace wait for it to exist, and for its
     * quota and LimitRange: a tier change updates those before the pods it rolls meet them.
     */
    public readonly namespaceName: pulumi.Output<string>;
    public readonly priorityClassName: pulumi.Output<string> | undefined;
    public readonly quotaHard: Record<string, string>;
    /** Whether the default-deny NetworkPolicies isolate the namespace, and what enforces them. */
    public readonly networkIsolation: string;

    constructor(name: string, args: NamespaceBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:namespace:NamespaceBaseline", name, {}, opts);

        const namespace = createNamespace(name, args, this);
        const ns = namespace.metadata.name;
        this.quotaHard = quotaFor(args.workloads);
        const quota = new k8s.core.v1.ResourceQuota(`${name}-quota`, {
            metadata: { name: "kubepolaris-quota", namespace: ns, labels: args.labels },
            spec: { hard: this.quotaHard },
        }, { parent: this });
        const limits = new k8s.core.v1.LimitRange(`${name}-limits`, {
            metadata: { name: "kubepolaris-limits", namespace: ns, labels: args.labels },
            spec: { limits: [limitRangeFor(args.workloads)] },
        }, { parent: this });
        createNetworkPolicies(name, args, ns, this);
        this.networkIsolation = networkIsolation(args.policyEnforcer);
        if (args.policyEnforcer === "none") {
            pulumi.log.warn(`namespace ${args.namespace}: ${this.networkIsolation}`, this);
        }
        this.priorityClassName = args.priorityClass && createPriorityClass(name, args.priorityClass, args.labels, this).metadata.name;

        this.namespaceName = pulumi.all([ns, quota.urn, limits.urn]).apply(([n]) => n);
        this.registerOutputs({ namespaceName: this.namespaceName, priorityClassName: this.priorityClassName, networkIsolation: this.networkIsolation });
    }
}

/** What the stack may say about the namespace's network isolation. */
export function networkIsolation(policyEnforcer: string): string {
    return policyEnforcer === "none"
        ? "NOT isolated: its default-deny NetworkPolicies are created but nothing in the cluster enforces them "
            + "(network.policyEnforcer is \"none\"; on EKS turn on the VPC CNI's network policy agent and set it to vpc-cni-network-policy-agent)"
        : `isolated by default-deny NetworkPolicies, enforced by ${policyEnforcer} (network.policyEnforcer)`;
}

function createNamespace(name: string, args: NamespaceBaselineArgs, parent: pulumi.Resource): k8s.core.v1.Namespace {
    return restrictedNamespace(`${name}-namespace`, args.namespace, args.labels, parent);
}

/** A namespace under Pod Security "restricted" (enforced, audited and warned). */
export function restrictedNamespace(resourceName: string, namespace: string, labels: Record<string, string>, parent: pulumi.Resource): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(resourceName, {
        metadata: {
            name: namespace,
            labels: {
                ...labels,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }, { parent });
}

/**
 * Default deny, then exactly the flows KubePolaris needs: DNS, the ingress controller, the
 * database, API servers. Nothing from the monitoring namespace: the backend has no /metrics, and a
 * scrape rule would open its whole API on 8080 to every pod there.
 */
function createNetworkPolicies(name: string, args: NamespaceBaselineArgs, ns: pulumi.Output<string>, parent: pulumi.Resource): void {
    const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace: ns, labels: args.labels }, spec }, { parent });
    policy("default-deny-all", DEFAULT_DENY);
    policy("allow-dns-egress", DNS_EGRESS);
    for (const [component, peer] of [["frontend", args.frontend], ["backend", args.backend]] as const) {
        policy(`allow-ingress-controller-to-${component}`, {
            podSelector: { matchLabels: peer.labels },
            policyTypes: ["Ingress"],
            ingress: [{ from: [fromNamespace(args.ingressController.namespace, args.ingressController.labels)], ports: [tcp(peer.port)] }],
        });
    }
    for (const client of args.backendClients ?? []) {
        policy(`allow-${client.name}-to-backend`, {
            podSelector: { matchLabels: client.labels },
            policyTypes: ["Egress"],
            egress: [{ to: [{ podSelector: { matchLabels: args.backend.labels } }], ports: [tcp(args.backend.port)] }],
        });
        policy(`allow-backend-from-${client.name}`, {
            podSelector: { matchLabels: args.backend.labels },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: client.labels } }], ports: [tcp(args.backend.port)] }],
        });
    }
    if (args.grafana) {
        policy("allow-frontend-to-grafana", {
            podSelector: { matchLabels: args.frontend.labels },
            policyTypes: ["Egress"],
            egress: [{ to: [fromNamespace(args.grafana.namespace)], ports: [tcp(args.grafana.port)] }],
        });
    }
    const db = args.database;
    const databaseDestinations = db.kind === "pods"
        ? [{ podSelector: { matchLabels: db.labels } }]
        : db.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    policy("allow-backend-to-database", {
        podSelector: { matchLabels: args.backend.labels },
        policyTypes: ["Egress"],
        egress: [{ to: databaseDestinations, ports: [tcp(db.port)] }],
    });
    if (db.kind === "pods") {
        policy("allow-database-from-backend", {
            podSelector: { matchLabels: db.labels },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: args.backend.labels } }], ports: [tcp(db.port)] }],
        });
    }
    for (const client of args.databaseClients ?? []) {
        policy(`allow-${client.name}-to-database`, {
            podSelector: { matchLabels: client.labels },
            policyTypes: ["Egress"],
            egress: [{ to: databaseDestinations, ports: [tcp(db.port)] }],
        });
        if (db.kind === "pods") {
            policy(`allow-database-from-${client.name}`, {
                podSelector: { matchLabels: db.labels },
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ podSelector: { matchLabels: client.labels } }], ports: [tcp(db.port)] }],
            });
        }
    }
    // KubePolaris' job is to manage other clusters: the backend calls their API servers.
    policy("allow-backend-to-api-servers", {
        podSelector: { matchLabels: args.backend.labels },
        policyTypes: ["Egress"],
        egress: [{
            to: args.apiServerEgress.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: args.apiServerEgress.ports.map(tcp),
        }],
    });
}

/** Pods of another namespace (all of them, or those with `podLabels`), as a NetworkPolicy peer. */
export function fromNamespace(namespaceName: pulumi.Input<string>, podLabels?: Record<string, string>): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespaceName } },
        podSelector: podLabels ? { matchLabels: podLabels } : undefined,
    };
}
export const tcp = (port: number) => ({ protocol: "TCP", port });

/** Nothing in, nothing out, for every pod of the namespace; other policies then allow each flow. */
export const DEFAULT_DENY: k8s.types.input.networking.v1.NetworkPolicySpec = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
/** Every pod may ask the cluster DNS (CoreDNS pods labelled k8s-app=kube-dns in kube-system, as on EKS). */
export const DNS_EGRESS: k8s.types.input.networking.v1.NetworkPolicySpec = {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [{ to: [fromNamespace("kube-system", { "k8s-app": "kube-dns" })], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] }],
};

function createPriorityClass(name: string, priorityClass: { name: string; value: number }, labels: Record<string, string>,
    parent: pulumi.Resource): k8s.scheduling.v1.PriorityClass {
    return new k8s.scheduling.v1.PriorityClass(`${name}-priority`, {
        metadata: { name: priorityClass.name, labels },
        value: priorityClass.value,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "KubePolaris control-plane pods: scheduled ahead of batch work.",
    }, { parent });
}

/** Quota with room for every workload at its maximum pod count, each pod at its largest size. */
export function quotaFor(workloads: QuotaWorkload[]): Record<string, string> {
    const sum = (pick: (r: ContainerResources) => number) => workloads.reduce((total, w) =>
        total + w.maxPods * Math.max(...[w.resources, ...(w.rolloutFrom ?? [])].map(pick)), 0);
    return {
        "requests.cpu": formatCpu(sum((r) => cpuMillis(r.requests.cpu))),
        "requests.memory": formatMemory(sum((r) => memoryBytes(r.requests.memory))),
        "limits.cpu": formatCpu(sum((r) => cpuMillis(r.limits.cpu))),
        "limits.memory": formatMemory(sum((r) => memoryBytes(r.limits.memory))),
        pods: String(workloads.reduce((total, w) => total + w.maxPods, 0)),
    };
}

/**
 * Defaults for a container that names no resources (a debug container), capped at the largest
 * size any workload's pods may have, counting the sizes they roll from (`rolloutFrom`), as the
 * quota does: capped at the current size only, a tier change down refused the old pods a
 * rollout recreates (a ReplicaSet replacing one, or `kubectl rollout undo`).
 */
export function limitRangeFor(workloads: QuotaWorkload[]): k8s.types.input.core.v1.LimitRangeItem {
    const sizes = workloads.flatMap((w) => [w.resources, ...(w.rolloutFrom ?? [])]);
    const largestCpu = Math.max(...sizes.map((r) => cpuMillis(r.limits.cpu)));
    const largestMemory = Math.max(...sizes.map((r) => memoryBytes(r.limits.memory)));
    return {
        type: "Container",
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        default: { cpu: "500m", memory: "512Mi" },
        max: { cpu: formatCpu(largestCpu), memory: formatMemory(largestMemory) },
    };
}
