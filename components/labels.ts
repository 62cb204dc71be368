// The single source of pod labels. Deployments, Services, PDBs, anti-affinity terms, topology
// spread constraints and NetworkPolicies all take their selectors from here, so they cannot drift.
// The keys are the ones the policy pack reads (policy/facts).
import { LABEL_KEYS } from "../policy/facts";

export const APP_NAME = "kubepolaris";

export type Component = "backend" | "frontend" | "mysql" | "mysql-backup" | "admin-password";

/** Labels that identify one component's pods; also the selector for that component. */
export function podLabels(release: string, component: Component): Record<string, string> {
    return {
        [LABEL_KEYS.name]: APP_NAME,
        [LABEL_KEYS.instance]: release,
        [LABEL_KEYS.component]: component,
    };
}

/** Labels for every object the release owns (metadata only, never a selector). */
export function commonLabels(release: string, environment: string): Record<string, string> {
    return {
        [LABEL_KEYS.name]: APP_NAME,
        [LABEL_KEYS.instance]: release,
        [LABEL_KEYS.partOf]: APP_NAME,
        [LABEL_KEYS.managedBy]: "pulumi",
        [LABEL_KEYS.environment]: environment,
    };
}

/** Kubernetes object name of a component's Deployment/Service/PDB/HPA. */
export function componentName(release: string, component: Component): string {
    return `${release}-${component}`;
}

/** Kubernetes object name of the release's Ingress (the alerts select its request metrics by it). */
export function ingressName(release: string): string {
    return release;
}
