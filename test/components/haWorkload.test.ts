// HaWorkload alone: what keeps one stateless component up through drains, rollouts and zone loss.
import { HaWorkload, HaWorkloadArgs, NODE_LOSS_TOLERATION_SECONDS, pdbBudget } from "../../components/haWorkload";
import { memoryBytes } from "../../components/quantity";
import { disruptionBudget } from "../../policy/rules/k8s";
import { selects } from "../../policy/rules/selectors";
import { recordRegistrations, TYPES } from "../support/components";

const recorder = recordRegistrations();

function args(overrides: Partial<HaWorkloadArgs> = {}): HaWorkloadArgs {
    return {
        release: "rel",
        component: "backend",
        namespace: "ns",
        labels: { team: "ops" },
        image: "repo/backend:v1.0.0",
        containerPort: 8080,
        servicePort: 8080,
        minReplicas: 3,
        maxReplicas: 6,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        antiAffinity: "preferred",
        targetCpuUtilization: 70,
        targetMemoryUtilization: 80,
        livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
        readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
        writablePaths: ["/tmp", "/app/data"],
        runAs: { uid: 1000, gid: 1000 },
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<HaWorkloadArgs> = {}) {
    const workload = new HaWorkload(name, args(overrides));
    await recorder.settle(workload.deploymentName, workload.serviceName, workload.hpaName, workload.serviceAccountName, workload.pdbName);
    return {
        workload,
        deployment: recorder.one(TYPES.deployment, `${name}-deployment`).inputs,
        service: recorder.one(TYPES.service, `${name}-service`).inputs,
        hpa: recorder.one(TYPES.hpa, `${name}-hpa`).inputs,
        pdbs: recorder.ofType(TYPES.pdb, `${name}-`).map((r) => r.inputs),
    };
}

test("below 2 replicas no PDB is created: a budget there could only block every node drain", async () => {
    const { workload, pdbs, hpa } = await build("single", { minReplicas: 1, maxReplicas: 3 });
    expect(pdbs).toEqual([]);
    expect(workload.pdbName).toBeUndefined();
    expect(hpa.spec.minReplicas).toBe(1);
});

test.each([[2, 4], [3, 10], [5, 20]])("HPA %i–%i: one PDB selects the pods, lets exactly one go at the minimum and at most a quarter (rounded up) at every count up to the maximum", async (min, max) => {
    const { deployment, pdbs } = await build(`pdb-${min}-${max}`, { minReplicas: min, maxReplicas: max });
    expect(pdbs).toHaveLength(1);
    const pdb = pdbs[0];
    const podLabels = deployment.spec.template.metadata.labels;
    expect(selects(pdb.spec.selector, podLabels)).toBe(true);
    // Computed as the disruption controller does (the pack's arithmetic).
    const allowedAt = (replicas: number) => {
        const budget = disruptionBudget(pdb.spec, replicas);
        if ("problem" in budget) {
            throw new Error(budget.problem);
        }
        return budget.allowed;
    };
    expect(allowedAt(min)).toBe(1);
    for (let n = min; n <= max; n++) {
        const allowed = allowedAt(n);
        expect({ replicas: n, bounded: allowed >= 1 && allowed <= Math.max(1, Math.ceil(n / 4)) }).toEqual({ replicas: n, bounded: true });
    }
    // Crash-looping pods must not block a drain.
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
});

test("prod's backend (HPA 5–20): a drain at the maximum may evict 4 pods at once, not 16", async () => {
    const { pdbs } = await build("pdb-prod", { minReplicas: 5, maxReplicas: 20 });
    const atMax = disruptionBudget(pdbs[0].spec, 20);
    expect(atMax).toMatchObject({ desiredHealthy: 16, allowed: 4 });
});

test("pdbBudget is what the PDB keeps: its floor at each count is what the disruption controller computes", async () => {
    const { pdbs } = await build("pdb-floor", { minReplicas: 3, maxReplicas: 10 });
    const plan = pdbBudget(3)!;
    expect(pdbs[0].spec.maxUnavailable).toBe(plan.maxUnavailable);
    for (let n = 3; n <= 10; n++) {
        expect(plan.floorAt(n)).toBe((disruptionBudget(pdbs[0].spec, n) as { desiredHealthy: number }).desiredHealthy);
    }
});

test("the Deployment, Service, anti-affinity and zone spread all select exactly the pods", async () => {
    const { deployment, service } = await build("selectors");
    const pod = deployment.spec.template;
    const podLabels = pod.metadata.labels;
    expect(selects(deployment.spec.selector, podLabels)).toBe(true);
    expect(selects({ matchLabels: service.spec.selector }, podLabels)).toBe(true);
    const term = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(term.topologyKey).toBe("kubernetes.io/hostname");
    expect(selects(term.labelSelector, podLabels)).toBe(true);
    const [spread] = pod.spec.topologySpreadConstraints;
    expect(spread.topologyKey).toBe("topology.kubernetes.io/zone");
    expect(selects(spread.labelSelector, podLabels)).toBe(true);
    // Losing a zone must not leave the replacement pods Pending.
    expect(spread.whenUnsatisfiable).toBe("ScheduleAnyway");
    // The pods carry the caller's labels too, but no selector depends on them.
    expect(podLabels.team).toBe("ops");
    expect(deployment.spec.selector.matchLabels.team).toBeUndefined();
});

test("required anti-affinity is a hard rule on the hostname; preferred is a weighted preference", async () => {
    const required = (await build("required", { antiAffinity: "required" })).deployment.spec.template.spec.affinity.podAntiAffinity;
    expect(required.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(required.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe("kubernetes.io/hostname");
    const preferred = (await build("preferred", { antiAffinity: "preferred" })).deployment.spec.template.spec.affinity.podAntiAffinity;
    expect(preferred.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(preferred.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBeGreaterThan(0);
});

test("the pods of a node that stopped answering are replaced after 30 s of taint, not the default 300 s; nothing else is tolerated", async () => {
    const { deployment } = await build("node-loss");
    expect(NODE_LOSS_TOLERATION_SECONDS).toBeLessThan(300);
    expect(deployment.spec.template.spec.tolerations).toEqual([
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: NODE_LOSS_TOLERATION_SECONDS },
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: NODE_LOSS_TOLERATION_SECONDS },
    ]);
});

test("a rollout never drops below the desired count: it adds a pod before it removes one", async () => {
    const { deployment } = await build("rollout", { minReplicas: 2, maxReplicas: 7 });
    const { maxUnavailable, maxSurge } = deployment.spec.strategy.rollingUpdate;
    expect(maxUnavailable).toBe(0);
    expect(maxSurge).toBeGreaterThanOrEqual(1);
    // That the namespace quota has room for the surge at the HPA maximum is judged on every stack by
    // the pack's quota-fits-scale-out (test/policy/stacks.test.ts, mandatory) and test/edge-and-namespace.test.ts.
});

test("the HPA scales this Deployment between the bounds, on CPU and memory utilization of requests that exist", async () => {
    const { deployment, hpa, workload } = await build("hpa", { minReplicas: 2, maxReplicas: 9, targetCpuUtilization: 65, targetMemoryUtilization: 75 });
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(deployment.metadata.name).toBe("rel-backend");
    expect(workload.selector["app.kubernetes.io/component"]).toBe("backend");
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 9]);
    const targets = Object.fromEntries(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization]));
    expect(targets).toEqual({ cpu: 65, memory: 75 });
    const requests = deployment.spec.template.spec.containers[0].resources.requests;
    expect(requests.cpu).toBe("100m");
    expect(requests.memory).toBe("128Mi");
    // The first rollout is already at the minimum; afterwards the HPA owns the count.
    expect(deployment.spec.replicas).toBe(2);
});

