// Where this program is right and an external checker (kube-score, Checkov) is not, the manifest
// itself says so with the checker's own annotation and a one-line reason. Every waiver is here,
// once; docs/external-checks.md lists the same. kube-score's `kube-score/ignore` takes no reason, so
// each ignored check also gets a `kube-score.kubepolaris.io/<check>` annotation carrying it.

import { parseImageReference } from "../policy/facts";

export interface Waiver {
    tool: "kube-score" | "checkov";
    /** kube-score check id, or Checkov check id (CKV_K8S_nn). */
    check: string;
    /** One line; Checkov splits its annotation at "=", so none in here. */
    reason: string;
}

const IMAGE_USER = "the image's own user owns the files it ships (app/kubepolaris.ts; mysql 999); a UID above 10000 could not use them";

const LOCAL_IMAGES = "images.pullPolicy: the local stack's images are built on its nodes (scripts/cluster/images.sh); there is no registry to pull from or pin a digest in";

export const WAIVERS = {
    /** The backend (1000), frontend nginx (101), admin Job (1000) and MySQL (999) images' users. */
    imageUser: [
        { tool: "kube-score", check: "container-security-context-user-group-id", reason: IMAGE_USER },
        { tool: "checkov", check: "CKV_K8S_40", reason: IMAGE_USER },
    ],
    /** Deployments whose HPA owns the count after the first rollout. */
    replicasUnderHpa: [{
        tool: "kube-score", check: "deployment-targeted-by-hpa-does-not-have-replicas-configured",
        reason: "replicas set once so the first rollout is already HA; spec.replicas is in ignoreChanges, so the HPA owns the count afterwards",
    }],
    /** Images that exist only in the nodes' container runtime, by tag (images.pullPolicy not Always: the local stack). */
    localImages: [
        { tool: "kube-score", check: "container-image-pull-policy", reason: LOCAL_IMAGES },
        { tool: "checkov", check: "CKV_K8S_15", reason: LOCAL_IMAGES },
        { tool: "checkov", check: "CKV_K8S_43", reason: LOCAL_IMAGES },
    ],
    /** Images pinned by digest and pulled IfNotPresent (the cloud stacks' mirror; Checkov accepts that, kube-score asks for Always regardless). */
    digestIfNotPresent: [{
        tool: "kube-score", check: "container-image-pull-policy",
        reason: "pinned by digest from the stack's own ECR mirror: a node that has the digest has the exact image, so IfNotPresent pulls it once per node",
    }],
    /** The KubePolaris backend reads its credentials from the environment only. */
    backendSecretEnv: [{
        tool: "checkov", check: "CKV_K8S_35",
        reason: "KubePolaris 1.0.5 reads DB_PASSWORD and JWT_SECRET from the environment only (no _FILE variants); the values come from Secrets",
    }],
    /** Containers that could read mounted Secret files but do not yet (a follow-up). */
    secretEnvFollowUp: [{
        tool: "checkov", check: "CKV_K8S_35",
        reason: "values come from Secrets (secretKeyRef); reading them from mounted files instead is a follow-up (the image supports it)",
    }],
    /** The edge Service selects the configured edge controller's pods, which the Edge component does not create. */
    externalSelector: [{
        tool: "kube-score", check: "service-targets-pod",
        reason: "selects the configured edge controller's pods (edge.controllerLabels: Traefik by default, serving the Gateway API; or the cluster's maintained Ingress controller), which edge.controller installs or the cluster already runs",
    }],
    /** The local stack's edge: no cloud load balancer. */
    nodePort: [{
        tool: "kube-score", check: "service-type",
        reason: "edge.serviceType NodePort: the local stack has no cloud load balancer (the other stacks use an NLB)",
    }],
} satisfies Record<string, Waiver[]>;

/** The annotations that waive `waivers` in one object's metadata (empty when there are none). */
export function waiverAnnotations(...groups: Waiver[][]): Record<string, string> {
    const waivers = groups.flat();
    const annotations: Record<string, string> = {};
    const kubeScore = waivers.filter((w) => w.tool === "kube-score");
    if (kubeScore.length > 0) {
        annotations["kube-score/ignore"] = kubeScore.map((w) => w.check).join(",");
        for (const w of kubeScore) {
            annotations[`kube-score.kubepolaris.io/${w.check}`] = w.reason;
        }
    }
    waivers.filter((w) => w.tool === "checkov").forEach((w, i) => {
        if (w.reason.includes("=")) {
            throw new Error(`waiver ${w.check}: Checkov splits at "=", so its reason must not contain one`);
        }
        annotations[`checkov.io/skip${i + 1}`] = `${w.check}=${w.reason}`;
    });
    return annotations;
}

/**
 * A pull policy other than Always: a digest pin needs nothing more than kube-score's; a tag is
 * only allowed that way for images local to the nodes (config/images.ts: the cloud stacks run digests).
 */
export function pullPolicyWaivers(policy: string | undefined, image: string): Waiver[] {
    if (policy === undefined || policy === "Always") {
        return [];
    }
    return parseImageReference(image).digest !== undefined ? WAIVERS.digestIfNotPresent : WAIVERS.localImages;
}

/** A pod running as a UID or GID below 10000: only ever the image's own user here. */
export function imageUserWaivers(runAs: { uid: number; gid: number }): Waiver[] {
    return runAs.uid < 10000 || runAs.gid < 10000 ? WAIVERS.imageUser : [];
}
