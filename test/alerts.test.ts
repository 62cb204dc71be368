// Alert rules: the PrometheusRule each stack registers, the rule file promtool
// validates (one source: buildRuleGroups), and the promtool unit tests in test/alerts/*.yaml.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { BACKEND } from "../app/kubepolaris";
import { ALERT_NAMES, alertNamesFor, AlertRuleParams, buildRuleGroups, IN_CLUSTER_DATABASE_ALERT_NAMES, RuleGroup } from "../components/alerts/rules";
import { EDGE_METRICS, traefikBackendServices } from "../components/alerts/edgeMetrics";
import { componentName } from "../components/labels";
import {
    ALERT_TEST_STACK, EDGE_VARIANTS, RULE_FILE, ruleFileText, stackAlertParams, stackRuleGroups, variantRuleFile, writeTestRuleFiles,
} from "../scripts/render-alert-rules";
import { RecordedResource } from "../tools/mockRun";
import { PROJECT_DIR, runStack, stackAppConfig, STACKS } from "./support/program";
import { selects } from "../policy/rules/selectors";
import { TYPES } from "./support/types";


const TEST_DIR = path.join(PROJECT_DIR, "test", "alerts");
const TEST_FILES = fs.readdirSync(TEST_DIR).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(TEST_DIR, f));

const rulesOf = (groups: RuleGroup[]) => groups.flatMap((g) => g.rules);
const ruleNamed = (groups: RuleGroup[], alert: string) => rulesOf(groups).find((r) => r.alert === alert)!;

