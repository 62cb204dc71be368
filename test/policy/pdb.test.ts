// PodDisruptionBudget policies and the arithmetic under them.
import { disruptionBudget, scaleIntOrPercent } from "../../policy/rules/k8s";
import { pdbAllowsEviction, pdbCoverage } from "../../policy/rules/pdb";
import { podLabels } from "../fixtures/_lib/spec";
import { policyCases, UNKNOWN } from "./support";

policyCases(pdbCoverage, [
    {
        title: "a selector with a label the pods lack (Polaris would accept: one label matches)",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.selector = { matchLabels: { ...podLabels("api"), tier: "api" } }; },
        expected: [
            /^api-deployment: Deployment shop-api \(namespace shop, pod labels .*\) has no PodDisruptionBudget selecting its pods.*\(PDB shop-api selects .*tier=api; PDB shop-web selects/,
            /^api-pdb: PodDisruptionBudget shop-api \(namespace shop, selector .*tier=api\) selects the pods of no workload in this stack/,
        ],
    },
    {
        title: "two PDBs over one workload",
        mutate: (s) => {
            s.tiers.api.pdbs.push({ metadata: { name: "extra", namespace: "shop" }, spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/component": "api" } } } });
        },
        expected: ["api-deployment: Deployment shop-api is selected by 2 PodDisruptionBudgets (shop-api, extra)"],
    },
    {
        title: "the PDB in another namespace than the pods",
        mutate: (s) => { s.tiers.api.pdbs[0].metadata = { name: "shop-api", namespace: "default" }; },
        expected: [
            "api-deployment: Deployment shop-api (namespace shop, pod labels app.kubernetes.io/component=api,app.kubernetes.io/name=shop) has no PodDisruptionBudget selecting its pods: a node drain may evict all replicas at once (PDB shop-web selects app.kubernetes.io/component=web,app.kubernetes.io/name=shop; PDB shop-api matches the labels but is in namespace default).",
            "api-pdb: PodDisruptionBudget shop-api (namespace default,",
        ],
    },
    {
        title: "matchExpressions NotIn excludes the api pods and doubles up on the web pods",
        mutate: (s) => {
            s.tiers.api.pdbs[0].spec.selector = {
                matchLabels: { "app.kubernetes.io/name": "shop" },
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["api"] }],
            };
        },
        expected: ["api-deployment: Deployment shop-api (namespace shop", "web-deployment: Deployment shop-web is selected by 2 PodDisruptionBudgets (shop-api, shop-web)"],
    },
    {
        title: "matchExpressions In / Exists that select the pods pass",
        mutate: (s) => {
            s.tiers.api.pdbs[0].spec.selector = {
                matchExpressions: [
                    { key: "app.kubernetes.io/component", operator: "In", values: ["api"] },
                    { key: "app.kubernetes.io/name", operator: "Exists" },
                    { key: "canary", operator: "DoesNotExist" },
                ],
            };
        },
        expected: [],
    },
    {
        title: "DoesNotExist on a label the pods carry selects nothing",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.selector.matchExpressions = [{ key: "app.kubernetes.io/name", operator: "DoesNotExist" }]; },
        expected: ["api-deployment: Deployment shop-api", "api-pdb: PodDisruptionBudget shop-api"],
    },
    {
        title: "an empty selector selects every pod of the namespace",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.selector = {}; },
        // api keeps one PDB (the empty selector); web now has two.
        expected: ["web-deployment: Deployment shop-web is selected by 2 PodDisruptionBudgets (shop-api, shop-web)"],
    },
    {
        title: "no selector (null selects nothing)",
        mutate: (s) => { delete s.tiers.web.pdbs[0].spec.selector; },
        expected: ["web-pdb: PodDisruptionBudget shop-web has no selector (a null selector selects no pods).", "web-deployment: Deployment shop-web"],
    },
    {
        title: "an invalid operator",
        mutate: (s) => { s.tiers.web.pdbs[0].spec.selector.matchExpressions = [{ key: "a", operator: "Equals", values: ["b"] }]; },
        expected: ["web-pdb: PodDisruptionBudget shop-web has an invalid selector: matchExpressions[0] has operator \"Equals\"", "web-deployment: Deployment shop-web"],
    },
    {
        title: "In without values is invalid",
        mutate: (s) => { s.tiers.web.pdbs[0].spec.selector.matchExpressions = [{ key: "a", operator: "In", values: [] }]; },
        expected: ["has an invalid selector: matchExpressions[0] (a In) needs at least one value", "web-deployment"],
    },
    {
        title: "a single-replica workload needs no PDB",
        mutate: (s) => { delete s.tiers.web.hpa; s.tiers.web.deployment.spec.replicas = 1; s.tiers.web.pdbs = []; },
        expected: [],
    },
    {
        title: "a multi-replica workload without any PDB",
        mutate: (s) => { s.tiers.web.pdbs = []; },
        expected: ["web-deployment: Deployment shop-web (namespace shop, pod labels app.kubernetes.io/component=web,app.kubernetes.io/name=shop) has no PodDisruptionBudget selecting its pods: a node drain may evict all replicas at once (PDB shop-api selects app.kubernetes.io/component=api,app.kubernetes.io/name=shop)."],
    },
    {
        title: "a selector unknown during preview",
        mutate: (s) => { s.tiers.web.pdbs[0].spec.selector = UNKNOWN; },
        expected: ["web-pdb: PodDisruptionBudget web-pdb: spec.selector is unknown during preview; cannot verify", "web-deployment: Deployment shop-web"],
    },
]);

