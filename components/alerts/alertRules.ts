// Monitoring for one release: a ServiceMonitor that has the Prometheus Operator scrape the
// backend's /metrics under a fixed `job`, and a PrometheusRule with the alert groups of
// buildRuleGroups (the same groups `npm run alerts:render` writes for promtool). Both carry the
// labels the operator selects them by.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AlertRuleParams, buildRuleGroups, RuleGroup } from "./rules";

export interface AlertRulesArgs {
    /** Object name prefix (the release). */
    release: string;
    /** The app namespace (an Output, so the objects wait for it); must equal `rules.namespace`. */
    namespace: pulumi.Input<string>;
    /** Metadata labels of every object the release owns. */
    labels: Record<string, string>;
    /** Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by. */
    selectorLabels: Record<string, string>;
    rules: AlertRuleParams;
    /** The backend's metrics endpoint. */
    scrape: {
        /** Labels of the backend Service (and only that Service). */
        serviceSelector: Record<string, string>;
        /** Name of the Service port serving /metrics (KubePolaris serves it on its API port). */
        port: string;
        /** Defaults to "/metrics". */
        path?: string;
        /** Defaults to "30s". */
        interval?: string;
    };
}

export class AlertRules extends pulumi.ComponentResource {
    public readonly prometheusRuleName: pulumi.Output<string>;
    public readonly serviceMonitorName: pulumi.Output<string>;
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

        const serviceMonitor = new k8s.apiextensions.CustomResource(`${name}-servicemonitor`, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: `${args.release}-backend`, namespace, labels },
            spec: {
                selector: { matchLabels: args.scrape.serviceSelector },
                namespaceSelector: { matchNames: [namespace] },
                endpoints: [{
                    port: args.scrape.port,
                    path: args.scrape.path ?? "/metrics",
                    interval: args.scrape.interval ?? "30s",
                    scheme: "http",
                    // The operator names the job after the Service (or `jobLabel`); pin it to the
                    // job the rules select, whatever the Service is called.
                    relabelings: [{ action: "replace", targetLabel: "job", replacement: args.rules.job }],
                }],
            },
        }, { parent: this });

        const prometheusRule = new k8s.apiextensions.CustomResource(`${name}-prometheusrule`, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: `${args.release}-alerts`, namespace, labels },
            spec: { groups },
        }, { parent: this });

        this.groups = groups;
        this.alertNames = groups.flatMap((g) => g.rules.map((r) => r.alert));
        this.prometheusRuleName = prometheusRule.metadata.name;
        this.serviceMonitorName = serviceMonitor.metadata.name;
        this.registerOutputs({
            prometheusRuleName: this.prometheusRuleName,
            serviceMonitorName: this.serviceMonitorName,
            alertNames: this.alertNames,
        });
    }
}
