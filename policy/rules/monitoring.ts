// Monitoring: the HA guide's 监控告警 (monitoring and alerts) — the stack ships the PrometheusRule
// with the alerts the runbook relies on (replicas below desired / below the PDB floor, CPU, memory,
// P99 latency, database connection failures, certificate expiry, ...): by default the facts'
// ALERT_NAMES, the very list the program creates its alerts from.
import { ALERT_NAMES } from "../facts";
import { tryRead, Props, schema, stackPolicy, unknownMessage } from "./common";
import { POD_WORKLOADS, TYPES } from "./k8s";
import { displayName } from "./model";

export const prometheusAlerts = stackPolicy({
    name: "prometheus-alerts",
    description: "The stack defines a PrometheusRule (monitoring.coreos.com/v1) whose groups contain every alert in "
        + "`requiredAlerts`, so an outage pages someone. Fix: add the missing alerting rules (alert: <name>) to the "
        + "PrometheusRule, or adjust requiredAlerts in the environment's policy config. Applies where the stack runs "
        + "Kubernetes workloads or defines a PrometheusRule, or everywhere with `requireEverywhere`.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            requiredAlerts: { ...schema.stringList("Alert names that must exist.", [...ALERT_NAMES]), uniqueItems: true },
            requireEverywhere: { type: "boolean", default: false, description: "Demand the alerts even from a stack without Kubernetes workloads." },
        },
    },
    validate(resources, args, report) {
        const { requiredAlerts, requireEverywhere } = args.getConfig<{ requiredAlerts: string[]; requireEverywhere: boolean }>();
        const rules = resources.filter((r) => r.type === TYPES.prometheusRule);
        if (rules.length === 0 && !requireEverywhere && !resources.some((r) => POD_WORKLOADS.includes(r.type))) {
            args.notApplicable("the stack runs no Kubernetes workload and defines no PrometheusRule: there is nothing to alert on");
        }
        if (rules.length === 0) {
            report(`the stack has no PrometheusRule (${TYPES.prometheusRule}); required alerts: ${requiredAlerts.join(", ")}.`);
            return;
        }
        const defined = new Set<string>();
        let unknown = false;
        for (const r of rules) {
            const alerts = tryRead(() => {
                const groups: Props[] = Array.isArray(r.props.spec?.groups) ? r.props.spec.groups : [];
                return groups.flatMap((g) => (Array.isArray(g?.rules) ? g.rules : []))
                    .map((rule: Props) => rule?.alert)
                    .filter((name: unknown): name is string => typeof name === "string");
            });
            if (!alerts.ok) {
                report(unknownMessage(alerts.unknown, displayName(r)), r.urn);
                unknown = true; // the missing alerts may be in there: do not claim they are missing
                continue;
            }
            alerts.value.forEach((name) => defined.add(name));
        }
        const missing = requiredAlerts.filter((name) => !defined.has(name));
        if (missing.length > 0 && !unknown) {
            report(`the PrometheusRule${rules.length > 1 ? "s" : ""} ${rules.map((r) => r.name).join(", ")} lack${rules.length > 1 ? "" : "s"} `
                + `the alert${missing.length > 1 ? "s" : ""} ${missing.join(", ")}.`, rules[0].urn);
        }
    },
});

export const monitoringPolicies = [prometheusAlerts];