policyCases(pdbAllowsEviction, [
    {
        title: "minAvailable equal to the HPA minimum",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = 3; },
        expected: ["api-pdb: PodDisruptionBudget shop-api (minAvailable 3) keeps 3 of Deployment shop-api's 3 pods at its minimum (HPA api-hpa minReplicas 3), allowing 0 eviction(s)"],
    },
    {
        title: "counts the HPA minimum, not spec.replicas",
        mutate: (s) => { s.tiers.api.deployment.spec.replicas = 5; s.tiers.api.pdbs[0].spec.minAvailable = 3; },
        expected: ["allowing 0 eviction(s)"],
    },
    { title: "minAvailable 100%", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = "100%"; }, expected: ["(minAvailable 100%) keeps 3 of"] },
    { title: "minAvailable 67% of 3 rounds up to 3", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = "67%"; }, expected: ["(minAvailable 67%) keeps 3 of"] },
    { title: "minAvailable 66% of 3 rounds up to 2 and passes", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = "66%"; }, expected: [] },
    { title: "maxUnavailable 0", mutate: (s) => { s.tiers.api.pdbs[0].spec = { maxUnavailable: 0, selector: s.tiers.api.pdbs[0].spec.selector }; }, expected: ["(maxUnavailable 0) keeps 3 of"] },
    { title: "maxUnavailable 0%", mutate: (s) => { s.tiers.api.pdbs[0].spec = { maxUnavailable: "0%", selector: s.tiers.api.pdbs[0].spec.selector }; }, expected: ["allowing 0 eviction(s)"] },
    { title: "maxUnavailable 10% of 3 rounds up to 1 and passes", mutate: (s) => { s.tiers.api.pdbs[0].spec = { maxUnavailable: "10%", selector: s.tiers.api.pdbs[0].spec.selector }; }, expected: [] },
    {
        title: "neither set: policy/v1 has no default, so the budget keeps no pod",
        mutate: (s) => { s.tiers.api.pdbs[0].spec = { selector: s.tiers.api.pdbs[0].spec.selector }; },
        expected: ["api-pdb: PodDisruptionBudget shop-api sets neither minAvailable nor maxUnavailable: a policy/v1 budget without them keeps no pod, so it protects nothing"],
    },
    { title: "both set", mutate: (s) => { s.tiers.api.pdbs[0].spec.maxUnavailable = 1; }, expected: ["api-pdb: PodDisruptionBudget shop-api sets both minAvailable and maxUnavailable"] },
    { title: "a malformed percentage", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = "2"; }, expected: ["minAvailable \"2\" is neither an integer nor a percentage"] },
    {
        title: "a single replica with minAvailable 1",
        mutate: (s) => { delete s.tiers.web.hpa; s.tiers.web.deployment.spec.replicas = 1; s.tiers.web.pdbs[0].spec.minAvailable = 1; },
        expected: ["web-pdb: PodDisruptionBudget shop-web (minAvailable 1) keeps 1 of Deployment shop-web's 1 pods at its minimum (spec.replicas 1), allowing 0 eviction(s): node drains and cluster upgrades block. Run more than 1 replica(s)"],
    },
    { title: "two evictions required", mutate: () => undefined, config: { properties: { minEvictions: 2 } }, expected: ["api-pdb: PodDisruptionBudget shop-api (minAvailable 66%)", "web-pdb: PodDisruptionBudget shop-web (minAvailable 66%)"] },
    {
        title: "minAvailable = minimum − 1 at an HPA of 5–20 (prod's old backend budget): 16 of 20 pods may go at the maximum",
        mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 5; s.tiers.api.hpa.spec.maxReplicas = 20; s.tiers.api.pdbs[0].spec.minAvailable = 4; },
        expected: ["api-pdb: PodDisruptionBudget shop-api (minAvailable 4) lets one voluntary disruption evict 16 of Deployment shop-api's 20 pods (5–20 with HPA api-hpa minReplicas 5), more than 25% (5)"],
    },
    {
        title: "the range is checked above the minimum, not only at it: minAvailable 2 of an HPA 3–6 allows 4 of 6",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = 2; },
        expected: ["api-pdb: PodDisruptionBudget shop-api (minAvailable 2) lets one voluntary disruption evict 4 of Deployment shop-api's 6 pods (3–6 with HPA api-hpa minReplicas 3), more than 25% (2)"],
    },
    {
        title: "maxUnavailable 50% is one pod at a minimum of 2 but half the pods at a maximum of 20",
        mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 2; s.tiers.api.hpa.spec.maxReplicas = 20; s.tiers.api.pdbs[0].spec = { maxUnavailable: "50%", selector: s.tiers.api.pdbs[0].spec.selector }; },
        expected: ["(maxUnavailable 50%) lets one voluntary disruption evict 10 of Deployment shop-api's 20 pods (2–20 with HPA api-hpa minReplicas 2), more than 25% (5)"],
    },
    {
        title: "maxUnavailable 20% at an HPA of 5–20 keeps 16 of 20 and one may go at 5: passes",
        mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 5; s.tiers.api.hpa.spec.maxReplicas = 20; s.tiers.api.pdbs[0].spec = { maxUnavailable: "20%", selector: s.tiers.api.pdbs[0].spec.selector }; },
        expected: [],
    },
    {
        title: "maxUnavailable 1 passes at every count",
        mutate: (s) => { s.tiers.api.hpa.spec.maxReplicas = 40; s.tiers.api.pdbs[0].spec = { maxUnavailable: 1, selector: s.tiers.api.pdbs[0].spec.selector }; },
        expected: [],
    },
    {
        title: "a stack may allow a larger share by config",
        mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = 2; },
        config: { properties: { maxDisruptedPercent: 67 } },
        expected: [],
    },
    { title: "minAvailable unknown during preview", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = UNKNOWN; }, expected: ["api-pdb: PodDisruptionBudget api-pdb: spec.minAvailable is unknown during preview; cannot verify"] },
    { title: "HPA minReplicas unknown during preview", mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = UNKNOWN; }, expected: ["api-hpa: HorizontalPodAutoscaler api-hpa: spec.minReplicas is unknown during preview"] },
]);

