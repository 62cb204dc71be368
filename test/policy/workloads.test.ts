// Workload policies: the baseline passes; each case changes one field of the fixture spec.
import { parseImageReference } from "../../policy/facts";
import {
    workloadHostnameAntiAffinity,
    workloadImmutableImage,
    workloadMinReplicas,
    workloadProbes,
    workloadResources,
    workloadSecurityContext,
    workloadZoneSpread,
} from "../../policy/rules/workloads";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, UNKNOWN, violationsOf } from "./support";
import { defaultSpec } from "../fixtures/_lib/spec";

const podSpec = (s: Spec, tier: "api" | "web" = "api") => s.tiers[tier].deployment.spec.template.spec;
const container = (s: Spec, tier: "api" | "web" = "api") => podSpec(s, tier).containers[0];

policyCases(workloadMinReplicas, [
    { title: "replicas 1 with an HPA minReplicas 3 passes (the HPA decides)", mutate: (s) => { s.tiers.api.deployment.spec.replicas = 1; }, expected: [] },
    {
        title: "HPA minReplicas 2 where 3 are required",
        mutate: (s) => { s.tiers.api.hpa.spec.minReplicas = 2; },
        config: { properties: { minReplicas: 3 } },
        expected: ["api-deployment: Deployment shop-api runs as few as 2 pod(s) (HPA api-hpa minReplicas 2); at least 3"],
    },
    {
        title: "no HPA and replicas 1",
        mutate: (s) => { delete s.tiers.api.hpa; s.tiers.api.deployment.spec.replicas = 1; },
        expected: ["api-deployment: Deployment shop-api runs as few as 1 pod(s) (spec.replicas 1)"],
    },
    {
        title: "no HPA and replicas unset (defaults to 1)",
        mutate: (s) => { delete s.tiers.web.hpa; delete s.tiers.web.deployment.spec.replicas; },
        expected: ["web-deployment: Deployment shop-web runs as few as 1 pod(s) (spec.replicas unset (defaults to 1))"],
    },
    {
        title: "an HPA in another namespace does not count",
        mutate: (s) => { s.tiers.api.hpa.metadata = { ...s.tiers.api.hpa.metadata, namespace: "other" }; s.tiers.api.deployment.spec.replicas = 1; },
        expected: ["api-deployment: Deployment shop-api runs as few as 1 pod(s) (spec.replicas 1)"],
    },
    {
        title: "replicas unknown during preview (no HPA)",
        mutate: (s) => { delete s.tiers.api.hpa; s.tiers.api.deployment.spec.replicas = UNKNOWN; },
        expected: ["api-deployment: Deployment api-deployment: spec.replicas is unknown during preview; cannot verify"],
    },
]);

test("workload-min-replicas: a single-replica StatefulSet fails", async () => {
    const spec = defaultSpec();
    const statefulSet = {
        type: TYPES.statefulSet, name: "db",
        inputs: { metadata: { name: "db", namespace: "shop" }, spec: { replicas: 1, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [] } } } },
    };
    expect(await violationsOf(workloadMinReplicas, [...specResources(spec), statefulSet])).toEqual([
        expect.stringContaining("db: StatefulSet db runs as few as 1 pod(s)"),
    ]);
});

