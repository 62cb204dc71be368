// Rollout policy: the update strategy must respect the PDB floor.
import { rolloutRespectsPdb } from "../../policy/rules/rollout";
import { defaultSpec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, violationsOf } from "./support";

const rolling = (maxUnavailable: unknown, maxSurge: unknown) => ({ type: "RollingUpdate", rollingUpdate: { maxUnavailable, maxSurge } });

policyCases(rolloutRespectsPdb, [
    { title: "Recreate", mutate: (s) => { s.tiers.api.deployment.spec.strategy = { type: "Recreate" }; }, expected: ["api-deployment: Deployment shop-api: uses the Recreate strategy: every rollout stops all 3 pods"] },
    { title: "maxUnavailable 1 with minAvailable 66% of 3 (2) passes", mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling(1, 0); }, expected: [] },
    {
        title: "maxUnavailable 2 with minAvailable 66% of 3 (2)",
        mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling(2, 1); },
        expected: ["api-deployment: Deployment shop-api: at 3 replicas (HPA api-hpa minReplicas 3) a rollout (maxUnavailable 2, maxSurge 1) may take 2 pod(s) down at once, leaving 1 available, below PodDisruptionBudget shop-api's floor of 2 (minAvailable 66%)."],
    },
    { title: "maxUnavailable 50% of 3 rounds down to 1 and passes", mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling("50%", 0); }, expected: [] },
    { title: "maxUnavailable 67% of 3 rounds down to 2", mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling("67%", "25%"); }, expected: ["may take 2 pod(s) down at once, leaving 1 available"] },
    { title: "the default strategy (25%/25%) passes at 3 replicas", mutate: (s) => { delete s.tiers.api.deployment.spec.strategy; }, expected: [] },
    {
        title: "the default strategy against a maxUnavailable-0 PDB floor at 4 replicas",
        mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 4; s.tiers.api.pdbs[0].spec.minAvailable = 4; delete s.tiers.api.deployment.spec.strategy; },
        expected: ["at 4 replicas (HPA api-hpa minReplicas 4) a rollout (maxUnavailable 25%, maxSurge 25%) may take 1 pod(s) down at once, leaving 3 available, below PodDisruptionBudget shop-api's floor of 4"],
    },
    {
        title: "percentages that both round to 0 make one pod unavailable",
        mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling("10%", "0%"); s.tiers.api.pdbs[0].spec.minAvailable = 3; },
        expected: ["may take 1 pod(s) down at once, leaving 2 available"],
    },
    { title: "maxSurge and maxUnavailable both 0", mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling(0, 0); }, expected: ["api-deployment: Deployment shop-api: strategy.rollingUpdate sets maxSurge and maxUnavailable both to 0"] },
    { title: "a malformed maxUnavailable", mutate: (s) => { s.tiers.api.deployment.spec.strategy = rolling("one", 1); }, expected: ["strategy.rollingUpdate.maxUnavailable \"one\" is neither an integer nor a percentage"] },
    { title: "Recreate on a single replica is left to workload-min-replicas", mutate: (s) => { delete s.tiers.api.hpa; s.tiers.api.deployment.spec.replicas = 1; s.tiers.api.deployment.spec.strategy = { type: "Recreate" }; }, expected: [] },
]);

describe("rollout-respects-pdb on StatefulSets", () => {
    const statefulSet = (replicas: number, updateStrategy?: unknown, minAvailable = 2) => {
        const labels = { app: "db" };
        return [
            { type: TYPES.statefulSet, name: "db", inputs: { metadata: { name: "db", namespace: "shop" }, spec: { replicas, updateStrategy, selector: { matchLabels: labels }, serviceName: "db", template: { metadata: { labels }, spec: { containers: [] } } } } },
            { type: TYPES.pdb, name: "db-pdb", inputs: { metadata: { name: "db", namespace: "shop" }, spec: { minAvailable, selector: { matchLabels: labels } } } },
        ];
    };
    test("the default (one pod at a time) passes at 3 replicas with minAvailable 2", async () => {
        expect(await violationsOf(rolloutRespectsPdb, [...specResources(defaultSpec()), ...statefulSet(3)])).toEqual([]);
    });
    test("maxUnavailable 2 fails", async () => {
        expect(await violationsOf(rolloutRespectsPdb, [...specResources(defaultSpec()), ...statefulSet(3, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } })]))
            .toEqual([expect.stringContaining("db: StatefulSet db: at 3 replicas (spec.replicas 3) a rollout (maxUnavailable 2) may take 2 pod(s) down")]);
    });
    test("OnDelete is not checked", async () => {
        expect(await violationsOf(rolloutRespectsPdb, [...specResources(defaultSpec()), ...statefulSet(3, { type: "OnDelete" }, 3)])).toEqual([]);
    });
});