describe.each(STACKS)("stack %s", (stack) => {
    const config = stackAppConfig(stack);
    const params = stackAlertParams(stack);
    const prometheusRule = async () => (await runStack(stack)).one(TYPES.prometheusRule);
    const inNamespace = async (type: string) =>
        (await runStack(stack)).ofType(type).filter((r) => r.inputs.metadata?.namespace === config.namespace);

    test("the PrometheusRule holds exactly the groups `npm run alerts:render` writes for this stack", async () => {
        const rule = await prometheusRule();
        const rendered = stackRuleGroups(stack);
        expect(rule.inputs.spec.groups).toEqual(rendered);
        // ...and the rule file's YAML reads back as the very same groups.
        expect((yaml.load(ruleFileText(stack, rendered)) as { groups: unknown }).groups).toEqual(rule.inputs.spec.groups);
        // The script's stack-file path and the program's config path agree.
        expect(stackAlertParams(stack)).toEqual(params);
    });

    test("every required alert exists once, with a severity, a summary, a description and a runbook anchor", async () => {
        const alerts = rulesOf((await prometheusRule()).inputs.spec.groups as RuleGroup[]);
        const names = alerts.map((r) => r.alert);
        expect(new Set(names).size).toBe(names.length);
        expect([...names].sort()).toEqual(alertNamesFor(params).sort());
        for (const alert of alerts) {
            expect({ alert: alert.alert, severity: alert.labels?.severity }).toEqual({
                alert: alert.alert, severity: expect.stringMatching(/^(critical|warning)$/),
            });
            expect(alert.annotations.runbook_url).toBe(`${config.monitoring.runbookBaseUrl}#${alert.alert.toLowerCase()}`);
            expect(alert.annotations.summary).not.toHaveLength(0);
            expect(alert.annotations.description).not.toHaveLength(0);
            expect(alert.for).toMatch(/^\d+[mh]$/);
        }
    });

    test("the PrometheusRule lives in the app namespace and carries the operator's selector labels", async () => {
        const resource = await prometheusRule();
        expect(resource.inputs.metadata.namespace).toBe(config.namespace);
        expect(selects({ matchLabels: config.monitoring.selectorLabels }, resource.inputs.metadata.labels ?? {})).toBe(true);
    });

    test("no ServiceMonitor: the backend serves no /metrics, so its target would be down for ever", async () => {
        expect(BACKEND.metricsPath).toBeUndefined();
        expect((await runStack(stack)).ofType(TYPES.serviceMonitor)).toEqual([]);
    });

    test("the request alerts read the edge controller's metrics for the program's route and backend Service", async () => {
        const program = await runStack(stack);
        const groups = (await prometheusRule()).inputs.spec.groups as RuleGroup[];
        const backendService = (await inNamespace(TYPES.service)).find((s) => s.inputs.spec.selector?.["app.kubernetes.io/component"] === "backend")!;
        expect(params.edge.backendService).toBe(backendService.inputs.metadata.name);
        // The stack's edge (the default: Gateway API on Traefik) is the one the alerts measure.
        expect({ kind: params.edge.kind, controller: params.edge.controller }).toEqual({ kind: config.edge.kind, controller: config.monitoring.edgeMetrics });
        const routeType = config.edge.kind === "gateway" ? TYPES.httpRoute : TYPES.ingress;
        const route = program.one(routeType, (r) => r.inputs.metadata.name === params.edge.route);
        // The route really sends to that Service.
        const routed = config.edge.kind === "gateway"
            ? route.inputs.spec.rules.flatMap((r: any) => (r.backendRefs ?? []).map((b: any) => b.name))
            : route.inputs.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service.name));
        expect(routed).toContain(params.edge.backendService);
        if (params.edge.kind === "gateway") {
            expect(program.one(TYPES.gateway).inputs.metadata.name).toBe(params.edge.gateway);
        }
        const metrics = EDGE_METRICS[params.edge.controller];
        for (const [alert, metric] of [["KubePolarisHighLatencyP99", `${metrics.duration}_bucket`], ["KubePolarisApiErrorRate", metrics.requests]]) {
            const rule = ruleNamed(groups, alert);
            expect(rule.expr).toContain(`${metric}{`);
            expect(rule.labels).toMatchObject({ namespace: config.namespace, route: params.edge.route });
        }
        expect(ruleNamed(groups, "KubePolarisBackendUnavailable").expr).toContain(`deployment="${params.backendDeployment}"`);
    });

    test("the rules select the namespace, Deployments, HPAs, PDBs, containers and certificate the program creates", async () => {
        const program = await runStack(stack);
        const groups = (await prometheusRule()).inputs.spec.groups as RuleGroup[];
        const names = (rs: RecordedResource[]) => rs.map((r) => r.inputs.metadata.name as string).sort();
        const deployments = await inNamespace(TYPES.deployment);
        const app = deployments.filter((d) => ["backend", "frontend"].includes(d.inputs.spec.template.metadata.labels["app.kubernetes.io/component"]));
        expect(names(app)).toEqual(params.workloads.map((w) => w.deployment).sort());
        expect(names(await inNamespace(TYPES.hpa))).toEqual(params.workloads.map((w) => w.hpa).sort());
        // A TYPES.pdb exists only for workloads with 2+ replicas (and a replicated database); every one that exists is watched.
        const watched = [...params.workloads.map((w) => w.pdb), ...(params.databasePdb ? [params.databasePdb] : [])];
        expect(watched).toEqual(expect.arrayContaining(names(await inNamespace(TYPES.pdb))));
        const noDisruptions = groups.flatMap((g) => g.rules).find((r) => r.alert === "KubePolarisPdbNoDisruptionsAllowed")!;
        for (const pdb of watched) {
            expect(noDisruptions.expr).toContain(pdb);
        }
        for (const d of app) {
            const target = params.workloads.find((w) => w.deployment === d.inputs.metadata.name)!;
            expect(d.inputs.spec.template.spec.containers.map((c: { name: string }) => c.name)).toContain(target.container);
        }
        // The certificate the alert watches is the one the Gateway's HTTPS listener serves (local: plain HTTP).
        const certificates = program.one(TYPES.gateway).inputs.spec.listeners.flatMap((l: any) => l.tls?.certificateRefs ?? []).map((c: any) => c.name);
        expect(certificates).toEqual(config.edge.https ? [params.certificate] : []);

        // Traefik's series carry no namespace of the app: it is part of their service names (edgeMetrics.ts).
        for (const rule of rulesOf(groups)) {
            expect(rule.expr).toContain(params.edge.controller === "traefik" && ["KubePolarisHighLatencyP99", "KubePolarisApiErrorRate"].includes(rule.alert)
                ? `-svc-${config.namespace}-` : `namespace="${config.namespace}"`);
        }
        const regexOf = (values: string[]) => values.length === 1 ? `="${values[0]}"` : `=~"${values.join("|")}"`;
        const deploymentNames = params.workloads.map((w) => w.deployment);
        for (const alert of ["KubePolarisReplicasBelowPdbFloor", "KubePolarisReplicasBelowDesired"]) {
            expect(ruleNamed(groups, alert).expr).toContain(`deployment${regexOf(deploymentNames)}`);
        }
        expect(ruleNamed(groups, "KubePolarisHpaMaxedOut").expr).toContain(`horizontalpodautoscaler${regexOf(params.workloads.map((w) => w.hpa))}`);
        expect(ruleNamed(groups, "KubePolarisPdbNoDisruptionsAllowed").expr)
            .toContain(`poddisruptionbudget${regexOf([...params.workloads.map((w) => w.pdb), ...(params.databasePdb ? [params.databasePdb] : [])])}`);
        for (const alert of ["KubePolarisHighCpu", "KubePolarisHighMemory", "KubePolarisPodCrashLooping"]) {
            expect(ruleNamed(groups, alert).expr).toContain(`container${regexOf(params.workloads.map((w) => w.container))}`);
        }
        expect(ruleNamed(groups, "KubePolarisCertificateExpiringSoon").expr).toContain(`name="${params.certificate}"`);
    });

    test("exports the PrometheusRule's name and the alert names", async () => {
        const { outputs } = await runStack(stack);
        expect(outputs.prometheusRuleName.value).toBe((await prometheusRule()).inputs.metadata.name);
        expect([...(outputs.alertNames.value as string[])].sort()).toEqual(alertNamesFor(params).sort());
    });
});

