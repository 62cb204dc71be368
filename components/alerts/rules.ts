// The KubePolaris alert rules, built once from the names the program creates. Pure: no Pulumi,
// no I/O. The AlertRules component puts the groups into a PrometheusRule; scripts/render-alert-
// rules.ts writes the very same groups to a Prometheus rule file for `promtool check rules` and
// the `promtool test rules` unit tests under test/alerts/.
//
// What the expressions assume about the monitoring stack (kube-prometheus-stack defaults):
// - kube-state-metrics v2 is scraped with honorLabels, so `namespace`, `deployment`,
//   `horizontalpodautoscaler`, `poddisruptionbudget`, `pod` and `container` are the objects' own.
// - cAdvisor metrics come from the kubelet with the pod's `namespace`, `pod` and `container`.
// - cert-manager's controller is scraped; its ServiceMonitor may or may not honour labels, so the
//   Certificate's namespace is read from `exported_namespace` or, failing that, `namespace`.
//
// - The edge controller's own metrics are scraped (docs/alerts.md, "Edge metrics"): Traefik's
//   per-service request counter and histogram (the default edge, Gateway API or Ingress), or
//   ingress-nginx's per-Ingress ones (edge.kind ingress on a cluster that runs it). A scrape through
//   a ServiceMonitor renames a metric's own labels that clash with the target's (`namespace`,
//   `service`) to `exported_<label>`; a PodMonitor renames only `namespace`; honorLabels renames
//   nothing. The edge selectors accept every one of these shapes.
//
// The backend itself exports no metrics (KubePolaris has no /metrics endpoint), so the guide's
// application metrics (http_request_duration_seconds, kubepolaris_db_connection_errors_total)
// are not used: request latency and errors are measured where every request passes, the edge.

import { ALERT_NAMES, type AlertName, HA_MIN_REPLICAS, IN_CLUSTER_DATABASE_ALERT_NAMES } from "../../policy/facts";
import {
    EDGE_METRICS, edgeRequestRates, edgeRouteDescription, type EdgeTarget, eq, escapeRegex, quote, re, statusMatcher,
} from "./edgeMetrics";

export { EDGE_METRICS, type EdgeTarget };

/** The alert names: the policy pack requires exactly these (one list, in policy/facts). */
export { ALERT_NAMES, type AlertName, IN_CLUSTER_DATABASE_ALERT_NAMES };

/** The alerts buildRuleGroups makes from `p`: every stack's, and the in-cluster database's when it has one. */
export function alertNamesFor(p: Pick<AlertRuleParams, "databaseBackups">): AlertName[] {
    return [...ALERT_NAMES, ...(p.databaseBackups ? IN_CLUSTER_DATABASE_ALERT_NAMES : [])];
}

export type Severity = "critical" | "warning";

/** One Deployment with its HPA, PDB and container, by the names the cluster will know them. */
export interface WorkloadTarget {
    deployment: string;
    hpa: string;
    /** The PDB's name. A PDB that does not exist (too few replicas) simply matches no series. */
    pdb: string;
    /** The application container's name inside the pod. */
    container: string;
    /** HPA minimum: the absolute availability floor is min(2, minReplicas). */
    minReplicas: number;
}

export interface AlertRuleParams {
    /** Prefix of the rule group names (the release). */
    groupPrefix: string;
    /** Namespace the workloads (and the cert-manager Certificate) live in. */
    namespace: string;
    /** The edge route to the backend's Service, by the controller whose metrics measure it. */
    edge: EdgeTarget;
    /** The backend's Deployment (among `workloads`). */
    backendDeployment: string;
    workloads: WorkloadTarget[];
    /** cert-manager Certificate that issues the edge's TLS secret (the ingress/gateway shim names it after the secret). */
    certificate: string;
    /** Alert `runbook_url` = runbookBaseUrl + "#" + lower-cased alert name. */
    runbookBaseUrl: string;
    /** The Job that replaces the backend's published admin password (components/adminPassword.ts). */
    adminPasswordJob: string;
    /** The in-cluster Galera cluster's PDB (components/database/galeraCluster.ts), if there is one: a member down blocks drains. */
    databasePdb?: string;
    /** The in-cluster database's backup CronJob and its interval (components/database/backups.ts), if there is one. */
    databaseBackups?: { cronJob: string; intervalMinutes: number };
}

export interface AlertingRule {
    alert: AlertName;
    expr: string;
    for: string;
    labels: { severity: Severity } & Record<string, string>;
    annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
    name: string;
    rules: AlertingRule[];
}

