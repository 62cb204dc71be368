// One highly available, stateless tier: Deployment + Service + PodDisruptionBudget + HPA +
// ServiceAccount. Used for the KubePolaris backend and frontend.
//
// Who owns the replica count: the HPA. The Deployment is created with `replicas = minReplicas`
// (so the first rollout is already HA) and `spec.replicas` is in ignoreChanges, so a later
// `pulumi up` never scales the Deployment back down to the minimum behind the autoscaler's back.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ResourceSpec } from "../config";
import { Waiver, WAIVERS, imageByTagWaivers, imageUserWaivers, waiverAnnotations } from "./checkerWaivers";
import { withEphemeralStorage } from "./ephemeralStorage";
import { Component, componentName, podLabels } from "./labels";
import { QuotaWorkload } from "./namespaceBaseline";
import { restrictedContainerSecurity, restrictedPodSecurity } from "./podSecurity";

type Probe = k8s.types.input.core.v1.Probe;
type EnvVar = k8s.types.input.core.v1.EnvVar;

export interface HaWorkloadArgs {
    release: string;
    component: Extract<Component, "backend" | "frontend">;
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object (pods additionally get `podLabels`). */
    labels: Record<string, string>;
    image: string;
    /** The port the container listens on, named "http". */
    containerPort: number;
    /** The port the ClusterIP Service serves (targets "http"). */
    servicePort: number;
    minReplicas: number;
    maxReplicas: number;
    resources: ResourceSpec;
    /** "preferred" schedules anyway when nodes run out; "required" leaves pods Pending instead. */
    antiAffinity: "preferred" | "required";
    targetCpuUtilization: number;
    targetMemoryUtilization: number;
    livenessProbe: Probe;
    readinessProbe: Probe;
    /** Guards slow starts so liveness does not kill a pod that is still booting. */
    startupProbe?: Probe;
    env?: pulumi.Input<EnvVar[]>;
    /** Writable directories on an otherwise read-only root filesystem (each an emptyDir). */
    writablePaths: string[];
    /** The image's own non-root user and group: files it ships are owned by them. */
    runAs: { uid: number; gid: number };
    priorityClassName?: pulumi.Input<string>;
    /** Annotations that roll the pods when they change (e.g. a hash of a Secret's version). */
    podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Time the endpoints controller and ingress-nginx need to stop sending new requests. */
    preStopSleepSeconds?: number;
    /** Time after preStop for in-flight requests (and WebSockets) to finish. */
    shutdownSeconds?: number;
    /** External checkers' findings this workload's container rightly ignores (checkerWaivers.ts). */
    waivers?: Waiver[];
}

/** Pods a rollout adds above the desired count (and never takes below it). */
export const MAX_SURGE = 1;

/**
 * A workload's worst case for the namespace quota: its HPA maximum plus a rollout's surge, each pod
 * at the largest of its size and `rolloutFrom` (sizes it may be rolling from, see QuotaWorkload).
 */
export function quotaEntry(name: string, sizing: { maxReplicas: number; resources: ResourceSpec }, rolloutFrom: ResourceSpec[] = []): QuotaWorkload {
    return { name, maxPods: sizing.maxReplicas + MAX_SURGE, resources: sizing.resources, rolloutFrom };
}

/**
 * The PodDisruptionBudget's floor for a workload whose HPA minimum is `minReplicas`: one below it,
 * so at the minimum one pod may always be evicted (node drains proceed) and the floor never exceeds
 * the replicas that exist. Undefined below 2 replicas: no PDB (it would block every drain).
 */
export function pdbMinAvailable(minReplicas: number): number | undefined {
    return minReplicas >= 2 ? minReplicas - 1 : undefined;
}

export class HaWorkload extends pulumi.ComponentResource {
    public readonly deploymentName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly pdbName: pulumi.Output<string> | undefined;
    public readonly hpaName: pulumi.Output<string>;
    public readonly serviceAccountName: pulumi.Output<string>;
    /** The pod labels, also every selector of this workload. */
    public readonly selector: Record<string, string>;

