// The alert rules' parameters from the validated stack config: the names of the objects the
// program creates, by the same helper that names them. Pure, so the program (index.ts) and
// `npm run alerts:render` derive identical rules from a stack.
import { AppConfig } from "../../config";
import { componentName, ingressName } from "../labels";
import { AlertRuleParams, WorkloadTarget } from "./rules";

export function alertRuleParams(config: AppConfig): AlertRuleParams {
    const workload = (component: "backend" | "frontend"): WorkloadTarget => {
        // HaWorkload names its Deployment, HPA and PDB alike and its container after the component.
        const name = componentName(config.release, component);
        return { deployment: name, hpa: name, pdb: name, container: component, minReplicas: config[component].minReplicas };
    };
    return {
        groupPrefix: config.release,
        namespace: config.namespace,
        ingress: ingressName(config.release),
        backendService: componentName(config.release, "backend"),
        backendDeployment: componentName(config.release, "backend"),
        workloads: [workload("backend"), workload("frontend")],
        certificate: config.tls.secretName,
        runbookBaseUrl: config.monitoring.runbookBaseUrl,
    };
}
