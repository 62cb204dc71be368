// Label keys the program sets and the pack reads. The pack judges any program, so it never needs
// the program's values, only what the keys mean.

/** Kubernetes' recommended labels and the project's own environment label. */
export const LABEL_KEYS = {
    name: "app.kubernetes.io/name",
    instance: "app.kubernetes.io/instance",
    component: "app.kubernetes.io/component",
    partOf: "app.kubernetes.io/part-of",
    managedBy: "app.kubernetes.io/managed-by",
    environment: "kubepolaris.io/environment",
} as const;

/** Node labels the scheduler spreads and separates replicas by. */
export const TOPOLOGY_KEYS = {
    hostname: "kubernetes.io/hostname",
    zone: "topology.kubernetes.io/zone",
    /** Replaced by `zone`; current nodes no longer carry it. */
    deprecatedZone: "failure-domain.beta.kubernetes.io/zone",
} as const;
