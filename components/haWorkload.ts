// One highly available, stateless component of the app (the KubePolaris backend or frontend):
// ServiceAccount + Deployment + Service + PodDisruptionBudget + HPA.
//
// Who owns the replica count: the HPA. The Deployment is created with `replicas = minReplicas`
// (so the first rollout is already HA) and `spec.replicas` is in ignoreChanges, so a later
// `pulumi up` never scales the Deployment back down to the minimum behind the autoscaler's back.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Waiver, WAIVERS, imageUserWaivers, pullPolicyWaivers, waiverAnnotations } from "./checkerWaivers";
import { CLIENT_DNS_CONFIG } from "./clusterDns";
import { withEphemeralStorage } from "./ephemeralStorage";
import { Component, componentName, podLabels } from "./labels";
import { restrictedContainerSecurity, restrictedPodSecurity } from "./podSecurity";
import { MAX_SURGE } from "./rollout";
// Defined in ./rollout (config/ reads it without loading the Kubernetes provider); offered here too.
export { MAX_SURGE, maxPodsDuringRollout } from "./rollout";
import { ContainerResources, ImagePullPolicy, RunAs } from "./types";
import { MAX_DISRUPTED_PERCENT, TOPOLOGY_KEYS } from "../policy/facts";

type Probe = k8s.types.input.core.v1.Probe;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type PodSpec = k8s.types.input.core.v1.PodSpec;

export interface HaWorkloadArgs {
    /** The release: prefix of every object name and part of the pod labels. Required. */
    release: string;
    /** Which component of the app this is; names the objects, the container and the pod labels. Required. */
    component: Extract<Component, "backend" | "frontend">;
    /** The namespace (an Output of NamespaceBaseline, so the objects wait for it). Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object (pods additionally get `podLabels`). Required. */
    labels: Record<string, string>;
    /** The container image, pinned by digest (the cloud stacks' mirror) or version tag. Required. */
    image: string;
    /** When a node fetches the image. Default: "Always" (every start resolves a tag; pass "IfNotPresent" with a digest). */
    imagePullPolicy?: ImagePullPolicy;
    /** The port the container listens on, named "http". Required. */
    containerPort: number;
    /** The port the ClusterIP Service serves (targets "http"). Required. */
    servicePort: number;
    /** HPA minimum and the Deployment's first replica count; below 2 no PDB is created. Required. */
    minReplicas: number;
    /** HPA maximum. Required. */
    maxReplicas: number;
    /** The container's requests and limits (ephemeral storage is added to them). Required. */
    resources: ContainerResources;
    /** "preferred" schedules anyway when nodes run out; "required" leaves pods Pending instead. Required. */
    antiAffinity: "preferred" | "required";
    /** HPA target, percent of the CPU request. Required. */
    targetCpuUtilization: number;
    /** HPA target, percent of the memory request. Required. */
    targetMemoryUtilization: number;
    /** Restarts a wedged container. Required. */
    livenessProbe: Probe;
    /** Takes the pod out of the Service while it may not serve. Required. */
    readinessProbe: Probe;
    /** Guards slow starts so liveness does not kill a pod that is still booting. Default: none. */
    startupProbe?: Probe;
    /** The container's environment. Default: none. */
    env?: pulumi.Input<EnvVar[]>;
    /** Writable directories on an otherwise read-only root filesystem (each an emptyDir). Required (may be empty). */
    writablePaths: string[];
    /** The image's own non-root user and group. Required. */
    runAs: RunAs;
    /** PriorityClass of the pods. Default: none (the cluster's default priority). */
    priorityClassName?: pulumi.Input<string>;
    /** Annotations that roll the pods when they change (e.g. a hash of a Secret's version). Default: none. */
    podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Time the endpoints controller and the edge controller need to stop sending new requests. Default: 10. */
    preStopSleepSeconds?: number;
    /**
     * A preStop command run instead of the plain sleep, for a server whose stop signal is not
     * graceful: given the preStop wait, it returns a command that waits that long first. Default:
     * none (the sleep action).
     */
    preStopCommand?: (sleepSeconds: number) => string[];
    /** The container's command, replacing the image's entrypoint. Default: the image's. */
    command?: string[];
    /** A ConfigMap mounted read-only as a directory (no subPath, so it is never stale in a pod). Default: none. */
    configDirectory?: { configMapName: pulumi.Input<string>; mountPath: string };
    /** Time after preStop (SIGTERM) for the process to finish in-flight requests and exit. Default: 30. */
    shutdownSeconds?: number;
    /** External checkers' findings this workload's container rightly ignores (checkerWaivers.ts). Default: none. */
    waivers?: Waiver[];
}

