// The alerts the stack must define: the program creates exactly these (components/alerts) and
// the pack's prometheus-alerts policy requires them by default.

/**
 * The HA guide's 监控告警 (monitoring and alerts) list — replicas below desired, CPU, memory, P99
 * latency, database connection failures (seen as the API's 5xx rate), certificate expiry — plus
 * what keeps its availability and drain promises visible: the backend down, replicas below the PDB
 * floor, crash loops, an HPA at its maximum, a PDB that allows no disruption; and the Job that replaces the
 * backend's published admin password failing (the edge waits for it, so a failure keeps the app offline).
 */
export const ALERT_NAMES = [
    "KubePolarisBackendUnavailable",
    "KubePolarisHighLatencyP99",
    "KubePolarisReplicasBelowPdbFloor",
    "KubePolarisReplicasBelowDesired",
    "KubePolarisHighCpu",
    "KubePolarisHighMemory",
    "KubePolarisApiErrorRate",
    "KubePolarisCertificateExpiringSoon",
    "KubePolarisPodCrashLooping",
    "KubePolarisHpaMaxedOut",
    "KubePolarisPdbNoDisruptionsAllowed",
    "KubePolarisAdminPasswordJobFailed",
] as const;

/**
 * Alerts only a stack with its database in the cluster has: its dumps (components/database/backups.ts)
 * stopping. RDS stacks have RDS's automated backups and their CloudWatch alarms instead, so the
 * pack does not require these by default; the local stack's policy config does.
 */
export const IN_CLUSTER_DATABASE_ALERT_NAMES = ["KubePolarisDatabaseBackupMissing"] as const;
export type AlertName = (typeof ALERT_NAMES)[number] | (typeof IN_CLUSTER_DATABASE_ALERT_NAMES)[number];