test("every alert's runbook_url, on every stack, resolves to a heading of docs/runbooks.md", async () => {
    const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "runbooks.md"), "utf8");
    // GitHub's anchors: the heading lower-cased, spaces to dashes, other punctuation dropped.
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    const unresolved: string[] = [];
    for (const stack of STACKS) {
        const config = stackAppConfig(stack);
        for (const rule of rulesOf((await runStack(stack)).one(TYPES.prometheusRule).inputs.spec.groups as RuleGroup[])) {
            const [base, anchor] = rule.annotations.runbook_url.split("#");
            if (!base.endsWith("/docs/runbooks.md") || base !== config.monitoring.runbookBaseUrl || !anchors.has(anchor)) {
                unresolved.push(`${stack}: ${rule.alert} -> ${rule.annotations.runbook_url}`);
            }
        }
    }
    expect(unresolved).toEqual([]);
});

describe("buildRuleGroups", () => {
    const base: AlertRuleParams = stackAlertParams(ALERT_TEST_STACK);

    test("an absolute floor of min(2, minReplicas): a single-replica workload alerts only at 0 available", () => {
        const groups = buildRuleGroups({
            ...base,
            workloads: [{ ...base.workloads[0], minReplicas: 1 }, { ...base.workloads[1], minReplicas: 3 }],
        });
        const expr = ruleNamed(groups, "KubePolarisReplicasBelowPdbFloor").expr;
        expect(expr).toContain(`deployment="${base.workloads[0].deployment}"}) < 1`);
        expect(expr).toContain(`deployment="${base.workloads[1].deployment}"}) < 2`);
    });

    test("bad parameters are refused with the key, the value and what is allowed", () => {
        expect(() => buildRuleGroups({ ...base, namespace: "Kube Polaris" }))
            .toThrow(/namespace: got "Kube Polaris"; allowed: a Kubernetes object name/);
        expect(() => buildRuleGroups({ ...base, workloads: [] })).toThrow(/workloads: got an empty list/);
        expect(() => buildRuleGroups({ ...base, runbookBaseUrl: "https://example.com/runbooks#top" }))
            .toThrow(/runbookBaseUrl: .*without a #fragment/);
        expect(() => buildRuleGroups({ ...base, edge: { ...base.edge, route: 'a"b' } })).toThrow(/edge.route: got "a\\"b"/);
        expect(() => buildRuleGroups({ ...base, edge: { controller: "traefik", kind: "ingress", route: "r", backendService: "s", backendPort: 0 } }))
            .toThrow(/edge.backendPort: got 0; allowed: a port number from 1 to 65535/);
        expect(() => buildRuleGroups({ ...base, backendDeployment: "elsewhere" })).toThrow(/backendDeployment: got "elsewhere"; allowed: the deployment of one of the workloads/);
    });
});

describe(`promtool (rule file rendered for stack ${ALERT_TEST_STACK})`, () => {
    const params = stackAlertParams(ALERT_TEST_STACK);
    type TestFile = {
        rule_files: string[];
        tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[] }[] }[];
    };
    const testFiles = TEST_FILES.map((file) => ({ file, doc: yaml.load(fs.readFileSync(file, "utf8")) as TestFile }));

    test("there are unit-test files", () => {
        expect(testFiles.length).toBeGreaterThan(0);
    });

    test("every alert has a history where it fires and one where it stays silent", () => {
        const fires = new Set<string>();
        const silent = new Set<string>();
        for (const { doc } of testFiles) {
            for (const t of doc.tests) {
                for (const check of t.alert_rule_test ?? []) {
                    (check.exp_alerts.length > 0 ? fires : silent).add(check.alertname);
                }
            }
        }
        expect({ fires: [...fires].sort(), silent: [...silent].sort() })
            .toEqual({ fires: [...ALERT_NAMES, ...IN_CLUSTER_DATABASE_ALERT_NAMES].sort(), silent: [...ALERT_NAMES, ...IN_CLUSTER_DATABASE_ALERT_NAMES].sort() });
    });

    test("the unit tests read the generated rule file and use the names the program creates on that stack", () => {
        const allowed: Record<string, string[]> = {
            namespace: [params.namespace],
            route: [params.edge.route],
            deployment: params.workloads.map((w) => w.deployment),
            horizontalpodautoscaler: params.workloads.map((w) => w.hpa),
            poddisruptionbudget: [...params.workloads.map((w) => w.pdb), ...(params.databasePdb ? [params.databasePdb] : [])],
            container: params.workloads.map((w) => w.container),
            name: [params.certificate],
            cronjob: params.databaseBackups ? [params.databaseBackups.cronJob] : [],
        };
        const mismatches: string[] = [];
        for (const { file, doc } of testFiles) {
            const where = path.relative(PROJECT_DIR, file);
            const ruleFiles = doc.rule_files.map((f) => path.resolve(path.dirname(file), f));
            // <alert>.yaml reads the test stack's rule file, <alert>.<edge variant>.yaml (and edge-<variant>.yaml) the variant's.
            const variant = Object.keys(EDGE_VARIANTS).find((v) => path.basename(file).includes(`.${v}.`) || path.basename(file) === `edge-${v}.yaml`);
            const expectedFile = variant === undefined ? RULE_FILE : variantRuleFile(variant);
            if (JSON.stringify(ruleFiles) !== JSON.stringify([expectedFile])) {
                mismatches.push(`${where}: rule_files ${JSON.stringify(doc.rule_files)} do not name ${path.relative(path.dirname(file), expectedFile)} alone`);
            }
            for (const t of doc.tests) {
                for (const check of t.alert_rule_test ?? []) {
                    for (const expected of check.exp_alerts) {
                        const at = `${where} "${t.name}" ${check.alertname}`;
                        for (const [label, values] of Object.entries(allowed)) {
                            const value = expected.exp_labels[label];
                            if (value !== undefined && !values.includes(value)) {
                                mismatches.push(`${at}: ${label}="${value}", but stack ${ALERT_TEST_STACK} creates ${values.join(" / ")}`);
                            }
                        }
                        const pod = expected.exp_labels.pod;
                        if (pod !== undefined && !params.workloads.some((w) => pod.startsWith(`${w.deployment}-`))) {
                            mismatches.push(`${at}: pod="${pod}" belongs to none of ${params.workloads.map((w) => w.deployment).join(", ")}`);
                        }
                        const runbook = `${params.runbookBaseUrl}#${check.alertname.toLowerCase()}`;
                        if (expected.exp_annotations?.runbook_url !== runbook) {
                            mismatches.push(`${at}: runbook_url ${expected.exp_annotations?.runbook_url} is not ${runbook}`);
                        }
                    }
                }
            }
        }
        expect(mismatches).toEqual([]);
    });

    test("`promtool check rules` accepts the rule files and `promtool test rules` passes every unit test", () => {
        for (const file of writeTestRuleFiles()) {
            const check = promtool(["check", "rules", file]);
            if (check.status !== 0) {
                throw new Error(`promtool check rules ${file} failed (exit ${check.status}):\n${check.stdout}${check.stderr}`);
            }
            expect(check.stdout).toContain(`SUCCESS: ${alertNamesFor(params).length} rules found`);
        }
        const unit = promtool(["test", "rules", ...TEST_FILES]);
        if (unit.status !== 0) {
            throw new Error(`promtool test rules failed (exit ${unit.status}):\n${unit.stdout}${unit.stderr}`);
        }
        expect(unit.stdout.match(/SUCCESS/g)).toHaveLength(TEST_FILES.length);
    });
});

