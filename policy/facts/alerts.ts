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
export type AlertName = (typeof ALERT_NAMES)[number];
