// The PrometheusRule with the required alerts.
import * as path from "path";
import { prometheusAlerts } from "../../policy/rules/monitoring";
import { stackRuleGroups } from "../../scripts/render-alert-rules";
import { loadPolicyConfigFile, reconcilePolicyConfig } from "../../tools/policyRunner/config";
import { PROJECT_DIR, STACKS } from "../support/program";
import { defaultSpec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, UNKNOWN, violationsOf } from "./support";

describe.each(STACKS)("stack %s: the pack requires exactly the alerts the program defines", (stack) => {
    // The program's side: the rule groups its PrometheusRule holds for this stack (stack file →
    // parseConfig → buildRuleGroups). The pack's side: what prometheus-alerts requires under the
    // stack's own policy config, reconciled as the CLI does (the policy's default unless the file
    // overrides it).
    const groups = stackRuleGroups(stack);
    const defined = groups.flatMap((g) => g.rules.map((r) => r.alert));
    const policyConfig = loadPolicyConfigFile(path.join(PROJECT_DIR, "policy", "config", `${stack}.json`));
    const required = reconcilePolicyConfig([prometheusAlerts], "mandatory", policyConfig)
        .get(prometheusAlerts.name)!.properties.requiredAlerts as string[];
    const resources = (g: typeof groups) => [{ type: TYPES.prometheusRule, name: "alerts", inputs: { spec: { groups: g } } }];

    test("the same set of names, each defined once", () => {
        expect(new Set(defined).size).toBe(defined.length);
        expect([...defined].sort()).toEqual([...required].sort());
    });

    test("the program's PrometheusRule passes prometheus-alerts, and fails it without any one of its alerts", async () => {
        expect(await violationsOf(prometheusAlerts, resources(groups), policyConfig[prometheusAlerts.name])).toEqual([]);
        for (const alert of defined) {
            const without = groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert !== alert) }));
            expect(await violationsOf(prometheusAlerts, resources(without), policyConfig[prometheusAlerts.name]))
                .toEqual([`alerts: the PrometheusRule alerts lacks the alert ${alert}.`]);
        }
    });
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

describe("prometheus-alerts applies where there is something to alert on", () => {
    const AWS_ONLY = [{ type: "aws:s3/bucket:Bucket", name: "site", inputs: { bucket: "site" } }];
    test("a stack without Kubernetes workloads or PrometheusRules is not asked for the alerts", async () => {
        expect(await violationsOf(prometheusAlerts, AWS_ONLY)).toEqual([]);
    });
    test("requireEverywhere asks it all the same", async () => {
        expect(await violationsOf(prometheusAlerts, AWS_ONLY, { properties: { requireEverywhere: true } }))
            .toEqual([expect.stringContaining("stack: the stack has no PrometheusRule")]);
    });
    test("a bare Deployment is enough to be asked", async () => {
        const deployment = specResources(defaultSpec()).filter((r) => r.type === TYPES.deployment).slice(0, 1);
        expect(await violationsOf(prometheusAlerts, [...AWS_ONLY, ...deployment])).toEqual([expect.stringContaining("stack: the stack has no PrometheusRule")]);
    });
});
