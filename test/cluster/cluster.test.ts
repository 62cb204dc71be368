// The local control plane (scripts/cluster/cluster.sh) as an operator uses it: `up` gives a cluster
// with 6 Ready nodes in 3 zones that spreads pods over zones, enforces Pod Security, binds claims
// and deletes namespaces; a second `up` reuses it; `down` leaves no process, port or file. And the
// program's disruption budget and namespace limits, judged by the real disruption controller,
// eviction API and admission plugins.
// Skipped, not failed, when the binaries are not installed (scripts/cluster/ensure.sh), unless
// KUBEPOLARIS_REQUIRE_CLUSTER=1. The cluster is the test's own (its own state dir and ports), so a
// cluster the developer runs is left alone.
import * as fs from "fs";
import * as path from "path";
import { pdbBudget } from "../../components/haWorkload";
import { maxPodsDuringRollout } from "../../components/rollout";
import { limitRangeFor, quotaFor } from "../../components/namespaceBaseline";
import { TIER_PROFILES } from "../../config";
import {
    clusterBinDir, clusterScript, freePortBase, kubectl, kubectlJson, kubectlOk, listening, processesUsing, startCluster, stopCluster, testCluster, waitFor,
} from "./cluster";

const BIN = clusterBinDir();
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1";
const describeCluster = BIN || REQUIRED ? describe : describe.skip;
const suite = BIN
    ? `local control plane (${BIN})`
    : "local control plane (skipped: binaries not installed; run scripts/cluster/ensure.sh)";

const PORT_BASE = freePortBase();
const PORTS = [3, 4, 5, 6, 7, 8].map((n) => PORT_BASE + n);
const START_DELAY_MS = 3000;
const NS = "cluster-test";

const restrictedContainer = {
    name: "app",
    image: "registry.k8s.io/pause:3.10",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    securityContext: {
        allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000,
        capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    },
};

function readyCondition(pod: any): any {
    return (pod.status?.conditions ?? []).find((c: any) => c.type === "Ready");
}

