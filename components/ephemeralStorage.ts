// Node-local disk, declared like CPU and memory. A pod's emptyDir volumes and its containers' logs
// live on the node's disk; without requests the scheduler places pods on a full disk, and without
// limits one pod filling it gets every pod on the node evicted. The kubelet evicts a pod when its
// containers' usage plus its emptyDirs exceed the sum of the containers' limits, so the limit
// covers the emptyDirs' size limits plus the logs.
import { formatMemory, memoryBytes } from "./quantity";

/** The kubelet's default log rotation keeps 5 × 10 Mi per container; twice that, rounded up. */
export const LOG_ALLOWANCE = "128Mi";
/** What a container with a read-only root filesystem typically holds on disk: its rotated logs. */
export const EPHEMERAL_STORAGE_REQUEST = "64Mi";

export interface ResourceRequirements {
    requests: Record<string, string>;
    limits: Record<string, string>;
}

/** `resources` plus ephemeral-storage for a container whose pod has these emptyDir size limits. */
export function withEphemeralStorage<R extends ResourceRequirements>(resources: R, emptyDirSizeLimits: string[]): R {
    const limit = [LOG_ALLOWANCE, ...emptyDirSizeLimits].reduce((total, q) => total + memoryBytes(q), 0);
    return {
        ...resources,
        requests: { ...resources.requests, "ephemeral-storage": EPHEMERAL_STORAGE_REQUEST },
        limits: { ...resources.limits, "ephemeral-storage": formatMemory(limit) },
    };
}