/**
 * How long the pods stay bound to a node that stopped answering before they are evicted and
 * replaced elsewhere (the NoExecute taints node.kubernetes.io/unreachable and not-ready), instead
 * of the 300 s every pod gets by default (DefaultTolerationSeconds). The taint lands only once the
 * node has been silent for the node controller's grace period (40-50 s), so a restarting kubelet
 * or a short blip never reaches it; these pods are stateless, so an eviction costs a start
 * elsewhere, while 300 s leaves the workload a replica short (at the small tier: one backend
 * left) for five minutes. The zone-loss drill on real nodes measured both (docs/drills.md).
 */
export const NODE_LOSS_TOLERATION_SECONDS = 30;
export const NODE_LOSS_TAINTS = ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"] as const;

/** Size limit of each writable emptyDir. */
const WRITABLE_VOLUME_SIZE = "256Mi";

/** What a workload's PodDisruptionBudget allows, and the floor it keeps at a given replica count. */
export interface DisruptionBudgetPlan {
    /** The PDB's spec.maxUnavailable: a percentage of the pods running, rounded up by the disruption controller. */
    maxUnavailable: string;
    /** Pods that stay available during a voluntary disruption while `replicas` run (the disruption controller's desiredHealthy). */
    floorAt(replicas: number): number;
}

/**
 * The PodDisruptionBudget of a workload whose HPA minimum is `minReplicas`: maxUnavailable as a
 * percentage, so the budget scales with the autoscaler instead of staying fixed at the minimum's
 * floor (minAvailable = min − 1 lets a drain at an HPA maximum of 20 evict 16 pods at once).
 * The percentage is the smaller of MAX_DISRUPTED_PERCENT (the most any disruption may take at
 * any count) and one pod's share of the minimum, floor(100 / min) %: the controller rounds a
 * maxUnavailable percentage up, so at the minimum exactly one pod may go (drains proceed; the
 * minimum is sized to lose one), and at n pods ceil(n × p / 100) ≤ ceil(n / 4) may go.
 * Undefined below 2 replicas: no PDB (it would block every drain).
 */
export function pdbBudget(minReplicas: number): DisruptionBudgetPlan | undefined {
    if (minReplicas < 2) {
        return undefined;
    }
    const percent = Math.max(1, Math.min(MAX_DISRUPTED_PERCENT, Math.floor(100 / minReplicas)));
    return {
        maxUnavailable: `${percent}%`,
        floorAt: (replicas) => replicas - Math.ceil((replicas * percent) / 100),
    };
}

export class HaWorkload extends pulumi.ComponentResource {
    public readonly deploymentName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    /** The Service's cluster address (fixed for the Service's life; a client resolving it once must follow a replacement). */
    public readonly serviceClusterIp: pulumi.Output<string>;
    /** Undefined below 2 replicas: a PDB there could only block every drain. */
    public readonly pdbName: pulumi.Output<string> | undefined;
    public readonly hpaName: pulumi.Output<string>;
    public readonly serviceAccountName: pulumi.Output<string>;
    /** The pod labels, also every selector of this workload. */
    public readonly selector: Record<string, string>;

