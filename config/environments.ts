// One table of what each environment decides, with the reason for each row. The parsers read
// these decisions and nothing else about the environment, so a change of policy is one edit here.
//
// Policy enforcement levels are not here: the CLI reads them from policy/config/<stack>.json,
// and the program has no use for them.
import { REPLICA_FLOORS } from "../policy/facts";
import { deepFreeze } from "./validators";
import { type Environment, ENVIRONMENTS } from "./schema";

export interface EnvironmentDecisions {
    /**
     * Fewest replicas (HPA minimum) a workload may run: the shared floor the policy pack also
     * enforces (policy/facts). Two survive losing one; prod keeps two while one is drained.
     */
    minReplicas: number;
    /** Database modes allowed: an in-cluster MySQL has no standby, so only where data is disposable. */
    databaseModes: readonly ("rds" | "in-cluster")[];
    /** Edge Service types allowed: NodePort is for a cluster with no load balancer (local). */
    edgeServiceTypes: readonly ("LoadBalancer" | "NodePort")[];
    /** Whether the Gateway/Ingress waits for an address: nothing publishes one on the local cluster. */
    awaitLoadBalancer: boolean;
    /** Whether the edge serves HTTPS (and redirects HTTP): the local stack has no certificate. */
    edgeHttps: boolean;
    /**
     * Whether the routes answer any Host header: the local stack has no DNS name and is opened as
     * http://127.0.0.1:<NodePort>/; every other stack serves only its host.
     */
    edgeAnyHost: boolean;
    /** Whether manifests may be rendered to files: they hold Secrets in plaintext. */
    mayRenderManifests: boolean;
    /**
     * Fewest days RDS keeps automated backups (also the default). 0 would turn off backups and
     * point-in-time restore; prod keeps two weeks to cover an incident found late.
     */
    minBackupRetentionDays: number;
    /** Deletion protection and a final snapshot: only dev may be thrown away without them. */
    deletionProtection: boolean;
    finalSnapshot: boolean;
    /** RDS enhanced monitoring interval: prod sees a failover's load at 15 s resolution. */
    monitoringIntervalSeconds: number;
    /** Days the RDS logs stay in CloudWatch: prod keeps a quarter for audits. */
    logRetentionDays: number;
    /** KubePolaris' SERVER_MODE: "release" in prod, "debug" (verbose logs) elsewhere. */
    serverMode: "release" | "debug";
    /**
     * Whether the stack must name the NetworkPolicy enforcer its cluster runs (network.policyEnforcer
     * not "none"): staging and prod rely on the default-deny policies, which nothing enforces on a
     * default EKS cluster (the VPC CNI needs its network policy agent turned on).
     */
    requireNetworkPolicyEnforcer: boolean;
    /**
     * Whether the stack runs its images from its own ECR mirror, pinned by digest (images.mirror):
     * every cloud stack. A third party's registry is then on no pod start's path, and nobody who
     * can re-push a tag changes what replicas run. local has no registry (images built on the nodes).
     */
    imageMirror: boolean;
}

export const ENVIRONMENT_DECISIONS: Readonly<Record<Environment, Readonly<EnvironmentDecisions>>> = deepFreeze({
    local: {
        minReplicas: REPLICA_FLOORS.local, databaseModes: ["rds", "in-cluster"], edgeServiceTypes: ["LoadBalancer", "NodePort"],
        awaitLoadBalancer: false, edgeHttps: false, edgeAnyHost: true, mayRenderManifests: true,
        minBackupRetentionDays: 7, deletionProtection: true, finalSnapshot: true, monitoringIntervalSeconds: 60, logRetentionDays: 30,
        serverMode: "debug", requireNetworkPolicyEnforcer: false, imageMirror: false,
    },
    dev: {
        minReplicas: REPLICA_FLOORS.dev, databaseModes: ["rds", "in-cluster"], edgeServiceTypes: ["LoadBalancer"],
        awaitLoadBalancer: true, edgeHttps: true, edgeAnyHost: false, mayRenderManifests: false,
        minBackupRetentionDays: 7, deletionProtection: false, finalSnapshot: false, monitoringIntervalSeconds: 60, logRetentionDays: 30,
        serverMode: "debug", requireNetworkPolicyEnforcer: false, imageMirror: true,
    },
    staging: {
        minReplicas: REPLICA_FLOORS.staging, databaseModes: ["rds"], edgeServiceTypes: ["LoadBalancer"],
        awaitLoadBalancer: true, edgeHttps: true, edgeAnyHost: false, mayRenderManifests: false,
        minBackupRetentionDays: 7, deletionProtection: true, finalSnapshot: true, monitoringIntervalSeconds: 60, logRetentionDays: 30,
        serverMode: "debug", requireNetworkPolicyEnforcer: true, imageMirror: true,
    },
    prod: {
        minReplicas: REPLICA_FLOORS.prod, databaseModes: ["rds"], edgeServiceTypes: ["LoadBalancer"],
        awaitLoadBalancer: true, edgeHttps: true, edgeAnyHost: false, mayRenderManifests: false,
        minBackupRetentionDays: 14, deletionProtection: true, finalSnapshot: true, monitoringIntervalSeconds: 15, logRetentionDays: 90,
        serverMode: "release", requireNetworkPolicyEnforcer: true, imageMirror: true,
    },
});

/**
 * The decisions for `environment`. An unknown environment is already a config error; staging's
 * (the ordinary rules) then let every other key be checked and reported in the same run.
 */
export function decisionsFor(environment: Environment | undefined): Readonly<EnvironmentDecisions> {
    return ENVIRONMENT_DECISIONS[environment ?? "staging"];
}

/** "local and dev": the environments where `allowed` holds, for error messages. */
export function environmentsWhere(allowed: (d: EnvironmentDecisions) => boolean): string {
    return ENVIRONMENTS.filter((env) => allowed(ENVIRONMENT_DECISIONS[env])).join(" and ");
}
