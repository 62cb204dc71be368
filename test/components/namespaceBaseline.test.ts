// NamespaceBaseline alone: Pod Security, a quota with room for every workload, default-deny
// network policies with exactly the flows KubePolaris needs.
import { NamespaceBaseline, NamespaceBaselineArgs } from "../../components/namespaceBaseline";
import { recordRegistrations, Registered, TYPES } from "../support/components";

const recorder = recordRegistrations();

const SMALL = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
const LARGE = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } };
const BACKEND = { labels: { app: "kp", component: "backend" }, port: 8080 };
const FRONTEND = { labels: { app: "kp", component: "frontend" }, port: 8081 };
const MYSQL = { app: "kp", component: "mysql" };

function args(overrides: Partial<NamespaceBaselineArgs> = {}): NamespaceBaselineArgs {
    return {
        namespace: "kp",
        labels: { team: "ops" },
        workloads: [{ name: "backend", maxPods: 5, resources: SMALL }],
        backend: BACKEND,
        frontend: FRONTEND,
        ingressController: { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } },
        policyEnforcer: "calico",
        database: { kind: "pods", labels: MYSQL, port: 3306 },
        apiServerEgress: { cidrs: ["10.0.0.0/8"], ports: [443, 6443] },
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<NamespaceBaselineArgs> = {}) {
    const baseline = new NamespaceBaseline(name, args(overrides));
    await recorder.settle(baseline.namespaceName, baseline.priorityClassName);
    const policies = new Map(recorder.ofType(TYPES.networkPolicy, `${name}-`).map((r: Registered) => [r.inputs.metadata.name, r.inputs.spec]));
    return { baseline, policies };
}

test("the namespace enforces Pod Security restricted", async () => {
    await build("pss");
    const labels = recorder.one(TYPES.namespace, "pss-namespace").inputs.metadata.labels;
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(labels.team).toBe("ops");
});

test("the quota has room for every workload at its most pods, each pod at the largest size it may roll from", async () => {
    const { baseline } = await build("quota", {
        workloads: [
            { name: "backend", maxPods: 3, resources: SMALL, rolloutFrom: [LARGE] },
            { name: "job", maxPods: 1, resources: SMALL },
        ],
    });
    // 3 pods at the large size (a size change down still runs them) plus one small pod.
    expect(baseline.quotaHard).toEqual({
        "requests.cpu": "3100m",
        "requests.memory": "3200Mi",
        "limits.cpu": "12500m",
        "limits.memory": "12544Mi",
        pods: "4",
    });
    expect(recorder.one(TYPES.resourceQuota, "quota-quota").inputs.spec.hard).toEqual(baseline.quotaHard);
});

test("a container without resources gets defaults, and none may exceed the largest workload's limits", async () => {
    await build("limits", { workloads: [{ name: "a", maxPods: 1, resources: SMALL }, { name: "b", maxPods: 1, resources: LARGE }] });
    const [limit] = recorder.one(TYPES.limitRange, "limits-limits").inputs.spec.limits;
    expect(limit.max).toEqual({ cpu: "4", memory: "4Gi" });
    expect(limit.defaultRequest.cpu).toBeDefined();
});

test("after a size change down the LimitRange still admits the pods of the size a workload rolls from (as the quota counts them)", async () => {
    await build("limits-down", { workloads: [{ name: "backend", maxPods: 3, resources: SMALL, rolloutFrom: [LARGE] }] });
    const [limit] = recorder.one(TYPES.limitRange, "limits-down-limits").inputs.spec.limits;
    expect(limit.max).toEqual({ cpu: "4", memory: "4Gi" });
});

test("the namespace is called isolated only when the stack names what enforces NetworkPolicies", async () => {
    expect((await build("enforced")).baseline.networkIsolation).toBe("isolated by default-deny NetworkPolicies, enforced by calico (network.policyEnforcer)");
    const open = (await build("not-enforced", { policyEnforcer: "none" })).baseline.networkIsolation;
    expect(open).toMatch(/^NOT isolated: .*nothing in the cluster enforces them/);
});

