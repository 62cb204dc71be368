// Pod Security "restricted", written once: every pod of the release (the backend and frontend
// workloads, the admin-password Job, the in-cluster MySQL) runs as the image's non-root user with
// the runtime's default seccomp profile, every container without privilege escalation, without
// capabilities and on a read-only root filesystem.
import * as k8s from "@pulumi/kubernetes";
import { RunAs } from "./types";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

export interface RestrictedPodOptions {
    /** Namespaced sysctls the pod sets (allowed under "restricted"). Default: none. */
    sysctls?: { name: string; value: string }[];
    /** "OnRootMismatch" skips the recursive chown of a large volume that already has the right owner. Default: unset (Always). */
    fsGroupChangePolicy?: "OnRootMismatch" | "Always";
}

export function restrictedPodSecurity(runAs: RunAs, options: RestrictedPodOptions = {}): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: runAs.uid,
        runAsGroup: runAs.gid,
        fsGroup: runAs.gid,
        fsGroupChangePolicy: options.fsGroupChangePolicy,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: options.sysctls,
    };
}

export function restrictedContainerSecurity(): SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}