/** Thresholds of the HA guide's 监控告警 table (CPU > 80 %, memory > 85 %, P99 > 1 s, cert < 30 days). */
export const THRESHOLDS = {
    latencyP99Seconds: 1,
    cpuOfLimit: 0.8,
    memoryOfLimit: 0.85,
    certificateDays: 30,
    /** Below this many available pods a workload is no longer highly available (the pack's floor, too). */
    minimumAvailable: HA_MIN_REPLICAS,
    /** Share of the backend's requests answered 5xx (a lost database shows here first). */
    errorRatio: 0.05,
} as const;

/** Builds the alert rule groups. Throws on params that would produce a rule selecting nothing. */
export function buildRuleGroups(p: AlertRuleParams): RuleGroup[] {
    validate(p);
    const ns = eq("namespace", p.namespace);
    const deployments = oneOf("deployment", p.workloads.map((w) => w.deployment));
    const hpas = oneOf("horizontalpodautoscaler", p.workloads.map((w) => w.hpa));
    const pdbs = oneOf("poddisruptionbudget", [...p.workloads.map((w) => w.pdb), ...(p.databasePdb ? [p.databasePdb] : [])]);
    const containers = oneOf("container", p.workloads.map((w) => w.container));
    // Pods of a Deployment are named <deployment>-<pod-template-hash>-<suffix>.
    const pods = re("pod", `(${p.workloads.map((w) => escapeRegex(w.deployment)).join("|")})-[a-z0-9]+-[a-z0-9]+`);
    // Requests to the backend through the edge route, in the edge controller's own metrics, whatever
    // the scrape renamed; WebSockets excluded: a socket "request" lasts as long as the session.
    const edgeMetrics = EDGE_METRICS[p.edge.controller];
    const edgeRates = (metric: string, ...extra: string[]) => edgeRequestRates(p.edge, p.namespace, metric, "5m", extra);
    const route = edgeRouteDescription(p.edge, p.namespace);
    const edgeLabels = { namespace: p.namespace, route: p.edge.route };
    const backendAvailable = `kube_deployment_status_replicas_available${sel(ns, eq("deployment", p.backendDeployment))}`;

    const rule = (alert: AlertName, severity: Severity, forDuration: string, expr: string,
        summary: string, description: string, extraLabels: Record<string, string> = {}): AlertingRule => ({
        alert,
        expr,
        for: forDuration,
        labels: { severity, ...extraLabels },
        annotations: {
            summary,
            description: description.replace("{{for}}", humanFor(forDuration)),
            runbook_url: `${p.runbookBaseUrl}#${alert.toLowerCase()}`,
        },
    });

    // --- availability -----------------------------------------------------------------------
    const available = `max by (namespace, deployment) (kube_deployment_status_replicas_available${sel(ns, deployments)})`;
    // The PDB floor is read from the cluster (desired_healthy: what the disruption controller keeps
    // at the current replica count, for minAvailable and maxUnavailable alike), mapped from each
    // PDB's name onto its Deployment's name; a PDB that does not exist contributes nothing.
    const pdbFloor = p.workloads.map((w) =>
        `label_replace(kube_poddisruptionbudget_status_desired_healthy${sel(ns, eq("poddisruptionbudget", w.pdb))}, `
        + `"deployment", ${quote(w.deployment)}, "poddisruptionbudget", ".*")`).join("\n    or\n    ");
    // The absolute floor: 2, or fewer when the workload is meant to run fewer (local, minReplicas 1).
    const absoluteFloors = new Map<number, string[]>();
    for (const w of p.workloads) {
        const floor = Math.min(THRESHOLDS.minimumAvailable, w.minReplicas);
        absoluteFloors.set(floor, [...(absoluteFloors.get(floor) ?? []), w.deployment]);
    }
    const belowAbsolute = [...absoluteFloors.entries()].map(([floor, names]) =>
        `max by (namespace, deployment) (kube_deployment_status_replicas_available${sel(ns, oneOf("deployment", names))}) < ${floor}`);

    const availability: AlertingRule[] = [
        rule("KubePolarisBackendUnavailable", "critical", "2m",
            // Every backend pod failing its probes (the kubelet calls /healthz and /readyz), or
            // the Deployment gone: the API and every WebSocket are down. `absent` covers the latter.
            `max by (namespace, deployment) (${backendAvailable}) < 1\nor\nabsent(${backendAvailable})`,
            "KubePolaris backend has no available pod",
            `Deployment ${p.namespace}/${p.backendDeployment} has had no available pod (none passes its health checks, or it is gone)`
            + " for more than {{for}}: the API and the UI's data are down.",
            { namespace: p.namespace, deployment: p.backendDeployment }),
        rule("KubePolarisReplicasBelowPdbFloor", "critical", "5m",
            `(\n  ${available}\n  < on (namespace, deployment)\n  max by (namespace, deployment) (\n    ${pdbFloor}\n  )\n)\nor\n(\n  ${belowAbsolute.join("\n  or\n  ")}\n)`,
            "KubePolaris Deployment has fewer available pods than it must keep",
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has only {{ $value }} available pod(s),"
            + ` below the floor its PodDisruptionBudget keeps or below ${THRESHOLDS.minimumAvailable}, for more than {{for}}:`
            + " it is no longer highly available."),
        rule("KubePolarisReplicasBelowDesired", "warning", "15m",
            `${available}\n< on (namespace, deployment)\nmax by (namespace, deployment) (kube_deployment_spec_replicas${sel(ns, deployments)})`,
            "KubePolaris Deployment has fewer available pods than desired",
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had only {{ $value }} available pod(s),"
            + " fewer than its desired replica count, for more than {{for}} (pods Pending, failing readiness or crash-looping)."),
        rule("KubePolarisPodCrashLooping", "warning", "15m",
            // The waiting-reason series only exists while the container waits; between restarts
            // it vanishes, so look back over the back-off interval to keep the alert pending.
            `max by (namespace, pod, container) (\n  max_over_time(kube_pod_container_status_waiting_reason${sel(ns, pods, containers, eq("reason", "CrashLoopBackOff"))}[5m])\n) >= 1`,
            "KubePolaris container is crash-looping",
            "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff"
            + " for more than {{for}}."),
        rule("KubePolarisPdbNoDisruptionsAllowed", "warning", "15m",
            `max by (namespace, poddisruptionbudget) (kube_poddisruptionbudget_status_pod_disruptions_allowed${sel(ns, pdbs)}) == 0`,
            "KubePolaris PodDisruptionBudget allows no disruptions",
            "PodDisruptionBudget {{ $labels.namespace }}/{{ $labels.poddisruptionbudget }} has allowed no voluntary disruptions"
            + " for more than {{for}}: node drains and cluster upgrades are blocked until its pods are healthy again."),
    ];

    // --- saturation -------------------------------------------------------------------------
    const limit = (resource: "cpu" | "memory") =>
        `max by (namespace, pod, container) (kube_pod_container_resource_limits${sel(ns, pods, containers, eq("resource", resource))})`;
    const saturation: AlertingRule[] = [
        rule("KubePolarisHighLatencyP99", "warning", "5m",
            // Aggregate the buckets of every controller pod (and backend rule) before taking the quantile.
            `histogram_quantile(\n  0.99,\n  sum by (le) (\n    ${edgeRates(`${edgeMetrics.duration}_bucket`)}\n  )\n)`
            + ` > ${THRESHOLDS.latencyP99Seconds}`,
            "KubePolaris API P99 latency is high",
            `The backend's 99th percentile request latency through ${route} is`
            + ` {{ $value | humanizeDuration }} (threshold ${THRESHOLDS.latencyP99Seconds}s) for more than {{for}}.`,
            edgeLabels),
        rule("KubePolarisHighCpu", "warning", "15m",
            `sum by (namespace, pod, container) (\n  rate(container_cpu_usage_seconds_total${sel(ns, pods, containers)}[5m])\n)\n`
            + `/ on (namespace, pod, container)\n${limit("cpu")}\n> ${THRESHOLDS.cpuOfLimit}`,
            "KubePolaris container CPU usage is close to its limit",
            "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has used"
            + ` {{ $value | humanizePercentage }} of its CPU limit (threshold ${percent(THRESHOLDS.cpuOfLimit)}) for more than {{for}};`
            + " it is being throttled or about to be."),
        rule("KubePolarisHighMemory", "warning", "10m",
            `max by (namespace, pod, container) (container_memory_working_set_bytes${sel(ns, pods, containers)})\n`
            + `/ on (namespace, pod, container)\n${limit("memory")}\n> ${THRESHOLDS.memoryOfLimit}`,
            "KubePolaris container memory usage is close to its limit",
            "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has used"
            + ` {{ $value | humanizePercentage }} of its memory limit (threshold ${percent(THRESHOLDS.memoryOfLimit)}) for more than {{for}};`
            + " it will be OOM-killed when it reaches the limit."),
        rule("KubePolarisHpaMaxedOut", "warning", "15m",
            // An HPA whose max equals its min is "at max" by construction: not worth an alert.
            `(\n  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas${sel(ns, hpas)})\n`
            + `  >= on (namespace, horizontalpodautoscaler)\n`
            + `  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas${sel(ns, hpas)})\n)\n`
            + `and on (namespace, horizontalpodautoscaler)\n(\n`
            + `  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas${sel(ns, hpas)})\n`
            + `  > on (namespace, horizontalpodautoscaler)\n`
            + `  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas${sel(ns, hpas)})\n)`,
            "KubePolaris HPA has been running at its maximum replicas",
            "HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum of"
            + " {{ $value }} replicas for more than {{for}}: it cannot absorb more load; raise maxReplicas or the size tier."),
    ];

    // --- dependencies -----------------------------------------------------------------------
    const certExpiry = "certmanager_certificate_expiration_timestamp_seconds";
    const dependencies: AlertingRule[] = [
        rule("KubePolarisApiErrorRate", "critical", "5m",
            // The backend keeps serving /healthz without its database, so a lost database shows
            // as 5xx answers, not as pods going away. 0/0 (no traffic) yields nothing: silent.
            `(\n  sum (\n    ${edgeRates(edgeMetrics.requests, statusMatcher(p.edge))}\n  )\n`
            + `  /\n  sum (\n    ${edgeRates(edgeMetrics.requests)}\n  )\n) > ${THRESHOLDS.errorRatio}`,
            "KubePolaris API answers too many server errors",
            `{{ $value | humanizePercentage }} of the backend's requests through ${route}`
            + ` were answered 5xx (threshold ${percent(THRESHOLDS.errorRatio)}) for more than {{for}}. Check the database first`
            + " (RDS events and CloudWatch alarms, or the in-cluster MySQL pod), then the backend's logs.",
            edgeLabels),
        rule("KubePolarisCertificateExpiringSoon", "warning", "1h",
            // cert-manager renews 30 days before expiry by default (1/3 of a 90-day certificate),
            // so `for: 1h` lets a healthy renewal finish before anyone is told.
            `min by (name) (\n  ${certExpiry}${sel(eq("name", p.certificate), eq("exported_namespace", p.namespace))}\n  or\n`
            + `  ${certExpiry}${sel(eq("name", p.certificate), ns, eq("exported_namespace", ""))}\n)\n`
            + `- time() < ${THRESHOLDS.certificateDays} * 86400`,
            "KubePolaris TLS certificate expires soon",
            `Certificate ${p.namespace}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}`
            + ` (threshold ${THRESHOLDS.certificateDays} days) and cert-manager has not renewed it for more than {{for}}.`,
            { namespace: p.namespace }),
        rule("KubePolarisAdminPasswordJobFailed", "critical", "1m",
            // kube-state-metrics' kube_job_failed{condition="true"} is the Job's Failed condition:
            // backoffLimit failed pods, or activeDeadlineSeconds passed. A pod that fails and is
            // retried (the backend still starting) is not: the Job may yet succeed. The edge waits
            // for this Job, so while it has failed the app is not served from outside, and the
            // backend's published admin password is still in force for anyone inside the cluster.
            `max by (namespace, job_name) (kube_job_failed${sel(ns, eq("job_name", p.adminPasswordJob), eq("condition", "true"))}) > 0`,
            "The Job replacing KubePolaris' published admin password failed",
            "Job {{ $labels.namespace }}/{{ $labels.job_name }} has failed for more than {{for}}: the backend's published"
            + " admin password may still be in force, and the edge, which waits for this Job, is not serving. Read the"
            + " Job's pod logs, fix the cause, then run `pulumi up` again (it replaces the failed Job).",
            { namespace: p.namespace }),
    ];

    if (p.databaseBackups) {
        const backups = p.databaseBackups;
        const cronJob = sel(ns, eq("cronjob", backups.cronJob));
        // Two intervals: one failed or skipped dump is not yet a lost RPO; two in a row are.
        const missingAfter = 2 * backups.intervalMinutes * 60;
        dependencies.push(rule("KubePolarisDatabaseBackupMissing", "critical", "5m",
            // kube-state-metrics sets the last-success series only once a Job of the CronJob has
            // succeeded: a CronJob that never succeeded is caught by its age.
            `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time${cronJob}) > ${missingAfter}\n`
            + `or\n(\n  time() - max by (namespace, cronjob) (kube_cronjob_created${cronJob}) > ${missingAfter}\n`
            + `  unless on (namespace, cronjob)\n  kube_cronjob_status_last_successful_time${cronJob}\n)`,
            "The in-cluster database has not been backed up on schedule",
            `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has made no successful dump of the database for more than`
            + ` ${2 * backups.intervalMinutes} minutes (two intervals) for more than {{for}}: a lost database would lose more`
            + " than the RPO. Read the last Jobs' logs, fix the cause, then take a dump now (`npm run db:backup`).",
            { namespace: p.namespace }));
    }

    return [
        { name: `${p.groupPrefix}.availability`, rules: availability },
        { name: `${p.groupPrefix}.saturation`, rules: saturation },
        { name: `${p.groupPrefix}.dependencies`, rules: dependencies },
    ];
}

