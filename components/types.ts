// Small value types that several components take in their Args. Each component's Args are its
// own; only these shapes are shared, so no component imports another's types (or the config's).

/** A container's CPU and memory requests and limits, as Kubernetes quantities ("500m", "1Gi"). */
export interface ContainerResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** When a node fetches a container's image: "Always" resolves the tag on every start; images that exist only in the nodes' container runtime (the local stack's, no registry) need "IfNotPresent" or "Never". */
export const IMAGE_PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];

/** The image's own non-root user and group: the files it ships are owned by them. */
export interface RunAs {
    uid: number;
    gid: number;
}

/** Where the backend reaches its database: pods in the release's namespace, or address blocks (RDS). */
export type DatabasePeer =
    | { kind: "pods"; labels: Record<string, string>; port: number }
    | { kind: "cidrs"; cidrs: string[]; port: number };
