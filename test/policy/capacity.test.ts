// Quota capacity: room for every workload at its HPA maximum plus the rollout surge.
// Baseline: api and web each max 6 + surge 1 = 7 pods of 250m/256Mi requests, 1 CPU/512Mi limits:
// 14 pods, requests 3.5 CPU / 3.5Gi, limits 14 CPU / 7Gi, against hard 8 / 8Gi / 16 / 16Gi / 20 pods.
import { quotaFitsScaleOut } from "../../policy/rules/capacity";
import { parseQuantity } from "../../policy/facts";
import { defaultSpec, Spec } from "../fixtures/_lib/spec";
import { FakeResource, policyCases, specResources, UNKNOWN, violationsOf } from "./support";

const container = (s: Spec, tier: "api" | "web" = "api") => s.tiers[tier].deployment.spec.template.spec.containers[0];
const limitRange = (item: object): FakeResource => ({
    type: "kubernetes:core/v1:LimitRange", name: "limits",
    inputs: { metadata: { name: "limits", namespace: "shop" }, spec: { limits: [{ type: "Container", ...item }] } },
});

policyCases(quotaFitsScaleOut, [
    {
        title: "pods: 14 at peak, hard 13",
        mutate: (s) => { s.quota.spec.hard.pods = "13"; },
        expected: ["quota: ResourceQuota shop-quota (namespace shop): pods 13 is less than the 14 the workloads need at their peak (Deployment shop-api: 7 pods (HPA api-hpa maxReplicas 6 + 1 surge); Deployment shop-web: 7 pods (HPA web-hpa maxReplicas 6 + 1 surge))."],
    },
    { title: "exactly the peak passes", mutate: (s) => { s.quota.spec.hard.pods = "14"; s.quota.spec.hard["limits.cpu"] = "14"; }, expected: [] },
    {
        title: "a higher HPA maximum outgrows limits.cpu",
        mutate: (s) => { s.tiers.api.hpa.spec.maxReplicas = 10; },
        expected: ["limits.cpu 16 is less than the 18 the workloads need at their peak (Deployment shop-api: 11 pods"],
    },
    {
        title: "a percentage surge rounds up",
        mutate: (s) => { s.tiers.api.deployment.spec.strategy.rollingUpdate = { maxUnavailable: 0, maxSurge: "50%" }; s.quota.spec.hard.pods = "15"; },
        expected: ["pods 15 is less than the 16 the workloads need at their peak (Deployment shop-api: 9 pods (HPA api-hpa maxReplicas 6 + 3 surge)"],
    },
    {
        title: "the cpu/memory spelling of requests counts",
        mutate: (s) => { delete s.quota.spec.hard["requests.memory"]; s.quota.spec.hard.memory = "3Gi"; },
        expected: ["memory 3Gi is less than the 3584Mi the workloads need"],
    },
    {
        title: "a container without memory limit under a quota on limits.memory",
        mutate: (s) => { delete container(s).resources.limits.memory; },
        expected: ["limits.memory, but Deployment shop-api containers[0] (api) has no limits.memory and no LimitRange default: such pods are refused"],
    },
    {
        title: "a request defaults to the container's own limit",
        mutate: (s) => { delete container(s).resources.requests; s.quota.spec.hard["requests.cpu"] = "9"; s.quota.spec.hard["requests.memory"] = "5Gi"; },
        expected: ["requests.memory 5Gi is less than the 5376Mi the workloads need"],
    },
    { title: "a scoped quota is not compared", mutate: (s) => { s.quota.spec.hard.pods = "1"; s.quota.spec.scopes = ["BestEffort"]; }, expected: [] },
    {
        title: "hard limits unknown during preview",
        mutate: (s) => { s.quota.spec.hard = UNKNOWN; },
        expected: ["quota: ResourceQuota shop-quota (namespace shop): ResourceQuota quota: spec.hard is unknown during preview; cannot verify"],
    },
]);

test("quota-fits-scale-out: a container without resources takes the LimitRange defaults", async () => {
    const spec = defaultSpec();
    delete container(spec, "web").resources;
    const resources = [...specResources(spec), limitRange({ default: { cpu: "2", memory: "1Gi" }, defaultRequest: { cpu: "100m", memory: "128Mi" } })];
    // web: 7 pods × 2 CPU limit = 14, api 7 × 1 = 7: 21 > 16. Memory (7 × 1Gi + 7 × 512Mi) and requests fit.
    expect(await violationsOf(quotaFitsScaleOut, resources)).toEqual([expect.stringContaining("limits.cpu 16 is less than the 21 the workloads need")]);
});

test("quota-fits-scale-out: a LimitRange with only a default limit also defaults the request", async () => {
    const spec = defaultSpec();
    delete container(spec, "web").resources;
    spec.quota.spec.hard["requests.cpu"] = "5";
    const resources = [...specResources(spec), limitRange({ default: { cpu: "500m", memory: "256Mi" } })];
    // web requests 7 × 500m = 3.5 + api 1.75 = 5.25 > 5
    expect(await violationsOf(quotaFitsScaleOut, resources)).toEqual([expect.stringContaining("requests.cpu 5 is less than the 5250m")]);
});

test.each([["500m", 0.5], ["2", 2], ["1.5Gi", 1.5 * 2 ** 30], ["128M", 128e6], ["1e3", 1000], ["bogus", undefined]])("parseQuantity(%p)", (q, v) => {
    expect(parseQuantity(q)).toBe(v);
});
