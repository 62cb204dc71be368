// AlertRules alone: one PrometheusRule in the app's namespace that the Prometheus Operator picks
// up, watching the objects the program names.
import { AlertRules } from "../../components/alerts/alertRules";
import { alertRuleParams, AlertTargets } from "../../components/alerts/params";
import { ALERT_NAMES } from "../../components/alerts/rules";
import { componentName } from "../../components/labels";
import { recordRegistrations, TYPES } from "../support/components";

const recorder = recordRegistrations();

const TARGETS: AlertTargets = {
    release: "rel",
    namespace: "kp",
    minReplicas: { backend: 3, frontend: 2 },
    tlsSecretName: "rel-tls",
    edge: { kind: "gateway", metrics: "traefik" },
    runbookBaseUrl: "https://git.example.com/ops/blob/main/docs/runbooks.md",
};

test("the PrometheusRule sits in the app's namespace with the labels the operator selects rules by, holding every alert", async () => {
    const alerts = new AlertRules("alerts", {
        release: "rel",
        namespace: "kp",
        labels: { team: "ops" },
        selectorLabels: { release: "kube-prometheus-stack" },
        rules: alertRuleParams(TARGETS),
    });
    await recorder.settle(alerts.prometheusRuleName);
    const rule = recorder.one(TYPES.prometheusRule, "alerts-prometheusrule").inputs;
    expect(rule.metadata).toMatchObject({ name: "rel-alerts", namespace: "kp", labels: { team: "ops", release: "kube-prometheus-stack" } });
    const names = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    expect([...names].sort()).toEqual([...ALERT_NAMES].sort());
    expect([...alerts.alertNames].sort()).toEqual([...ALERT_NAMES].sort());
    // Every alert says where its runbook is.
    for (const group of rule.spec.groups) {
        for (const r of group.rules) {
            expect(r.annotations.runbook_url.startsWith(`${TARGETS.runbookBaseUrl}#`)).toBe(true);
        }
    }
});

test("the rules watch the objects HaWorkload and Edge create, with each workload's own replica floor", () => {
    const params = alertRuleParams(TARGETS);
    const byDeployment = Object.fromEntries(params.workloads.map((w) => [w.deployment, w]));
    expect(byDeployment[componentName("rel", "backend")]).toMatchObject({ hpa: "rel-backend", pdb: "rel-backend", container: "backend", minReplicas: 3 });
    expect(byDeployment[componentName("rel", "frontend")]).toMatchObject({ container: "frontend", minReplicas: 2 });
    expect(params).toMatchObject({ namespace: "kp", certificate: "rel-tls", groupPrefix: "rel" });
});

test("the edge alerts follow the stack's edge: its kind, and the controller whose metrics are read", () => {
    const edge = (kind: "gateway" | "ingress", metrics: "traefik" | "ingress-nginx") => alertRuleParams({ ...TARGETS, edge: { kind, metrics } }).edge;
    // Edge names its Gateway, HTTPRoute and Ingress after the release; the route sends to the backend Service on BACKEND.port.
    expect(edge("gateway", "traefik")).toEqual({ controller: "traefik", kind: "gateway", gateway: "rel", route: "rel", backendService: "rel-backend" });
    expect(edge("ingress", "traefik")).toEqual({ controller: "traefik", kind: "ingress", route: "rel", backendService: "rel-backend", backendPort: 8080 });
    expect(edge("ingress", "ingress-nginx")).toEqual({ controller: "ingress-nginx", kind: "ingress", route: "rel", backendService: "rel-backend" });
    expect(() => edge("gateway", "ingress-nginx")).toThrow(/edge metrics "ingress-nginx" need edge kind "ingress", got "gateway"/);
});
