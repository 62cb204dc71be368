// The alert rules' parameters: the names of the objects the program creates, by the same helpers
// that name them. Pure, so the program (index.ts) and `npm run alerts:render` derive identical
// rules from a stack.
import { componentName, ingressName } from "../labels";
import { AlertRuleParams, WorkloadTarget } from "./rules";

/** What the alert rules watch, in the program's own terms. */
export interface AlertTargets {
    /** The release: the objects' name prefix and the rule groups' prefix. */
    release: string;
    /** The namespace the workloads (and the cert-manager Certificate) live in. */
    namespace: string;
    /** HPA minimum of each HaWorkload (the availability floors follow from it). */
    minReplicas: { backend: number; frontend: number };
    /** The Ingress' TLS Secret (cert-manager's ingress-shim names the Certificate after it). */
    tlsSecretName: string;
    /** Where the runbooks are: each alert links to runbookBaseUrl + "#" + its lower-cased name. */
    runbookBaseUrl: string;
}

export function alertRuleParams(targets: AlertTargets): AlertRuleParams {
    const workload = (component: "backend" | "frontend"): WorkloadTarget => {
        // HaWorkload names its Deployment, HPA and PDB alike and its container after the component.
        const name = componentName(targets.release, component);
        return { deployment: name, hpa: name, pdb: name, container: component, minReplicas: targets.minReplicas[component] };
    };
    return {
        groupPrefix: targets.release,
        namespace: targets.namespace,
        ingress: ingressName(targets.release),
        backendService: componentName(targets.release, "backend"),
        backendDeployment: componentName(targets.release, "backend"),
        workloads: [workload("backend"), workload("frontend")],
        certificate: targets.tlsSecretName,
        runbookBaseUrl: targets.runbookBaseUrl,
        // AdminPassword names its Job (and Secret) so.
        adminPasswordJob: componentName(targets.release, "admin-password"),
    };
}