    constructor(name: string, args: HaWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:workload:HaWorkload", name, {}, opts);

        const objectName = componentName(args.release, args.component);
        const selector = podLabels(args.release, args.component);
        const labels = { ...args.labels, ...selector };
        const metadata = { name: objectName, namespace: args.namespace, labels };
        const preStopSleep = args.preStopSleepSeconds ?? 10;
        const writablePaths = args.writablePaths;
        const volumeSizeLimit = "256Mi";

        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata,
            // KubePolaris talks to *managed* clusters with their own kubeconfigs; it needs no
            // token for the cluster it runs in.
            automountServiceAccountToken: false,
        }, { parent: this });

        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: {
                ...metadata,
                annotations: waiverAnnotations(WAIVERS.replicasUnderHpa, imageByTagWaivers(args.image), imageUserWaivers(args.runAs), args.waivers ?? []),
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
                    metadata: { labels, annotations: args.podAnnotations },
                    spec: {
                        serviceAccountName: serviceAccount.metadata.name,
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        priorityClassName: args.priorityClassName,
                        terminationGracePeriodSeconds: preStopSleep + (args.shutdownSeconds ?? 30),
                        // A non-root process cannot bind below 1024 with every capability dropped
                        // (an added NET_BIND_SERVICE never reaches a non-root process's effective
                        // set); this namespaced sysctl lets it, and Pod Security "restricted" allows it.
                        securityContext: restrictedPodSecurity(args.runAs, args.containerPort < 1024
                            ? [{ name: "net.ipv4.ip_unprivileged_port_start", value: String(args.containerPort) }]
                            : undefined),
                        affinity: { podAntiAffinity: antiAffinity(args.antiAffinity, selector) },
                        topologySpreadConstraints: [{
                            maxSkew: 1,
                            topologyKey: "topology.kubernetes.io/zone",
                            // Soft: losing a zone must not leave replacement pods Pending.
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: selector },
                            // Count each ReplicaSet on its own so a rollout's surge pods do not
                            // skew the spread of the pods they replace.
                            matchLabelKeys: ["pod-template-hash"],
                        }],
                        containers: [{
                            name: args.component,
                            image: args.image,
                            // Version tags can be pushed again: every pod start resolves the tag, so
                            // no node keeps starting a stale build it cached (mirror the images into
                            // a regional registry such as ECR: a pod cannot start while it is unreachable).
                            imagePullPolicy: "Always",
                            ports: [{ name: "http", containerPort: args.containerPort, protocol: "TCP" }],
                            env: args.env,
                            resources: withEphemeralStorage(args.resources, writablePaths.map(() => volumeSizeLimit)),
                            livenessProbe: args.livenessProbe,
                            readinessProbe: args.readinessProbe,
                            startupProbe: args.startupProbe,
                            // Keep serving while the pod is removed from Service endpoints and
                            // ingress-nginx upstreams; only then does SIGTERM arrive.
                            lifecycle: { preStop: { sleep: { seconds: preStopSleep } } },
                            securityContext: restrictedContainerSecurity(),
                            volumeMounts: writablePaths.map((mountPath, i) => ({ name: `writable-${i}`, mountPath })),
                        }],
                        volumes: writablePaths.map((_, i) => ({ name: `writable-${i}`, emptyDir: { sizeLimit: volumeSizeLimit } })),
                    },
                },
            },
        }, { parent: this, ignoreChanges: ["spec.replicas"] });

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata,
            spec: {
                type: "ClusterIP",
                selector,
                ports: [{ name: "http", port: args.servicePort, targetPort: "http", protocol: "TCP" }],
            },
        }, { parent: this });

        let pdb: k8s.policy.v1.PodDisruptionBudget | undefined;
        const minAvailable = pdbMinAvailable(args.minReplicas);
        if (minAvailable !== undefined) {
            pdb = new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
                metadata,
                spec: {
                    minAvailable,
                    selector: { matchLabels: selector },
                    // Crash-looping pods must not block a node drain.
                    unhealthyPodEvictionPolicy: "AlwaysAllow",
                },
            }, { parent: this });
        }

        const hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
            metadata,
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
                minReplicas: args.minReplicas,
                maxReplicas: args.maxReplicas,
                metrics: [
                    utilization("cpu", args.targetCpuUtilization),
                    utilization("memory", args.targetMemoryUtilization),
                ],
                behavior: {
                    // Scale down slowly (one pod a minute after 5 min of calm), so WebSocket
                    // sessions are not cut in bulk when load dips.
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
        }, { parent: this });

        this.selector = selector;
        this.deploymentName = deployment.metadata.name;
        this.serviceName = service.metadata.name;
        this.pdbName = pdb?.metadata.name;
        this.hpaName = hpa.metadata.name;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.registerOutputs({
            deploymentName: this.deploymentName,
            serviceName: this.serviceName,
            pdbName: this.pdbName,
            hpaName: this.hpaName,
            serviceAccountName: this.serviceAccountName,
        });
    }
}

function antiAffinity(mode: "preferred" | "required", selector: Record<string, string>): k8s.types.input.core.v1.PodAntiAffinity {
    const term = { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" };
    return mode === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
}

function utilization(resource: "cpu" | "memory", averageUtilization: number): k8s.types.input.autoscaling.v2.MetricSpec {
    return { type: "Resource", resource: { name: resource, target: { type: "Utilization", averageUtilization } } };
}