describeCluster(suite, () => {
    const c = testCluster({
        prefix: "kubepolaris-cluster-test-", kind: "kwok", portBase: PORT_BASE, bin: BIN,
        env: () => ({ KUBEPOLARIS_POD_START_DELAY: `${START_DELAY_MS}ms` }),
    });
    let upSeconds = 0;

    beforeAll(() => {
        if (!BIN) {
            throw new Error("KUBEPOLARIS_REQUIRE_CLUSTER=1 but the binaries are not installed: run scripts/cluster/ensure.sh");
        }
        upSeconds = startCluster(c);
    }, 240_000);

    afterAll(() => stopCluster(c), 120_000);

    test("starts in well under a minute and prints its kubeconfig, outside the repo", () => {
        expect(upSeconds).toBeLessThan(60);
        expect(c.kubeconfig).toBe(path.join(c.stateDir, "kubeconfig"));
        expect(fs.existsSync(c.kubeconfig!)).toBe(true);
    });

    test("a second up while it runs reuses it", () => {
        const t0 = Date.now();
        const r = clusterScript(c, "up");
        expect(r.status).toBe(0);
        expect(r.stderr).toMatch(/reusing/);
        expect(r.stdout.trim().split("\n").pop()).toBe(c.kubeconfig);
        expect(Date.now() - t0).toBeLessThan(10_000);
        const k = clusterScript(c, "kubeconfig");
        expect(k.stdout.trim().split("\n").pop()).toBe(c.kubeconfig);
    });

    test("6 Ready nodes in 3 zones, each with 4 CPUs, 16 Gi and 110 pods", () => {
        const nodes = kubectlJson(c, ["get", "nodes"]).items;
        expect(nodes.length).toBeGreaterThanOrEqual(6);
        const zones = new Set(nodes.map((n: any) => n.metadata.labels["topology.kubernetes.io/zone"]));
        expect(zones.size).toBe(3);
        for (const n of nodes) {
            expect(n.metadata.labels["kubernetes.io/hostname"]).toBe(n.metadata.name);
            expect(readyCondition(n)?.status).toBe("True");
            expect(n.status.capacity).toMatchObject({ cpu: "4", memory: "16Gi", pods: "110" });
        }
    });

    test("what the program expects is there: Prometheus Operator CRDs, the nginx IngressClass, the ingress-nginx namespace, a default StorageClass", () => {
        const crds = kubectlJson(c, ["get", "crd"]).items.map((d: any) => d.metadata.name);
        expect(crds).toEqual(expect.arrayContaining(["prometheusrules.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com"]));
        expect(kubectlJson(c, ["get", "ingressclass", "nginx"]).spec.controller).toBe("k8s.io/ingress-nginx");
        kubectlOk(c, ["get", "namespace", "ingress-nginx"]);
        const classes = kubectlJson(c, ["get", "storageclass"]).items;
        expect(classes.filter((s: any) => s.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true")).toHaveLength(1);
    });

    test("a Deployment spread over zones gets Ready pods in at least 2 zones, never sooner than the start-up delay", async () => {
        kubectlOk(c, ["create", "namespace", NS]);
        const labels = { app: "spread" };
        const deployment = {
            apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "spread", namespace: NS },
            spec: {
                replicas: 6,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        topologySpreadConstraints: [{
                            maxSkew: 1, topologyKey: "topology.kubernetes.io/zone",
                            whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels },
                        }],
                        containers: [restrictedContainer],
                    },
                },
            },
        };
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(deployment));
        kubectlOk(c, ["rollout", "status", "deployment/spread", "-n", NS, "--timeout=90s"]);
        const pods = kubectlJson(c, ["get", "pods", "-n", NS, "-l", "app=spread"]).items;
        const nodeZone = new Map<string, string>(kubectlJson(c, ["get", "nodes"]).items
            .map((n: any) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]));
        const zones = new Set(pods.map((p: any) => nodeZone.get(p.spec.nodeName)));
        expect(pods).toHaveLength(6);
        expect(zones.size).toBeGreaterThanOrEqual(2);
        for (const p of pods) {
            expect(p.status.phase).toBe("Running");
            const ready = readyCondition(p);
            expect(ready?.status).toBe("True");
            const readyAfterMs = Date.parse(ready.lastTransitionTime) - Date.parse(p.status.startTime);
            // RFC 3339 timestamps have whole seconds.
            expect(readyAfterMs).toBeGreaterThanOrEqual(START_DELAY_MS - 1000);
        }
    }, 120_000);

    // The program's PDB (pdbBudget) at prod's backend HPA maximum, judged by the real disruption
    // controller and eviction API: every node cordoned (a node-group upgrade), then one eviction
    // request per pod. Evicted pods' replacements stay Pending on cordoned nodes, so the count of
    // evictions granted is exactly what the budget lets one disruption take.
    test("a drain of every node at prod's backend HPA maximum (20 pods, HPA minimum 5) evicts only the budget's share: 4 pods, not 16", async () => {
        const ns = "budget-test";
        const [minReplicas, maxReplicas] = [5, 20];
        const budget = pdbBudget(minReplicas)!;
        const labels = { app: "budget" };
        kubectlOk(c, ["create", "namespace", ns]);
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({
            apiVersion: "v1", kind: "List", items: [
                {
                    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "budget", namespace: ns },
                    spec: { replicas: maxReplicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [restrictedContainer] } } },
                },
                {
                    apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "budget", namespace: ns },
                    spec: { maxUnavailable: budget.maxUnavailable, selector: { matchLabels: labels }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
                },
            ],
        }));
        kubectlOk(c, ["rollout", "status", "deployment/budget", "-n", ns, "--timeout=120s"]);
        const status = await waitFor("the PDB's status at 20 ready pods", 60_000, () => {
            const pdb = kubectlJson(c, ["get", "pdb", "budget", "-n", ns]);
            return pdb.status?.currentHealthy === maxReplicas && pdb.status?.observedGeneration === pdb.metadata.generation ? pdb.status : undefined;
        });
        expect(status.desiredHealthy).toBe(budget.floorAt(maxReplicas));
        const nodes: string[] = kubectlJson(c, ["get", "nodes"]).items.map((n: any) => n.metadata.name);
        try {
            for (const node of nodes) {
                kubectlOk(c, ["cordon", node]);
            }
            const pods: string[] = kubectlJson(c, ["get", "pods", "-n", ns, "-l", "app=budget"]).items.map((p: any) => p.metadata.name);
            expect(pods).toHaveLength(maxReplicas);
            const outcomes = pods.map((name) => kubectl(c, ["create", "--raw", `/api/v1/namespaces/${ns}/pods/${name}/eviction`, "-f", "-"],
                JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: ns } })));
            const evicted = outcomes.filter((r) => r.status === 0).length;
            const refused = outcomes.filter((r) => /disruption budget/.test(r.stderr)).length;
            expect({ evicted, refused }).toEqual({ evicted: maxReplicas - budget.floorAt(maxReplicas), refused: budget.floorAt(maxReplicas) });
            expect(evicted).toBe(4);
            expect(evicted).toBeLessThanOrEqual(Math.ceil(maxReplicas / 4));
        } finally {
            for (const node of nodes) {
                kubectl(c, ["uncordon", node]);
            }
            kubectlOk(c, ["delete", "namespace", ns, "--wait=false"]);
        }
    }, 240_000);

    test("a namespace enforcing restricted Pod Security rejects a privileged pod", () => {
        kubectlOk(c, ["label", "namespace", NS, "pod-security.kubernetes.io/enforce=restricted"]);
        const pod = {
            apiVersion: "v1", kind: "Pod", metadata: { name: "privileged", namespace: NS },
            spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", securityContext: { privileged: true } }] },
        };
        const r = kubectl(c, ["create", "-f", "-"], JSON.stringify(pod));
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    });

    test("a LimitRange fills in missing requests and a ResourceQuota refuses the pod over it", async () => {
        const ns = "quota-test";
        kubectlOk(c, ["create", "namespace", ns]);
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({
            apiVersion: "v1", kind: "List", items: [
                {
                    apiVersion: "v1", kind: "LimitRange", metadata: { name: "defaults", namespace: ns },
                    spec: { limits: [{ type: "Container", defaultRequest: { cpu: "50m", memory: "32Mi" }, default: { cpu: "100m", memory: "64Mi" } }] },
                },
                { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "pods", namespace: ns }, spec: { hard: { pods: "1" } } },
            ],
        }));
        // Quota admission needs the controller-manager to have computed the quota's usage first.
        await waitFor("the quota's usage", 30_000, () => kubectlJson(c, ["get", "resourcequota", "pods", "-n", ns]).status?.used ? true : undefined);
        const pod = (name: string) => JSON.stringify({
            apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns },
            spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
        });
        kubectlOk(c, ["create", "-f", "-"], pod("first"));
        const first = kubectlJson(c, ["get", "pod", "first", "-n", ns]);
        expect(first.spec.containers[0].resources).toEqual({ requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } });
        const second = kubectl(c, ["create", "-f", "-"], pod("second"));
        expect(second.status).not.toBe(0);
        expect(second.stderr).toMatch(/exceeded quota/);
        kubectlOk(c, ["delete", "namespace", ns, "--wait=false"]);
    }, 60_000);

    // The program's namespace baseline after a tier change down (medium → small), on the real
    // LimitRanger and quota admission: the medium-sized pods a rollout recreates (a ReplicaSet
    // replacing one, `kubectl rollout undo`) must still be admitted, as the quota plans for them.
    test("after a tier change down, the LimitRange and quota still admit a pod of the previous tier's size (and capped at the new tier only, the API server refuses it)", async () => {
        const [small, medium] = [TIER_PROFILES.small.backend, TIER_PROFILES.medium.backend];
        const workload = { name: "backend", maxPods: maxPodsDuringRollout(small.maxReplicas), resources: small.resources, rolloutFrom: [medium.resources] };
        const mediumPod = (ns: string) => JSON.stringify({
            apiVersion: "v1", kind: "Pod", metadata: { name: "medium-backend", namespace: ns },
            spec: { containers: [{ ...restrictedContainer, resources: medium.resources }] },
        });
        const setUp = (ns: string, limitRange: unknown) => {
            kubectlOk(c, ["create", "namespace", ns]);
            kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({
                apiVersion: "v1", kind: "List", items: [
                    { apiVersion: "v1", kind: "LimitRange", metadata: { name: "kubepolaris-limits", namespace: ns }, spec: { limits: [limitRange] } },
                    { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "kubepolaris-quota", namespace: ns }, spec: { hard: quotaFor([workload]) } },
                ],
            }));
        };
        setUp("tier-down", limitRangeFor([workload]));
        // What main made: the LimitRange capped at the current (small) tier's limits.
        setUp("tier-down-capped", limitRangeFor([{ ...workload, rolloutFrom: undefined }]));
        for (const ns of ["tier-down", "tier-down-capped"]) {
            await waitFor(`${ns}: the quota's usage`, 30_000, () => kubectlJson(c, ["get", "resourcequota", "kubepolaris-quota", "-n", ns]).status?.used ? true : undefined);
        }
        expect(kubectl(c, ["create", "-f", "-"], mediumPod("tier-down")).status).toBe(0);
        const refused = kubectl(c, ["create", "-f", "-"], mediumPod("tier-down-capped"));
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toMatch(/maximum (cpu|memory) usage per Container is/);
        for (const ns of ["tier-down", "tier-down-capped"]) {
            kubectlOk(c, ["delete", "namespace", ns, "--wait=false"]);
        }
    }, 90_000);

    test("a claim with no storage class binds a pre-made volume when its pod is scheduled", async () => {
        const claim = {
            apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: NS },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
        };
        const pod = {
            apiVersion: "v1", kind: "Pod", metadata: { name: "uses-data", namespace: NS },
            spec: {
                containers: [{ ...restrictedContainer, volumeMounts: [{ name: "data", mountPath: "/data" }] }],
                volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
            },
        };
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [claim, pod] }));
        const phase = await waitFor("the claim to bind", 60_000, () => {
            const p = kubectlJson(c, ["get", "pvc", "data", "-n", NS]).status?.phase;
            return p === "Bound" ? p : undefined;
        });
        expect(phase).toBe("Bound");
    }, 90_000);

    test("deleting a namespace finishes (namespace controller and garbage collector at work)", async () => {
        kubectlOk(c, ["delete", "namespace", NS, "--wait=false"]);
        await waitFor(`namespace ${NS} to be gone`, 90_000, () =>
            kubectl(c, ["get", "namespace", NS]).status !== 0 ? true : undefined);
    }, 120_000);

    test("down stops every process and leaves no listening port or state file", () => {
        const t0 = Date.now();
        const r = clusterScript(c, "down");
        expect(r.status).toBe(0);
        expect(Date.now() - t0).toBeLessThan(30_000);
        expect(processesUsing(c.stateDir)).toEqual([]);
        expect(listening(PORTS)).toEqual([]);
        expect(fs.existsSync(c.stateDir)).toBe(false);
        expect(clusterScript(c, "kubeconfig").status).not.toBe(0);
    }, 60_000);
});
