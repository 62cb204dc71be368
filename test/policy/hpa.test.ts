// HorizontalPodAutoscaler policies.
import { hpaBounds, hpaMinAbovePdbFloor, hpaOwnsReplicas, hpaTargetExists, hpaUtilizationRequests } from "../../policy/rules/hpa";
import { defaultSpec } from "../fixtures/_lib/spec";
import { policyCases, specResources, UNKNOWN, violationsOf } from "./support";

policyCases(hpaBounds, [
    { title: "minReplicas unset (defaults to 1)", mutate: (s) => { delete s.tiers.api.hpa.spec.minReplicas; }, expected: ["api-hpa: minReplicas is unset (defaults to 1); at least 2"] },
    { title: "minReplicas 1", mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 1; }, expected: ["api-hpa: minReplicas is 1; at least 2"] },
    { title: "minReplicas 2 where prod needs 3", mutate: (s) => { s.tiers.web.hpa.spec.minReplicas = 2; }, config: { properties: { minReplicas: 3 } }, expected: ["web-hpa: minReplicas is 2; at least 3"] },
    { title: "maxReplicas below minReplicas", mutate: (s) => { s.tiers.api.hpa.spec.maxReplicas = 2; }, expected: ["api-hpa: maxReplicas 2 is below minReplicas 3."] },
    { title: "maxReplicas unset", mutate: (s) => { delete s.tiers.api.hpa.spec.maxReplicas; }, expected: ["api-hpa: maxReplicas is not set."] },
    { title: "maxReplicas equal to minReplicas passes", mutate: (s) => { s.tiers.api.hpa.spec.maxReplicas = 3; }, expected: [] },
]);

policyCases(hpaTargetExists, [
    { title: "a misspelt target name", mutate: (s) => { s.tiers.api.hpa.spec.scaleTargetRef.name = "shop-apii"; }, expected: ["api-hpa: HPA shop-api scales Deployment shop-apii (apps/v1) in namespace shop, which this stack does not define there"] },
    { title: "the wrong kind", mutate: (s) => { s.tiers.api.hpa.spec.scaleTargetRef.kind = "StatefulSet"; }, expected: ["api-hpa: HPA shop-api scales StatefulSet shop-api"] },
    { title: "the wrong API group", mutate: (s) => { s.tiers.api.hpa.spec.scaleTargetRef.apiVersion = "extensions/v1beta1"; }, expected: ["scales Deployment shop-api (extensions/v1beta1)"] },
    { title: "another namespace", mutate: (s) => { s.tiers.api.hpa.metadata = { name: "shop-api", namespace: "other" }; }, expected: ["in namespace other, which this stack does not define there"] },
    { title: "no scaleTargetRef", mutate: (s) => { delete s.tiers.api.hpa.spec.scaleTargetRef; }, expected: ["api-hpa: HPA shop-api has no scaleTargetRef kind and name."] },
    {
        title: "two HPAs on one Deployment",
        mutate: (s) => { s.tiers.web.hpa.spec.scaleTargetRef.name = "shop-api"; },
        expected: ["web-hpa: HPA shop-web and HPA shop-api both scale Deployment shop-api"],
    },
    { title: "a target name unknown during preview", mutate: (s) => { s.tiers.api.hpa.spec.scaleTargetRef.name = UNKNOWN; }, expected: ["api-hpa: HorizontalPodAutoscaler api-hpa: spec.scaleTargetRef.name is unknown during preview"] },
]);

policyCases(hpaMinAbovePdbFloor, [
    { title: "minReplicas equal to the PDB's minAvailable", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = 3; }, expected: ["api-hpa: HPA shop-api minReplicas 3 is not above PodDisruptionBudget shop-api's floor of 3 (minAvailable 3)."] },
    { title: "a percentage that rounds up to minReplicas", mutate: (s) => { s.tiers.api.pdbs[0].spec.minAvailable = "90%"; }, expected: ["floor of 3 (minAvailable 90%)"] },
    { title: "a maxUnavailable PDB passes", mutate: (s) => { s.tiers.api.pdbs[0].spec = { maxUnavailable: 1, selector: s.tiers.api.pdbs[0].spec.selector }; }, expected: [] },
    { title: "a PDB floor unknown during preview", mutate: (s) => { s.tiers.web.pdbs[0].spec.minAvailable = UNKNOWN; }, expected: ["web-hpa: PodDisruptionBudget web-pdb: spec.minAvailable is unknown during preview"] },
]);