test("nothing opens the backend to the monitoring namespace: it serves no /metrics", async () => {
    const { policies } = await build("no-scrape");
    expect(policies.has("allow-prometheus-to-backend")).toBe(false);
    const ingressToBackend = [...policies.values()].filter((p) => p.policyTypes.includes("Ingress") && JSON.stringify(p.podSelector.matchLabels) === JSON.stringify(BACKEND.labels));
    for (const p of ingressToBackend) {
        expect(JSON.stringify(p.ingress)).not.toContain("monitoring");
    }
});

test("everything is denied by default; DNS is allowed out of every pod", async () => {
    const { policies } = await build("deny");
    expect(policies.get("default-deny-all")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const dns = policies.get("allow-dns-egress");
    expect(dns.podSelector).toEqual({});
    expect(dns.egress[0].ports).toEqual(expect.arrayContaining([{ protocol: "UDP", port: 53 }]));
});

test("the ingress controller reaches each component on its own port, and only that", async () => {
    const { policies } = await build("ingress");
    for (const [component, peer] of [["frontend", FRONTEND], ["backend", BACKEND]] as const) {
        const policy = policies.get(`allow-ingress-controller-to-${component}`);
        expect(policy.podSelector.matchLabels).toEqual(peer.labels);
        expect(policy.ingress[0].ports).toEqual([{ protocol: "TCP", port: peer.port }]);
        expect(policy.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "ingress-nginx" });
    }
});

test("an in-cluster database: the backend may reach the MySQL pods, and they accept only the backend", async () => {
    const { policies } = await build("db-pods");
    const out = policies.get("allow-backend-to-database");
    expect(out.podSelector.matchLabels).toEqual(BACKEND.labels);
    expect(out.egress[0]).toEqual({ to: [{ podSelector: { matchLabels: MYSQL } }], ports: [{ protocol: "TCP", port: 3306 }] });
    const into = policies.get("allow-database-from-backend");
    expect(into.podSelector.matchLabels).toEqual(MYSQL);
    expect(into.ingress[0].from).toEqual([{ podSelector: { matchLabels: BACKEND.labels } }]);
});

test("an RDS database: the backend may reach its subnets' address blocks on its port, and there are no MySQL pods to admit", async () => {
    const { policies } = await build("db-cidrs", { database: { kind: "cidrs", cidrs: ["10.1.1.0/24", "10.1.2.0/24"], port: 3307 } });
    expect(policies.get("allow-backend-to-database").egress[0]).toEqual({
        to: [{ ipBlock: { cidr: "10.1.1.0/24" } }, { ipBlock: { cidr: "10.1.2.0/24" } }],
        ports: [{ protocol: "TCP", port: 3307 }],
    });
    expect(policies.has("allow-database-from-backend")).toBe(false);
});

test("a backend client gets a way out to the backend and the backend a way in from it, nothing more", async () => {
    const client = { name: "admin-password", labels: { component: "admin-password" } };
    const { policies } = await build("clients", { backendClients: [client] });
    expect(policies.get("allow-admin-password-to-backend").egress[0].to).toEqual([{ podSelector: { matchLabels: BACKEND.labels } }]);
    expect(policies.get("allow-backend-from-admin-password").ingress[0].from).toEqual([{ podSelector: { matchLabels: client.labels } }]);
    const none = (await build("no-clients")).policies;
    expect([...none.keys()].filter((name) => name.includes("admin-password"))).toEqual([]);
});

test("the backend may call managed clusters' API servers on the given blocks and ports", async () => {
    const { policies } = await build("api");
    expect(policies.get("allow-backend-to-api-servers").egress[0]).toEqual({
        to: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
        ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }],
    });
});

test("a PriorityClass is created only when asked for, and its name is handed on", async () => {
    const { baseline } = await build("priority", { priorityClass: { name: "kp-critical", value: 100000 } });
    expect(recorder.one(TYPES.priorityClass, "priority-priority").inputs).toMatchObject({ value: 100000, globalDefault: false });
    expect(baseline.priorityClassName).toBeDefined();
    const without = await build("no-priority");
    expect(without.baseline.priorityClassName).toBeUndefined();
    expect(recorder.ofType(TYPES.priorityClass, "no-priority-")).toEqual([]);
});