/** Runs promtool ($PROMTOOL or the one on PATH); a missing promtool fails the test, it is never skipped. */
function promtool(args: string[]): SpawnSyncReturns<string> {
    const command = process.env.PROMTOOL ?? "promtool";
    const result = spawnSync(command, args, { cwd: PROJECT_DIR, encoding: "utf8", timeout: 60000 });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
        throw new Error(`${command} not found: install it with scripts/install-promtool.sh (CI runs it before the tests), `
            + "or point $PROMTOOL at a promtool binary");
    }
    if (result.error) {
        throw result.error;
    }
    return result;
}

describe("the edge alerts on each edge the stacks can have", () => {
    const variants = { "gateway-traefik": {}, ...EDGE_VARIANTS };
    const exprOf = (overrides: object, alert: string) => ruleNamed(stackRuleGroups(ALERT_TEST_STACK, undefined, overrides as never), alert).expr;

    test.each(Object.entries(variants))("%s: the expressions read that controller's series for the backend, WebSockets left out", (_, overrides) => {
        const params = stackAlertParams(ALERT_TEST_STACK, undefined, overrides as never);
        const metrics = EDGE_METRICS[params.edge.controller];
        const latency = exprOf(overrides, "KubePolarisHighLatencyP99");
        const errors = exprOf(overrides, "KubePolarisApiErrorRate");
        expect(latency).toContain(`rate(${metrics.duration}_bucket{`);
        expect(errors).toContain(`${metrics.status}=~"5.."`);
        for (const expr of [latency, errors]) {
            expect(expr).toContain(params.edge.controller === "traefik" ? 'protocol!~"websocket"' : 'path!~"/ws.*"');
            // Every scrape shape: the controller's own `service` label, or exported_service after a ServiceMonitor.
            expect(expr).toContain("exported_service=");
            expect(expr).not.toContain(params.edge.controller === "traefik" ? "nginx_ingress_controller" : "traefik_");
        }
    });

    test("Traefik's service names: one per HTTPRoute rule and backendRef on the Gateway edge, <namespace>-<Service>-<port> on an Ingress", () => {
        const gateway = new RegExp(`^(?:${traefikBackendServices({ controller: "traefik", kind: "gateway", gateway: "kp", route: "kp", backendService: "kp-backend" }, "apps")})$`);
        // As Traefik v3.7.13 names the /api rule's backend on entry point websecure (makeRouterName + loadService).
        expect(gateway.test("httproute-apps-kp-gw-apps-kp-ep-websecure-1-b9f508251fc59bc74bf1-svc-apps-kp-backend-0@kubernetesgateway")).toBe(true);
        expect(gateway.test("httproute-apps-kp-gw-apps-kp-ep-websecure-2-78b550988b1368f3510c-svc-apps-kp-frontend-0@kubernetesgateway")).toBe(false);
        expect(gateway.test("httproute-apps-kp-https-redirect-gw-apps-kp-ep-web-0-78b550988b1368f3510c-svc-apps-kp-backend-0@kubernetesgateway")).toBe(false);
        expect(gateway.test("httproute-other-kp-gw-other-kp-ep-web-1-b9f508251fc59bc74bf1-svc-other-kp-backend-0@kubernetesgateway")).toBe(false);
        // Traefik normalises the router part (a dot in a name becomes "-"), not the backend Service's.
        const dotted = new RegExp(`^(?:${traefikBackendServices({ controller: "traefik", kind: "gateway", gateway: "edge.v1", route: "kp", backendService: "kp-backend" }, "apps")})$`);
        expect(dotted.test("httproute-apps-kp-gw-apps-edge-v1-ep-web-1-b9f508251fc59bc74bf1-svc-apps-kp-backend-0@kubernetesgateway")).toBe(true);
        const ingress = new RegExp(`^(?:${traefikBackendServices({ controller: "traefik", kind: "ingress", route: "kp", backendService: "kp-backend", backendPort: 8080 }, "apps")})$`);
        expect(ingress.test("apps-kp-backend-8080@kubernetes")).toBe(true);
        expect(ingress.test(`apps-${componentName("kp", "frontend")}-80@kubernetes`)).toBe(false);
    });

    test("ingress-nginx's metrics on a Gateway edge are refused at config time, naming the key", () => {
        expect(() => stackAlertParams(ALERT_TEST_STACK, undefined, { monitoring: { edgeMetrics: "ingress-nginx" } }))
            .toThrow(/monitoring.edgeMetrics.*"ingress-nginx".*"traefik" with edge.kind "gateway"/s);
        expect(() => stackAlertParams(ALERT_TEST_STACK, undefined, { monitoring: { edgeMetrics: "envoy" } }))
            .toThrow(/monitoring.edgeMetrics.*"envoy".*one of "traefik", "ingress-nginx"/s);
    });
});