test("pods run restricted: non-root as the image's user, no privilege escalation, no capabilities, read-only root", async () => {
    const pod = (await build("restricted", { runAs: { uid: 101, gid: 102 } })).deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, runAsGroup: 102, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const container = pod.containers[0].securityContext;
    expect(container).toMatchObject({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(container.capabilities).toEqual({ drop: ["ALL"] });
});

test("a port below 1024 is bindable without capabilities through the unprivileged-port sysctl; a high port needs none", async () => {
    const low = (await build("low-port", { component: "frontend", containerPort: 80, servicePort: 80 })).deployment.spec.template.spec;
    expect(low.securityContext.sysctls).toEqual([{ name: "net.ipv4.ip_unprivileged_port_start", value: "80" }]);
    const high = (await build("high-port")).deployment.spec.template.spec;
    expect(high.securityContext.sysctls).toBeUndefined();
});

test("the Service targets the port the container declares", async () => {
    const { deployment, service } = await build("ports", { containerPort: 8081, servicePort: 80 });
    const [port] = service.spec.ports;
    expect(port.port).toBe(80);
    const declared = deployment.spec.template.spec.containers[0].ports.find((p: any) => p.name === port.targetPort);
    expect(declared.containerPort).toBe(8081);
});

test("each writable path is an emptyDir, and the ephemeral-storage limit covers their size limits", async () => {
    const pod = (await build("writable", { writablePaths: ["/tmp", "/var/cache/nginx", "/run"] })).deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container.volumeMounts.map((m: any) => m.mountPath)).toEqual(["/tmp", "/var/cache/nginx", "/run"]);
    const volumes = new Map(pod.volumes.map((v: any) => [v.name, v]));
    const sizes = container.volumeMounts.map((m: any) => (volumes.get(m.name) as any).emptyDir.sizeLimit);
    const total = sizes.reduce((sum: number, size: string) => sum + memoryBytes(size), 0);
    expect(memoryBytes(container.resources.limits["ephemeral-storage"])).toBeGreaterThan(total);
    expect(container.resources.limits.memory).toBe("256Mi");
});

test("the grace period outlasts the preStop wait, so a draining pod is not killed mid-drain", async () => {
    const defaults = (await build("grace-default")).deployment.spec.template.spec;
    expect(defaults.terminationGracePeriodSeconds).toBeGreaterThan(defaults.containers[0].lifecycle.preStop.sleep.seconds);
    const custom = (await build("grace-custom", { preStopSleepSeconds: 15, shutdownSeconds: 60 })).deployment.spec.template.spec;
    expect(custom.containers[0].lifecycle.preStop.sleep.seconds).toBe(15);
    expect(custom.terminationGracePeriodSeconds).toBe(75);
});