    constructor(name: string, args: HaWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:workload:HaWorkload", name, {}, opts);

        const selector = podLabels(args.release, args.component);
        const metadata = { name: componentName(args.release, args.component), namespace: args.namespace, labels: { ...args.labels, ...selector } };

        const serviceAccount = createServiceAccount(name, metadata, this);
        const deployment = createDeployment(name, args, metadata, selector, serviceAccount.metadata.name, this);
        const service = createService(name, args, metadata, selector, this);
        const pdb = createDisruptionBudget(name, args, metadata, selector, this);
        const hpa = createAutoscaler(name, args, metadata, deployment.metadata.name, this);

        this.selector = selector;
        this.deploymentName = deployment.metadata.name;
        this.serviceName = service.metadata.name;
        this.serviceClusterIp = service.spec.clusterIP;
        this.pdbName = pdb?.metadata.name;
        this.hpaName = hpa.metadata.name;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.registerOutputs({
            deploymentName: this.deploymentName,
            serviceName: this.serviceName,
            serviceClusterIp: this.serviceClusterIp,
            pdbName: this.pdbName,
            hpaName: this.hpaName,
            serviceAccountName: this.serviceAccountName,
        });
    }
}

/** Name, namespace and labels every object of the workload shares. */
interface WorkloadMetadata {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
}

function createServiceAccount(name: string, metadata: WorkloadMetadata, parent: pulumi.Resource): k8s.core.v1.ServiceAccount {
    return new k8s.core.v1.ServiceAccount(`${name}-sa`, {
        metadata,
        // KubePolaris talks to *managed* clusters with their own kubeconfigs; it needs no
        // token for the cluster it runs in.
        automountServiceAccountToken: false,
    }, { parent });
}

function createDeployment(name: string, args: HaWorkloadArgs, metadata: WorkloadMetadata, selector: Record<string, string>,
    serviceAccountName: pulumi.Input<string>, parent: pulumi.Resource): k8s.apps.v1.Deployment {
    return new k8s.apps.v1.Deployment(`${name}-deployment`, {
        metadata: {
            ...metadata,
            annotations: waiverAnnotations(WAIVERS.replicasUnderHpa, imageUserWaivers(args.runAs), args.waivers ?? [],
                pullPolicyWaivers(args.imagePullPolicy, args.image)),
        },
        spec: {
            replicas: args.minReplicas,
            selector: { matchLabels: selector },
            revisionHistoryLimit: 5,
            minReadySeconds: 10,
            progressDeadlineSeconds: 600,
            // Never below the desired count during a rollout: surge one pod, wait until it
            // is ready, then retire one old pod.
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: MAX_SURGE } },
            template: {
                metadata: { labels: metadata.labels, annotations: args.podAnnotations },
                spec: podSpec(args, selector, serviceAccountName),
            },
        },
    }, { parent, ignoreChanges: ["spec.replicas"] });
}

/** The pod: restricted security, spread over nodes and zones, drained gracefully. */
function podSpec(args: HaWorkloadArgs, selector: Record<string, string>, serviceAccountName: pulumi.Input<string>): PodSpec {
    const preStopSleep = args.preStopSleepSeconds ?? 10;
    const writablePaths = args.writablePaths;
    return {
        serviceAccountName,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        priorityClassName: args.priorityClassName,
        terminationGracePeriodSeconds: preStopSleep + (args.shutdownSeconds ?? 30),
        // A non-root process cannot bind below 1024 with every capability dropped (an added
        // NET_BIND_SERVICE never reaches a non-root process's effective set); this namespaced
        // sysctl lets it, and Pod Security "restricted" allows it.
        securityContext: restrictedPodSecurity(args.runAs, {
            sysctls: args.containerPort < 1024
                ? [{ name: "net.ipv4.ip_unprivileged_port_start", value: String(args.containerPort) }]
                : undefined,
        }),
        // A cluster DNS pod on a lost machine costs a lookup a second, not the node controller's grace.
        dnsConfig: CLIENT_DNS_CONFIG,
        affinity: { podAntiAffinity: antiAffinity(args.antiAffinity, selector) },
        tolerations: NODE_LOSS_TAINTS.map((key) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: NODE_LOSS_TOLERATION_SECONDS })),
        topologySpreadConstraints: [{
            maxSkew: 1,
            topologyKey: TOPOLOGY_KEYS.zone,
            // Soft: losing a zone must not leave replacement pods Pending.
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: selector },
            // Count each ReplicaSet on its own so a rollout's surge pods do not skew the spread
            // of the pods they replace.
            matchLabelKeys: ["pod-template-hash"],
        }],
        containers: [{
            name: args.component,
            image: args.image,
            // The cloud stacks pass IfNotPresent with a digest from their own ECR mirror (config/images.ts):
            // a node pulls it once. The default suits a tag, which can be pushed again.
            imagePullPolicy: args.imagePullPolicy ?? "Always",
            command: args.command,
            ports: [{ name: "http", containerPort: args.containerPort, protocol: "TCP" }],
            env: args.env,
            resources: withEphemeralStorage(args.resources, writablePaths.map(() => WRITABLE_VOLUME_SIZE)),
            livenessProbe: args.livenessProbe,
            readinessProbe: args.readinessProbe,
            startupProbe: args.startupProbe,
            // Keep serving while the pod is removed from Service endpoints and the edge controller's
            // backends; only then does SIGTERM arrive.
            lifecycle: { preStop: args.preStopCommand ? { exec: { command: args.preStopCommand(preStopSleep) } } : { sleep: { seconds: preStopSleep } } },
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                ...writablePaths.map((mountPath, i) => ({ name: `writable-${i}`, mountPath })),
                ...(args.configDirectory ? [{ name: "config", mountPath: args.configDirectory.mountPath, readOnly: true }] : []),
            ],
        }],
        volumes: [
            ...writablePaths.map((_, i) => ({ name: `writable-${i}`, emptyDir: { sizeLimit: WRITABLE_VOLUME_SIZE } })),
            ...(args.configDirectory ? [{ name: "config", configMap: { name: args.configDirectory.configMapName } }] : []),
        ],
    };
}

