// Alert rules Prometheus can load. The Prometheus Operator writes each PrometheusRule into one rule
// file; one rule that does not parse, one bad duration or two groups of the same name make
// Prometheus reject the whole file, and every alert in it goes silent. Expressions are parsed with
// the Prometheus project's own PromQL grammar (@prometheus-io/lezer-promql), which also knows the
// function names.
import { parser } from "@prometheus-io/lezer-promql";
import { Props, resourcePolicy } from "./common";
import { TYPES } from "./k8s";

/** Prometheus' duration syntax (model.ParseDuration): units in descending order, "0" allowed. */
const DURATION = /^(?:0|(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function isPrometheusDuration(value: unknown): boolean {
    return typeof value === "string" && value !== "" && DURATION.test(value);
}

/** Where a PromQL expression fails to parse (0-based offset), or undefined when it parses. */
export function promqlError(expr: string): number | undefined {
    if (expr.trim() === "") {
        return 0;
    }
    let at: number | undefined;
    parser.parse(expr).iterate({
        enter: (node) => {
            if (node.type.isError && at === undefined) {
                at = node.from;
            }
            return at === undefined;
        },
    });
    return at;
}

function ruleProblems(rule: Props, where: string, severityLabel: string): string[] {
    const problems: string[] = [];
    const isAlert = typeof rule?.alert === "string" && rule.alert !== "";
    const isRecord = typeof rule?.record === "string" && rule.record !== "";
    const name = isAlert ? `alert ${rule.alert}` : isRecord ? `record ${rule.record}` : "unnamed rule";
    const at = `${where} (${name})`;
    if (isAlert === isRecord) {
        problems.push(`${at} must set exactly one of alert and record`);
    }
    if (isRecord && !METRIC_NAME.test(rule.record)) {
        problems.push(`${at}: "${rule.record}" is not a valid metric name for a recording rule`);
    }
    const expr = typeof rule?.expr === "number" ? String(rule.expr) : rule?.expr;
    if (typeof expr !== "string") {
        problems.push(`${at} has no expr`);
    } else {
        const error = promqlError(expr);
        if (error !== undefined) {
            const near = expr.slice(Math.max(0, error - 20), error + 20).replace(/\s+/g, " ");
            problems.push(`${at} expr does not parse as PromQL (at character ${error + 1}, near "${near}")`);
        }
    }
    for (const field of ["for", "keep_firing_for"]) {
        if (rule?.[field] !== undefined && !isPrometheusDuration(rule[field])) {
            problems.push(`${at} ${field} ${JSON.stringify(rule[field])} is not a Prometheus duration (e.g. 5m, 1h30m)`);
        }
    }
    if (isAlert) {
        const severity = rule.labels?.[severityLabel];
        if (typeof severity !== "string" || severity === "") {
            problems.push(`${at} has no ${severityLabel} label: Alertmanager cannot route it by urgency`);
        }
    }
    return problems;
}

export const prometheusRulesValid = resourcePolicy({
    name: "prometheus-rules-valid",
    description: "Every rule of a PrometheusRule loads in Prometheus: its expr parses as PromQL (the Prometheus "
        + "project's grammar: syntax and function names), `for` and `keep_firing_for` and each group's `interval` are "
        + "Prometheus durations (5m, 1h30m), each rule is exactly one of alert or record (a valid metric name), each "
        + "alert carries a `severityLabel` label, and group names are unique and set. One bad rule makes Prometheus "
        + "reject the whole rule file, silencing every alert in it. Fix: correct the expression (check it with "
        + "`promtool check rules`), the duration or the label.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            severityLabel: { type: "string", default: "severity", description: "The label every alert must carry." },
        },
    },
    types: [TYPES.prometheusRule],
    validate(props, args, report) {
        const { severityLabel } = args.getConfig<{ severityLabel: string }>();
        const groups: Props[] = Array.isArray(props.spec?.groups) ? props.spec.groups : [];
        const seen = new Set<string>();
        groups.forEach((group, i) => {
            const where = `spec.groups[${i}]`;
            if (typeof group?.name !== "string" || group.name === "") {
                report(`${where} has no name.`);
            } else if (seen.has(group.name)) {
                report(`${where}: group name "${group.name}" is repeated; Prometheus rejects the file.`);
            } else {
                seen.add(group.name);
            }
            if (group?.interval !== undefined && !isPrometheusDuration(group.interval)) {
                report(`${where} interval ${JSON.stringify(group.interval)} is not a Prometheus duration.`);
            }
            const rules: Props[] = Array.isArray(group?.rules) ? group.rules : [];
            rules.forEach((rule, j) => ruleProblems(rule, `${where}.rules[${j}]`, severityLabel).forEach((p) => report(`${p}.`)));
        });
    },
});

export const alertRulePolicies = [prometheusRulesValid];
