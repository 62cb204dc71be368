// Kubernetes facts the policies share: type tokens, where each kind keeps its pod template,
// namespaces, and the controllers' int-or-percent arithmetic.
import type { PolicyProviderResource } from "@pulumi/policy";
import { Props } from "./common";

export const TYPES = {
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    pod: "kubernetes:core/v1:Pod",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    pdbBeta: "kubernetes:policy/v1beta1:PodDisruptionBudget",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    hpaBeta2: "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler",
    hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    service: "kubernetes:core/v1:Service",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    ingressClass: "kubernetes:networking.k8s.io/v1:IngressClass",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    namespace: "kubernetes:core/v1:Namespace",
    resourceQuota: "kubernetes:core/v1:ResourceQuota",
    limitRange: "kubernetes:core/v1:LimitRange",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
} as const;

/** Workloads whose replica count, PDB and HPA the HA checklist is about. */
export const REPLICATED_WORKLOADS: readonly string[] = [TYPES.deployment, TYPES.statefulSet];

/** Everything that runs pods (the pod-spec policies and the namespace baseline apply to all). */
export const POD_WORKLOADS: readonly string[] = [TYPES.deployment, TYPES.statefulSet, TYPES.daemonSet, TYPES.replicaSet, TYPES.job, TYPES.cronJob, TYPES.pod];

export const PDB_TYPES: readonly string[] = [TYPES.pdb, TYPES.pdbBeta];
export const HPA_TYPES: readonly string[] = [TYPES.hpa, TYPES.hpaBeta2, TYPES.hpaV1];

/** "Deployment" for "kubernetes:apps/v1:Deployment". */
export function kindOf(type: string): string {
    return type.split(":")[2] ?? type;
}

/** "apps" for "kubernetes:apps/v1:Deployment", "" for the core group. */
export function groupOf(type: string): string {
    const [group, version] = (type.split(":")[1] ?? "").split("/");
    return version === undefined || group === "core" ? "" : group;
}

export interface PodTemplate {
    labels: Record<string, string>;
    spec: Props;
}

/** The pod template a workload stamps pods from (a Pod is its own template). */
export function podTemplate(type: string, props: Props): PodTemplate | undefined {
    let template: Props | undefined;
    if (type === TYPES.pod) {
        template = props;
    } else if (type === TYPES.cronJob) {
        template = props.spec?.jobTemplate?.spec?.template;
    } else {
        template = props.spec?.template;
    }
    if (!template) {
        return undefined;
    }
    return { labels: template.metadata?.labels ?? {}, spec: template.spec ?? {} };
}

export interface ContainerRef {
    /** "containers[0] (backend)" */
    where: string;
    init: boolean;
    container: Props;
}

/** Regular containers, then init containers, each with a printable location. */
export function containersOf(podSpec: Props, opts: { init: boolean } = { init: true }): ContainerRef[] {
    const list: ContainerRef[] = [];
    const add = (field: "containers" | "initContainers", init: boolean) => {
        const items = podSpec[field];
        if (!Array.isArray(items)) {
            return;
        }
        items.forEach((container: Props, i: number) => {
            list.push({ where: `${field}[${i}] (${container?.name ?? "unnamed"})`, init, container: container ?? {} });
        });
    };
    add("containers", false);
    if (opts.init) {
        add("initContainers", true);
    }
    return list;
}

/**
 * The namespace an object lands in: its own, else the provider's default namespace, else
 * "default" (what the Kubernetes provider does).
 */
export function namespaceOf(props: Props, provider?: PolicyProviderResource): string {
    const own = props.metadata?.namespace;
    if (typeof own === "string" && own !== "") {
        return own;
    }
    const fromProvider = provider?.props?.namespace;
    return typeof fromProvider === "string" && fromProvider !== "" ? fromProvider : "default";
}

/** metadata.name, or undefined when the provider will auto-name the object. */
export function nameOf(props: Props): string | undefined {
    const name = props.metadata?.name;
    return typeof name === "string" && name !== "" ? name : undefined;
}

export type Scaled = { ok: true; value: number } | { ok: false; problem: string };

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer is taken as is; "N%" of `total` rounds up
 * or down as the caller's controller does. Anything else is invalid.
 */
