// The PrometheusRule with the required alerts.
import { DEFAULT_REQUIRED_ALERTS, prometheusAlerts } from "../../policy/rules/monitoring";
import { REQUIRED_ALERTS } from "../fixtures/_lib/spec";
import { policyCases, UNKNOWN } from "./support";

test("the default required alerts are the alerts component's names", () => {
    expect(DEFAULT_REQUIRED_ALERTS).toEqual(REQUIRED_ALERTS);
});

policyCases(prometheusAlerts, [
    { title: "no PrometheusRule", mutate: (s) => { delete s.alerts; }, expected: ["stack: the stack has no PrometheusRule (kubernetes:monitoring.coreos.com/v1:PrometheusRule); required alerts: KubePolarisBackendUnavailable,"] },
    {
        title: "two alerts missing",
        mutate: (s) => { s.alerts.spec.groups[0].rules = s.alerts.spec.groups[0].rules.filter((r: { alert: string }) => !["KubePolarisHighCpu", "KubePolarisHpaMaxedOut"].includes(r.alert)); },
        expected: ["alerts: the PrometheusRule alerts lacks the alerts KubePolarisHighCpu, KubePolarisHpaMaxedOut."],
    },
    {
        title: "recording rules do not count as alerts",
        mutate: (s) => { s.alerts.spec.groups[0].rules[0] = { record: "KubePolarisBackendUnavailable", expr: "up" }; },
        expected: ["lacks the alert KubePolarisBackendUnavailable."],
    },
    {
        title: "alerts spread over several groups pass",
        mutate: (s) => {
            const rules = s.alerts.spec.groups[0].rules;
            s.alerts.spec.groups = [{ name: "a", rules: rules.slice(0, 5) }, { name: "b", rules: rules.slice(5) }];
        },
        expected: [],
    },
    { title: "a custom list of required alerts", mutate: () => undefined, config: { properties: { requiredAlerts: ["KubePolarisBackendUnavailable", "KubePolarisBackupFailed"] } }, expected: ["lacks the alert KubePolarisBackupFailed."] },
    { title: "groups unknown during preview: unknown, not missing", mutate: (s) => { s.alerts.spec.groups = UNKNOWN; }, expected: ["alerts: PrometheusRule alerts: spec.groups is unknown during preview; cannot verify"] },
]);