function validate(p: AlertRuleParams): void {
    const problems: string[] = [];
    const name = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
    const check = (key: string, value: string) => {
        if (!name.test(value)) {
            problems.push(`${key}: got ${JSON.stringify(value)}; allowed: a Kubernetes object name`);
        }
    };
    check("namespace", p.namespace);
    check("certificate", p.certificate);
    check("edge.route", p.edge.route);
    check("edge.backendService", p.edge.backendService);
    if (p.edge.kind === "gateway") {
        check("edge.gateway", p.edge.gateway);
    } else if (p.edge.controller === "traefik" && !(Number.isInteger(p.edge.backendPort) && p.edge.backendPort >= 1 && p.edge.backendPort <= 65535)) {
        problems.push(`edge.backendPort: got ${p.edge.backendPort}; allowed: a port number from 1 to 65535`);
    }
    check("adminPasswordJob", p.adminPasswordJob);
    if (p.databasePdb !== undefined) {
        check("databasePdb", p.databasePdb);
    }
    if (p.databaseBackups !== undefined) {
        check("databaseBackups.cronJob", p.databaseBackups.cronJob);
        const minutes = p.databaseBackups.intervalMinutes;
        if (!Number.isInteger(minutes) || minutes < 1) {
            problems.push(`databaseBackups.intervalMinutes: got ${minutes}; allowed: a whole number of minutes ≥ 1`);
        }
    }
    if (!p.workloads.some((w) => w.deployment === p.backendDeployment)) {
        problems.push(`backendDeployment: got ${JSON.stringify(p.backendDeployment)}; allowed: the deployment of one of the workloads`);
    }
    if (!/^[a-zA-Z0-9_.:-]+$/.test(p.groupPrefix)) {
        problems.push(`groupPrefix: got ${JSON.stringify(p.groupPrefix)}; allowed: letters, digits, '_', '.', ':' and '-'`);
    }
    if (p.workloads.length === 0) {
        problems.push("workloads: got an empty list; allowed: at least one workload");
    }
    p.workloads.forEach((w, i) => {
        check(`workloads[${i}].deployment`, w.deployment);
        check(`workloads[${i}].hpa`, w.hpa);
        check(`workloads[${i}].pdb`, w.pdb);
        check(`workloads[${i}].container`, w.container);
        if (!Number.isInteger(w.minReplicas) || w.minReplicas < 1) {
            problems.push(`workloads[${i}].minReplicas: got ${w.minReplicas}; allowed: an integer ≥ 1`);
        }
    });
    if (!/^https?:\/\/\S+$/.test(p.runbookBaseUrl) || p.runbookBaseUrl.includes("#")) {
        problems.push(`runbookBaseUrl: got ${JSON.stringify(p.runbookBaseUrl)}; allowed: an http(s) URL without a #fragment`);
    }
    if (problems.length > 0) {
        throw new Error(`invalid alert rule parameters:\n  - ${problems.join("\n  - ")}`);
    }
}

// --- PromQL helpers (matchers: ./edgeMetrics) --------------------------------------------------

/** Exact match for one value, an anchored alternation for several (duplicates dropped). */
function oneOf(label: string, values: string[]): string {
    const unique = [...new Set(values)];
    return unique.length === 1 ? eq(label, unique[0]) : re(label, unique.map(escapeRegex).join("|"));
}

function sel(...matchers: string[]): string {
    return `{${matchers.join(", ")}}`;
}

function percent(ratio: number): string {
    return `${Math.round(ratio * 100)}%`;
}

/** "5m" → "5 minutes", "1h" → "1 hour" (for descriptions). */
function humanFor(duration: string): string {
    const m = /^(\d+)([smh])$/.exec(duration);
    if (!m) {
        throw new Error(`unsupported duration ${duration}`);
    }
    const unit = { s: "second", m: "minute", h: "hour" }[m[2] as "s" | "m" | "h"];
    return `${m[1]} ${unit}${m[1] === "1" ? "" : "s"}`;
}