policyCases(workloadHostnameAntiAffinity, [
    {
        title: "required anti-affinity passes",
        mutate: (s) => {
            const anti = podSpec(s).affinity.podAntiAffinity;
            anti.requiredDuringSchedulingIgnoredDuringExecution = [anti.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm];
            delete anti.preferredDuringSchedulingIgnoredDuringExecution;
        },
        expected: [],
    },
    {
        title: "a matchExpressions selector that selects the pods passes",
        mutate: (s) => {
            podSpec(s).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector = {
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api", "worker"] }],
            };
        },
        expected: [],
    },
    { title: "no affinity at all", mutate: (s) => { delete podSpec(s).affinity; }, expected: ["api-deployment: has no pod anti-affinity on kubernetes.io/hostname"] },
    {
        title: "anti-affinity on zones only",
        mutate: (s) => { podSpec(s).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey = "topology.kubernetes.io/zone"; },
        expected: ["api-deployment: has no pod anti-affinity on kubernetes.io/hostname"],
    },
    {
        title: "a labelSelector with a label the pods lack",
        mutate: (s) => {
            const term = podSpec(s).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
            term.labelSelector = { matchLabels: { ...term.labelSelector.matchLabels, tier: "api" } };
        },
        expected: [/api-deployment: its kubernetes.io\/hostname anti-affinity term\(s\) \(labelSelector .*tier=api\) do not select the pods' own labels/],
    },
    {
        title: "a term that only counts pods of another namespace",
        mutate: (s) => { podSpec(s).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.namespaces = ["other"]; },
        expected: ["api-deployment: its kubernetes.io/hostname anti-affinity term(s)"],
    },
]);

policyCases(workloadZoneSpread, [
    { title: "no constraint", mutate: (s) => { delete podSpec(s).topologySpreadConstraints; }, expected: ["api-deployment: has no topologySpreadConstraint on topology.kubernetes.io/zone:"] },
    {
        title: "only the deprecated zone key",
        mutate: (s) => { podSpec(s).topologySpreadConstraints[0].topologyKey = "failure-domain.beta.kubernetes.io/zone"; },
        expected: ["(failure-domain.beta.kubernetes.io/zone is deprecated"],
    },
    {
        title: "spread over hostnames only",
        mutate: (s) => { podSpec(s).topologySpreadConstraints[0].topologyKey = "kubernetes.io/hostname"; },
        expected: ["api-deployment: has no topologySpreadConstraint on topology.kubernetes.io/zone"],
    },
    {
        title: "a labelSelector that selects nothing (label the pods lack)",
        mutate: (s) => { podSpec(s).topologySpreadConstraints[0].labelSelector.matchLabels = { app: "other" }; },
        expected: ["api-deployment: its topology.kubernetes.io/zone spread constraint's labelSelector (app=other) does not select"],
    },
    {
        title: "no labelSelector (counts no pods)",
        mutate: (s) => { delete podSpec(s).topologySpreadConstraints[0].labelSelector; },
        expected: ["labelSelector (<none: selects nothing>) does not select"],
    },
    { title: "maxSkew 2", mutate: (s) => { podSpec(s, "web").topologySpreadConstraints[0].maxSkew = 2; }, expected: ["web-deployment: its topology.kubernetes.io/zone spread constraint has maxSkew 2; at most 1"] },
    { title: "maxSkew 2 where the config allows 2", mutate: (s) => { podSpec(s).topologySpreadConstraints[0].maxSkew = 2; }, config: { properties: { maxSkew: 2 } }, expected: [] },
]);

policyCases(workloadProbes, [
    { title: "no readinessProbe", mutate: (s) => { delete container(s).readinessProbe; }, expected: ["api-deployment: containers[0] (api) has no readinessProbe."] },
    { title: "no probes at all", mutate: (s) => { delete container(s).readinessProbe; delete container(s).livenessProbe; }, expected: ["has no livenessProbe and no readinessProbe."] },
    {
        title: "the same endpoint with different timings",
        mutate: (s) => { container(s).readinessProbe = { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 2, failureThreshold: 1 }; },
        expected: ["api-deployment: containers[0] (api) has identical liveness and readiness checks (both httpGet /healthz on port 8080): readiness failing would also restart the container."],
    },
    {
        title: "the same endpoint once by port name, once by number",
        mutate: (s) => { container(s).readinessProbe = { httpGet: { path: "/healthz", port: 8080 } }; },
        expected: ["identical liveness and readiness checks"],
    },
    {
        title: "the same exec command, said in words",
        mutate: (s) => { container(s).livenessProbe = { exec: { command: ["cat", "/tmp/ready"] } }; container(s).readinessProbe = { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 3 }; },
        expected: ["api-deployment: containers[0] (api) has identical liveness and readiness checks (both exec \"cat /tmp/ready\"): readiness failing would also restart the container."],
    },
    { title: "tcpSocket liveness with httpGet readiness passes", mutate: (s) => { container(s).livenessProbe = { tcpSocket: { port: 8080 } }; }, expected: [] },
    { title: "a probe without a check", mutate: (s) => { container(s).livenessProbe = { periodSeconds: 10 }; }, expected: ["has a livenessProbe without a check"] },
    { title: "init containers need no probes", mutate: (s) => { podSpec(s).initContainers = [{ name: "migrate", image: "x:1" }]; }, expected: [] },
]);

policyCases(workloadResources, [
    { title: "no limits", mutate: (s) => { delete container(s, "web").resources.limits; }, expected: ["web-deployment: containers[0] (web) has no resources.limits.cpu, resources.limits.memory."] },
    { title: "no memory request", mutate: (s) => { delete container(s).resources.requests.memory; }, expected: ["containers[0] (api) has no resources.requests.memory."] },
    {
        title: "an init container without resources",
        mutate: (s) => { podSpec(s).initContainers = [{ name: "migrate", image: "x:1" }]; },
        expected: ["api-deployment: initContainers[0] (migrate) has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory."],
    },
    { title: "no cpu limit where only memory is required", mutate: (s) => { delete container(s).resources.limits.cpu; }, config: { properties: { resources: ["memory"] } }, expected: [] },
]);

policyCases(workloadSecurityContext, [
    { title: "runAsNonRoot neither on the pod nor the container", mutate: (s) => { delete podSpec(s).securityContext.runAsNonRoot; }, expected: ["api-deployment: containers[0] (api): runAsNonRoot is not true (container or pod)."] },
    { title: "the container overrides runAsNonRoot to false", mutate: (s) => { container(s).securityContext.runAsNonRoot = false; }, expected: ["runAsNonRoot is not true"] },
    { title: "runAsUser 0", mutate: (s) => { container(s).securityContext.runAsUser = 0; }, expected: ["containers[0] (api): runAsUser is 0 (root)."] },
    { title: "allowPrivilegeEscalation unset", mutate: (s) => { delete container(s).securityContext.allowPrivilegeEscalation; }, expected: ["allowPrivilegeEscalation is not false"] },
    { title: "privileged", mutate: (s) => { container(s).securityContext.privileged = true; }, expected: ["containers[0] (api): privileged: true."] },
    { title: "capabilities not dropped", mutate: (s) => { container(s).securityContext.capabilities = {}; }, expected: ["capabilities.drop does not include \"ALL\""] },
    { title: "NET_ADMIN added", mutate: (s) => { container(s).securityContext.capabilities.add = ["NET_ADMIN"]; }, expected: ["capabilities.add has NET_ADMIN (allowed: NET_BIND_SERVICE)"] },
    { title: "NET_BIND_SERVICE added passes", mutate: (s) => { container(s).securityContext.capabilities.add = ["NET_BIND_SERVICE"]; }, expected: [] },
    { title: "seccomp Unconfined on the container", mutate: (s) => { container(s).securityContext.seccompProfile = { type: "Unconfined" }; }, expected: ["seccompProfile.type is Unconfined"] },
    {
        title: "seccomp only on the container passes",
        mutate: (s) => { delete podSpec(s).securityContext.seccompProfile; container(s).securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" }; },
        expected: [],
    },
    { title: "no seccomp profile anywhere", mutate: (s) => { delete podSpec(s).securityContext.seccompProfile; }, expected: ["seccompProfile.type is unset"] },
    { title: "hostNetwork", mutate: (s) => { podSpec(s).hostNetwork = true; }, expected: ["api-deployment: the pod sets hostNetwork: true"] },
    { title: "hostPID", mutate: (s) => { podSpec(s).hostPID = true; }, expected: ["the pod sets hostPID: true"] },
    { title: "a hostPath volume", mutate: (s) => { podSpec(s).volumes = [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }]; }, expected: ["mounts hostPath volume \"docker\" (/var/run/docker.sock)"] },
    {
        title: "an init container without a security context",
        mutate: (s) => { podSpec(s).initContainers = [{ name: "migrate", image: "x:1" }]; },
        expected: ["initContainers[0] (migrate): allowPrivilegeEscalation is not false; capabilities.drop does not include \"ALL\"."],
    },
]);

policyCases(workloadImmutableImage, [
    { title: ":latest", mutate: (s) => { container(s).image = "ghcr.io/example/shop-api:latest"; }, expected: ["api-deployment: containers[0] (api) image \"ghcr.io/example/shop-api:latest\" uses the floating tag :latest"] },
    { title: "untagged", mutate: (s) => { container(s).image = "ghcr.io/example/shop-api"; }, expected: ["has no tag (it means :latest)"] },
    { title: "untagged behind a registry port", mutate: (s) => { container(s).image = "registry.local:5000/shop-api"; }, expected: ["has no tag"] },
    { title: "a version tag behind a registry port passes", mutate: (s) => { container(s).image = "registry.local:5000/shop-api:1.2.3"; }, expected: [] },
    { title: "a floating tag in capitals", mutate: (s) => { container(s).image = "shop-api:Stable"; }, expected: ["uses the floating tag :Stable"] },
    { title: ":canary (a tag the program's config refuses too)", mutate: (s) => { container(s).image = "ghcr.io/example/shop-api:canary"; }, expected: ["uses the floating tag :canary"] },
    { title: "an init container on :main", mutate: (s) => { podSpec(s).initContainers = [{ name: "migrate", image: "migrate:main" }]; }, expected: ["initContainers[0] (migrate) image \"migrate:main\""] },
    { title: "a tag where digests are required", mutate: (s) => { container(s).image = "ghcr.io/example/shop-api:v1.4.2"; }, config: { properties: { requireDigest: true } }, expected: ["api-deployment: containers[0] (api) image \"ghcr.io/example/shop-api:v1.4.2\" is pinned by tag only"] },
    { title: "no image", mutate: (s) => { delete container(s).image; }, expected: ["containers[0] (api) has no image."] },
]);

test("an image reference splits into repository, tag and digest; a registry port is not a tag", () => {
    const digest = `sha256:${"0".repeat(64)}`;
    expect(parseImageReference("nginx")).toEqual({ repository: "nginx", tag: "", digest: undefined });
    expect(parseImageReference("nginx:1.27")).toEqual({ repository: "nginx", tag: "1.27", digest: undefined });
    expect(parseImageReference("localhost:5000/a/b")).toEqual({ repository: "localhost:5000/a/b", tag: "", digest: undefined });
    expect(parseImageReference("localhost:5000/a/b:v2")).toEqual({ repository: "localhost:5000/a/b", tag: "v2", digest: undefined });
    expect(parseImageReference(`a/b@${digest}`)).toEqual({ repository: "a/b", tag: "", digest });
    expect(parseImageReference(`a/b:v1@${digest}`)).toEqual({ repository: "a/b", tag: "v1", digest });
});
