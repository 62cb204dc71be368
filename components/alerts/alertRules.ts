// Monitoring for one release: a PrometheusRule with the alert groups of buildRuleGroups (the same
// groups `npm run alerts:render` writes for promtool), carrying the labels the Prometheus Operator
// selects rules by. No ServiceMonitor: the backend serves no /metrics (app/kubepolaris.ts), and
// a target that is down for ever would only teach on-call to ignore pages.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AlertRuleParams, buildRuleGroups, RuleGroup } from "./rules";

export interface AlertRulesArgs {
    /** Object name prefix (the release). Required. */
    release: string;
    /** The app namespace (an Output, so the objects wait for it); must equal `rules.namespace`. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels of every object the release owns. Required. */
    labels: Record<string, string>;
    /** Labels the Prometheus Operator selects PrometheusRules by. Required (may be empty). */
    selectorLabels: Record<string, string>;
    /** What the rules watch, by name (`alertRuleParams`). Required. */
    rules: AlertRuleParams;
}

export class AlertRules extends pulumi.ComponentResource {
    public readonly prometheusRuleName: pulumi.Output<string>;
    /** The groups in the PrometheusRule, for callers that want to show or check them. */
    public readonly groups: RuleGroup[];
    public readonly alertNames: string[];

    constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:monitoring:AlertRules", name, {}, opts);

        const groups = buildRuleGroups(args.rules);
        const labels = { ...args.labels, ...args.selectorLabels };
        // The rules select series by namespace: objects elsewhere would be watched by rules
        // about the wrong namespace.
        const namespace = pulumi.output(args.namespace).apply((ns) => {
            if (ns !== args.rules.namespace) {
                throw new Error(`AlertRules ${name}: namespace ${JSON.stringify(ns)} differs from the rules' namespace ${JSON.stringify(args.rules.namespace)}`);
            }
            return ns;
        });

        const prometheusRule = new k8s.apiextensions.CustomResource(`${name}-prometheusrule`, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: `${args.release}-alerts`, namespace, labels },
            spec: { groups },
        }, { parent: this });

        this.groups = groups;
        this.alertNames = groups.flatMap((g) => g.rules.map((r) => r.alert));
        this.prometheusRuleName = prometheusRule.metadata.name;
        this.registerOutputs({
            prometheusRuleName: this.prometheusRuleName,
            alertNames: this.alertNames,
        });
    }
}