describe("disruption arithmetic (the disruption controller's rounding)", () => {
    test.each([
        [2, 3, true, 2], ["50%", 3, true, 2], ["50%", 3, false, 1], ["100%", 5, true, 5], ["1%", 5, true, 1], ["1%", 5, false, 0], ["0%", 5, true, 0],
    ])("scaleIntOrPercent(%p, %p, roundUp=%p) = %p", (value, total, up, expected) => {
        expect(scaleIntOrPercent(value, total, up)).toEqual({ ok: true, value: expected });
    });
    test.each([["2"], ["50"], [-1], [1.5], [null], ["%"]])("scaleIntOrPercent rejects %p", (value) => {
        expect(scaleIntOrPercent(value, 3, true).ok).toBe(false);
    });
    test.each([
        [{ minAvailable: 2 }, 3, 2, 1],
        [{ minAvailable: "50%" }, 3, 2, 1],
        [{ minAvailable: "50%" }, 4, 2, 2],
        [{ maxUnavailable: 1 }, 3, 2, 1],
        [{ maxUnavailable: "50%" }, 3, 1, 2],
        [{ maxUnavailable: "34%" }, 3, 1, 2],
        [{ maxUnavailable: "33%" }, 3, 2, 1],
        [{ minAvailable: 5 }, 3, 5, 0],
    ])("disruptionBudget(%p, %p pods): desiredHealthy %p, allowed %p", (spec, expected, desired, allowed) => {
        expect(disruptionBudget(spec, expected)).toMatchObject({ desiredHealthy: desired, allowed });
    });
    test("neither field: policy/v1beta1 defaults minAvailable to 1, policy/v1 keeps nothing", () => {
        expect(disruptionBudget({}, 3, "kubernetes:policy/v1beta1:PodDisruptionBudget")).toMatchObject({ desiredHealthy: 1, allowed: 2 });
        expect(disruptionBudget({}, 3, "kubernetes:policy/v1:PodDisruptionBudget")).toEqual({ problem: expect.stringContaining("protects nothing") });
    });
});