policyCases(hpaUtilizationRequests, [
    { title: "memory utilization without a memory request", mutate: (s) => { delete s.tiers.api.deployment.spec.template.spec.containers[0].resources.requests.memory; }, expected: ["api-hpa: HPA shop-api: it scales on memory utilization but containers[0] (api) of Deployment shop-api requests no memory."] },
    {
        title: "an AverageValue memory target needs no request",
        mutate: (s) => {
            delete s.tiers.api.deployment.spec.template.spec.containers[0].resources.requests.memory;
            s.tiers.api.hpa.spec.metrics[1].resource.target = { type: "AverageValue", averageValue: "400Mi" };
        },
        expected: [],
    },
    {
        title: "no metrics (the default is CPU utilization) without a CPU request",
        mutate: (s) => { delete s.tiers.web.hpa.spec.metrics; delete s.tiers.web.deployment.spec.template.spec.containers[0].resources.requests.cpu; },
        expected: ["web-hpa: HPA shop-web: it scales on cpu utilization but containers[0] (web)"],
    },
    {
        title: "a sidecar without requests",
        mutate: (s) => { s.tiers.api.deployment.spec.template.spec.containers.push({ name: "proxy", image: "envoy:v1.31.0" }); },
        expected: ["it scales on cpu utilization but containers[1] (proxy)", "it scales on memory utilization but containers[1] (proxy)"],
    },
    {
        title: "a ContainerResource metric on the container that has the request passes",
        mutate: (s) => {
            s.tiers.api.deployment.spec.template.spec.containers.push({ name: "proxy", image: "envoy:v1.31.0" });
            s.tiers.api.hpa.spec.metrics = [{ type: "ContainerResource", containerResource: { name: "cpu", container: "api", target: { type: "Utilization", averageUtilization: 70 } } }];
        },
        expected: [],
    },
    {
        title: "a ContainerResource metric naming a missing container",
        mutate: (s) => { s.tiers.api.hpa.spec.metrics = [{ type: "ContainerResource", containerResource: { name: "cpu", container: "sidecar", target: { type: "Utilization", averageUtilization: 70 } } }]; },
        expected: ["api-hpa: HPA shop-api: its cpu ContainerResource metric names container \"sidecar\", which the pods do not have."],
    },
]);

test("hpa-utilization-requests: an autoscaling/v1 HPA always measures CPU utilization", async () => {
    const spec = defaultSpec();
    delete spec.tiers.api.deployment.spec.template.spec.containers[0].resources.requests.cpu;
    delete spec.tiers.api.hpa;
    const v1 = {
        type: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler", name: "api-hpa-v1",
        inputs: { metadata: { name: "shop-api", namespace: "shop" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "shop-api" }, minReplicas: 3, maxReplicas: 6 } },
    };
    expect(await violationsOf(hpaUtilizationRequests, [...specResources(spec), v1])).toEqual([
        expect.stringContaining("api-hpa-v1: HPA shop-api: it scales on cpu utilization but containers[0] (api)"),
    ]);
});

policyCases(hpaOwnsReplicas, [
    { title: "spec.replicas without ignoreChanges", mutate: (s) => { s.tiers.api.deploymentOptions = {}; }, expected: ["api-deployment: Deployment shop-api sets spec.replicas and is scaled by HPA shop-api, but spec.replicas is not in ignoreChanges"] },
    { title: "ignoreChanges on the whole spec passes", mutate: (s) => { s.tiers.api.deploymentOptions = { ignoreChanges: ["spec"] }; }, expected: [] },
    { title: "ignoreChanges in bracket form passes", mutate: (s) => { s.tiers.api.deploymentOptions = { ignoreChanges: ["spec[\"replicas\"]"] }; }, expected: [] },
    { title: "no spec.replicas at all passes", mutate: (s) => { s.tiers.api.deploymentOptions = {}; delete s.tiers.api.deployment.spec.replicas; }, expected: [] },
    { title: "no HPA: spec.replicas is the owner", mutate: (s) => { s.tiers.api.deploymentOptions = {}; delete s.tiers.api.hpa; }, expected: [] },
]);

describe("hpa-owns-replicas on a live object's outputs (what AnalyzeStack sees for an existing Deployment)", () => {
    const live = (managedFields?: unknown[]) => (s: any) => {
        s.tiers.api.deploymentOptions = {};
        s.tiers.api.deployment.metadata = { ...s.tiers.api.deployment.metadata, uid: "0b1c", ...(managedFields ? { managedFields } : {}) };
        s.tiers.api.deployment.status = { replicas: 5, readyReplicas: 5 };
    };
    const owner = (manager: string) => ({ manager, operation: "Apply", fieldsV1: { "f:spec": { "f:replicas": {}, "f:template": {} } } });
    policyCases(hpaOwnsReplicas, [
        { title: "Pulumi's field manager owns spec.replicas", mutate: live([owner("pulumi-kubernetes-6a1b"), { manager: "kube-controller-manager", fieldsV1: { "f:status": {} } }]), expected: ["api-deployment: Deployment shop-api sets spec.replicas"] },
        { title: "only the HPA's scale subresource writes spec.replicas", mutate: live([{ manager: "pulumi-kubernetes-6a1b", fieldsV1: { "f:spec": { "f:template": {} } } }, owner("kube-controller-manager")]), expected: [] },
        { title: "no managedFields in the outputs: cannot tell, stays silent", mutate: live(), expected: [] },
    ]);
});
