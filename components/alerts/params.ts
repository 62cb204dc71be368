// The alert rules' parameters: the names of the objects the program creates, by the same helpers
// that name them. Pure, so the program (index.ts) and `npm run alerts:render` derive identical
// rules from a stack.
import { BACKEND } from "../../app/kubepolaris";
import { componentName, ingressName } from "../labels";
import { type EdgeMetricsSource, type EdgeTarget } from "./edgeMetrics";
import { AlertRuleParams, WorkloadTarget } from "./rules";

/** What the alert rules watch, in the program's own terms. */
export interface AlertTargets {
    /** The release: the objects' name prefix and the rule groups' prefix. */
    release: string;
    /** The namespace the workloads (and the cert-manager Certificate) live in. */
    namespace: string;
    /** HPA minimum of each HaWorkload (the availability floors follow from it). */
    minReplicas: { backend: number; frontend: number };
    /** The edge's TLS Secret (cert-manager's ingress/gateway shim names the Certificate after it). */
    tlsSecretName: string;
    /** The edge's shape (config `edge.kind`) and whose metrics measure it (config `monitoring.edgeMetrics`). */
    edge: { kind: "gateway" | "ingress"; metrics: EdgeMetricsSource };
    /** Where the runbooks are: each alert links to runbookBaseUrl + "#" + its lower-cased name. */
    runbookBaseUrl: string;
    /** The in-cluster database is a Galera cluster (config `database.members` > 1) with its own PDB. Default: false. */
    replicatedDatabase?: boolean;
    /** Minutes between the in-cluster database's dumps (config `database.backupIntervalMinutes`); none on RDS stacks. */
    databaseBackupIntervalMinutes?: number;
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
        edge: edgeTarget(targets),
        backendDeployment: componentName(targets.release, "backend"),
        workloads: [workload("backend"), workload("frontend")],
        certificate: targets.tlsSecretName,
        runbookBaseUrl: targets.runbookBaseUrl,
        // AdminPassword names its Job (and Secret) so.
        adminPasswordJob: componentName(targets.release, "admin-password"),
        // GaleraCluster names its PDB after the component.
        databasePdb: targets.replicatedDatabase ? componentName(targets.release, "mysql") : undefined,
        // DatabaseBackups names its CronJob so.
        databaseBackups: targets.databaseBackupIntervalMinutes === undefined ? undefined
            : { cronJob: componentName(targets.release, "mysql-backup"), intervalMinutes: targets.databaseBackupIntervalMinutes },
    };
}

/** The route the Edge component creates (components/edge.ts names the Gateway, HTTPRoute and Ingress so) and its backend Service. */
function edgeTarget(targets: AlertTargets): EdgeTarget {
    const route = ingressName(targets.release);
    const backendService = componentName(targets.release, "backend");
    const { kind, metrics } = targets.edge;
    if (metrics === "ingress-nginx") {
        if (kind !== "ingress") {
            throw new Error(`edge metrics "ingress-nginx" need edge kind "ingress", got "${kind}": ingress-nginx serves no Gateway API`);
        }
        return { controller: metrics, kind, route, backendService };
    }
    return kind === "gateway"
        ? { controller: metrics, kind, gateway: route, route, backendService }
        // The route sends to the backend Service's port BACKEND.port (index.ts).
        : { controller: metrics, kind, route, backendService, backendPort: BACKEND.port };
}