export function scaleIntOrPercent(value: unknown, total: number, roundUp: boolean): Scaled {
    if (typeof value === "number") {
        return Number.isInteger(value) && value >= 0
            ? { ok: true, value }
            : { ok: false, problem: `${value} is not a non-negative integer` };
    }
    if (typeof value === "string") {
        const m = /^(\d+)%$/.exec(value);
        if (!m) {
            return { ok: false, problem: `"${value}" is neither an integer nor a percentage like "50%"` };
        }
        const exact = (Number(m[1]) * total) / 100;
        return { ok: true, value: roundUp ? Math.ceil(exact) : Math.floor(exact) };
    }
    return { ok: false, problem: `${JSON.stringify(value)} is neither an integer nor a percentage` };
}

export interface DisruptionBudget {
    /** Pods that must stay healthy when `expected` pods exist. */
    desiredHealthy: number;
    /** Evictions allowed when all `expected` pods are healthy. */
    allowed: number;
    /** "minAvailable 2", "maxUnavailable 25%", ... */
    summary: string;
}

/**
 * What the disruption controller computes for a PDB over `expected` pods: minAvailable as an
 * integer, or a percentage rounded up; maxUnavailable as an integer, or a percentage rounded up,
 * subtracted from `expected`. Neither set: policy/v1beta1 defaults minAvailable to 1, while
 * policy/v1 has no default, so the budget keeps no pod at all.
 */
export function disruptionBudget(pdbSpec: Props, expected: number, pdbType: string = TYPES.pdb): DisruptionBudget | { problem: string } {
    const hasMin = pdbSpec.minAvailable !== undefined && pdbSpec.minAvailable !== null;
    const hasMax = pdbSpec.maxUnavailable !== undefined && pdbSpec.maxUnavailable !== null;
    if (hasMin && hasMax) {
        return { problem: "sets both minAvailable and maxUnavailable (the API accepts only one)" };
    }
    if (!hasMin && !hasMax && pdbType !== TYPES.pdbBeta) {
        return { problem: "sets neither minAvailable nor maxUnavailable: a policy/v1 budget without them keeps no pod, so it protects nothing" };
    }
    let desiredHealthy: number;
    let summary: string;
    if (hasMax) {
        const scaled = scaleIntOrPercent(pdbSpec.maxUnavailable, expected, true);
        if (!scaled.ok) {
            return { problem: `maxUnavailable ${scaled.problem}` };
        }
        desiredHealthy = Math.max(0, expected - scaled.value);
        summary = `maxUnavailable ${pdbSpec.maxUnavailable}`;
    } else {
        const minAvailable = hasMin ? pdbSpec.minAvailable : 1;
        const scaled = scaleIntOrPercent(minAvailable, expected, true);
        if (!scaled.ok) {
            return { problem: `minAvailable ${scaled.problem}` };
        }
        desiredHealthy = scaled.value;
        summary = hasMin ? `minAvailable ${minAvailable}` : "minAvailable 1 (the policy/v1beta1 default)";
    }
    return { desiredHealthy, allowed: Math.max(0, expected - desiredHealthy), summary };
}

/** A container's declared ports: containerPort numbers and their names. */
export interface DeclaredPort {
    name?: string;
    containerPort: number;
    protocol: string;
}

export function declaredPorts(container: Props): DeclaredPort[] {
    const ports: Props[] = Array.isArray(container.ports) ? container.ports : [];
    return ports.filter((p) => typeof p?.containerPort === "number").map((p) => ({
        name: typeof p.name === "string" && p.name !== "" ? p.name : undefined,
        containerPort: p.containerPort,
        protocol: typeof p.protocol === "string" ? p.protocol : "TCP",
    }));
}

/**
 * Resolves an int-or-string port against the ports a container declares: a number must be one of
 * its containerPorts, a name one of its port names. undefined when the container declares neither.
 */
export function resolveDeclaredPort(port: unknown, container: Props): DeclaredPort | undefined {
    const declared = declaredPorts(container);
    if (typeof port === "number") {
        return declared.find((p) => p.containerPort === port);
    }
    if (typeof port === "string" && /^\d+$/.test(port)) {
        return declared.find((p) => p.containerPort === Number(port));
    }
    return typeof port === "string" ? declared.find((p) => p.name === port) : undefined;
}

/** "8080" or "\"http\"", for messages. */
export function formatPort(port: unknown): string {
    return typeof port === "string" ? `"${port}"` : String(port);
}