export function antiAffinity(mode: "preferred" | "required", selector: Record<string, string>): k8s.types.input.core.v1.PodAntiAffinity {
    const term = { labelSelector: { matchLabels: selector }, topologyKey: TOPOLOGY_KEYS.hostname };
    return mode === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
}

function createService(name: string, args: HaWorkloadArgs, metadata: WorkloadMetadata, selector: Record<string, string>,
    parent: pulumi.Resource): k8s.core.v1.Service {
    return new k8s.core.v1.Service(`${name}-service`, {
        metadata,
        spec: {
            type: "ClusterIP",
            selector,
            ports: [{ name: "http", port: args.servicePort, targetPort: "http", protocol: "TCP" }],
        },
    }, { parent });
}

/** A budget that scales with the autoscaler (pdbBudget); below 2 replicas none at all. */
function createDisruptionBudget(name: string, args: HaWorkloadArgs, metadata: WorkloadMetadata, selector: Record<string, string>,
    parent: pulumi.Resource): k8s.policy.v1.PodDisruptionBudget | undefined {
    const budget = pdbBudget(args.minReplicas);
    if (budget === undefined) {
        return undefined;
    }
    return new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
        metadata,
        spec: {
            maxUnavailable: budget.maxUnavailable,
            selector: { matchLabels: selector },
            // Crash-looping pods must not block a node drain.
            unhealthyPodEvictionPolicy: "AlwaysAllow",
        },
    }, { parent });
}

function createAutoscaler(name: string, args: HaWorkloadArgs, metadata: WorkloadMetadata, deploymentName: pulumi.Input<string>,
    parent: pulumi.Resource): k8s.autoscaling.v2.HorizontalPodAutoscaler {
    return new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
        metadata,
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
            minReplicas: args.minReplicas,
            maxReplicas: args.maxReplicas,
            metrics: [
                utilization("cpu", args.targetCpuUtilization),
                utilization("memory", args.targetMemoryUtilization),
            ],
            behavior: {
                // Scale down slowly (one pod a minute after 5 min of calm), so WebSocket sessions
                // are not cut in bulk when load dips.
                scaleDown: {
                    stabilizationWindowSeconds: 300,
                    selectPolicy: "Min",
                    policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
                },
                scaleUp: {
                    stabilizationWindowSeconds: 0,
                    selectPolicy: "Max",
                    policies: [
                        { type: "Percent", value: 100, periodSeconds: 30 },
                        { type: "Pods", value: 2, periodSeconds: 30 },
                    ],
                },
            },
        },
    }, { parent });
}

function utilization(resource: "cpu" | "memory", averageUtilization: number): k8s.types.input.autoscaling.v2.MetricSpec {
    return { type: "Resource", resource: { name: resource, target: { type: "Utilization", averageUtilization } } };
}
