// Pod Security "restricted", written once: every pod of the release runs as the image's non-root
// user with the runtime's default seccomp profile, every container without privilege escalation,
// without capabilities and on a read-only root filesystem.
import * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

export function restrictedPodSecurity(runAs: { uid: number; gid: number }, sysctls?: { name: string; value: string }[]): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: runAs.uid,
        runAsGroup: runAs.gid,
        fsGroup: runAs.gid,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls,
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
