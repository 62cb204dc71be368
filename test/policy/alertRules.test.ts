// Alert rules Prometheus can load: PromQL parsed by Prometheus' own grammar, durations, severity.
import { isPrometheusDuration, prometheusRulesValid, promqlError } from "../../policy/rules/alertRules";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases, UNKNOWN } from "./support";

const rule = (s: Spec, i = 0) => s.alerts.spec.groups[0].rules[i];

policyCases(prometheusRulesValid, [
    {
        title: "an expression with an unclosed parenthesis",
        mutate: (s) => { rule(s).expr = "sum(rate(http_requests_total[5m])) by (le"; },
        expected: ["alerts: spec.groups[0].rules[0] (alert KubePolarisBackendUnavailable) expr does not parse as PromQL (at character 42, near \"s_total[5m])) by (le\")."],
    },
    {
        title: "a function Prometheus does not have",
        mutate: (s) => { rule(s, 1).expr = "percentile(0.99, latency) > 1"; },
        expected: ["alerts: spec.groups[0].rules[1] (alert KubePolarisHighLatencyP99) expr does not parse as PromQL"],
    },
    { title: "an empty expression", mutate: (s) => { rule(s).expr = " "; }, expected: ["expr does not parse as PromQL (at character 1"] },
    { title: "an invalid for", mutate: (s) => { rule(s).for = "5 minutes"; }, expected: ["rules[0] (alert KubePolarisBackendUnavailable) for \"5 minutes\" is not a Prometheus duration (e.g. 5m, 1h30m)."] },
    { title: "units out of order", mutate: (s) => { rule(s).for = "30m1h"; }, expected: ["for \"30m1h\" is not a Prometheus duration"] },
    { title: "an alert without severity", mutate: (s) => { delete rule(s).labels; }, expected: ["rules[0] (alert KubePolarisBackendUnavailable) has no severity label: Alertmanager cannot route it by urgency."] },
    {
        title: "a custom severity label",
        mutate: () => undefined,
        config: { properties: { severityLabel: "priority" } },
        expected: Array(12).fill("has no priority label"),
    },
    {
        title: "two groups with one name",
        mutate: (s) => { s.alerts.spec.groups.push({ name: "shop", rules: [{ record: "job:up:sum", expr: "sum by (job) (up)" }] }); },
        expected: ["alerts: spec.groups[1]: group name \"shop\" is repeated; Prometheus rejects the file."],
    },
    {
        title: "a rule that is both alert and record",
        mutate: (s) => { rule(s).record = "x"; },
        expected: ["rules[0] (alert KubePolarisBackendUnavailable) must set exactly one of alert and record."],
    },
    { title: "a recording rule with an invalid name", mutate: (s) => { s.alerts.spec.groups[0].rules.push({ record: "job-up", expr: "up" }); }, expected: ["\"job-up\" is not a valid metric name"] },
    { title: "a group interval that is no duration", mutate: (s) => { s.alerts.spec.groups[0].interval = "often"; }, expected: ["spec.groups[0] interval \"often\" is not a Prometheus duration."] },
    {
        title: "the rules unknown during preview",
        mutate: (s) => { s.alerts.spec.groups = UNKNOWN; },
        expected: ["alerts: spec.groups is unknown during preview; cannot verify"],
    },
]);

test.each([
    ['absent(up{job="x"}) or up{job="x"} == 0', true],
    ['histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{path!~"/ws.*"}[5m]))) > 1', true],
    ["max_over_time(kube_pod_container_status_waiting_reason{reason=\"CrashLoopBackOff\"}[5m]) >= 1", true],
    ["1", true],
    ["up{", false],
    ["sum(x) bye (a)", false],
    ["rate(x[5m]", false],
])("%p parses: %p", (expr, ok) => {
    expect(promqlError(expr) === undefined).toBe(ok);
});

test.each([["5m", true], ["1h30m", true], ["0", true], ["90s", true], ["1d", true], ["", false], ["5", false], ["1.5h", false], ["m", false]])("duration %p: %p", (d, ok) => {
    expect(isPrometheusDuration(d)).toBe(ok);
});
