// The HA workloads on every real stack file: what keeps KubePolaris up through node drains,
// rollouts, zone loss and load.
import { BACKEND, FRONTEND } from "../app/kubepolaris";
import { memoryBytes } from "../components/quantity";
import { podLabels } from "../components/labels";
import { disruptionBudget } from "../policy/rules/k8s";
import { RecordedResource } from "../tools/mockRun";
import { runStack, stackAppConfig, STACKS } from "./support/program";
import { selects } from "../policy/rules/selectors";
import { TYPES } from "./support/types";
import { preStopWaitSeconds } from "../policy/rules/shutdown";




const components = ["backend", "frontend"] as const;

describe.each(STACKS)("stack %s", (stack) => {
    const config = stackAppConfig(stack);

    const deployment = async (component: string): Promise<RecordedResource> =>
        (await runStack(stack)).one(TYPES.deployment, (r) => r.inputs.metadata.name === `kubepolaris-${component}`);
    const podTemplateLabels = async (component: string) => (await deployment(component)).inputs.spec.template.metadata.labels;

    test.each(components)("%s: the Deployment selects its own pods, with the shared label helper", async (component) => {
        const d = await deployment(component);
        expect(d.inputs.spec.selector.matchLabels).toEqual(podLabels(config.release, component));
        expect(selects(d.inputs.spec.selector, d.inputs.spec.template.metadata.labels)).toBe(true);
    });

    test.each(components)("%s: exactly one PDB, selecting exactly these pods, one eviction at the HPA minimum and at most a quarter of the pods at every count up to the maximum", async (component) => {
        const program = await runStack(stack);
        const labels = await podTemplateLabels(component);
        const pdbs = program.ofType(TYPES.pdb).filter((p) => selects(p.inputs.spec.selector, labels));
        expect(pdbs).toHaveLength(1);
        const pdb = pdbs[0];
        expect(pdb.inputs.spec.selector.matchLabels).toEqual(podLabels(config.release, component));
        expect(pdb.inputs.metadata.namespace).toBe(config.namespace);
        const hpa = program.one(TYPES.hpa, (h) => h.inputs.spec.scaleTargetRef.name === `kubepolaris-${component}`);
        const { minReplicas, maxReplicas } = hpa.inputs.spec;
        for (let n = minReplicas; n <= maxReplicas; n++) {
            const budget = disruptionBudget(pdb.inputs.spec, n);
            expect("problem" in budget).toBe(false);
            const { allowed, desiredHealthy } = budget as { allowed: number; desiredHealthy: number };
            expect({ replicas: n, allowed: n === minReplicas ? allowed === 1 : allowed <= Math.max(1, Math.ceil(n / 4)) })
                .toEqual({ replicas: n, allowed: true });
            // And it protects something: at least one pod must stay.
            expect(desiredHealthy).toBeGreaterThanOrEqual(1);
        }
        expect(pdb.inputs.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
    });

    test.each(components)("%s: the HPA owns the replica count (bounds from the tier, CPU 70 %%, memory 80 %%)", async (component) => {
        const program = await runStack(stack);
        const d = await deployment(component);
        const hpa = program.one(TYPES.hpa, (h) => h.inputs.spec.scaleTargetRef.name === d.inputs.metadata.name);
        const expected = config[component];
        expect(hpa.inputs.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: d.inputs.metadata.name });
        expect(hpa.inputs.spec.minReplicas).toBe(expected.minReplicas);
        expect(hpa.inputs.spec.maxReplicas).toBe(expected.maxReplicas);
        expect(hpa.inputs.spec.minReplicas).toBeLessThan(hpa.inputs.spec.maxReplicas);
        if (stack !== "local") {
            expect(hpa.inputs.spec.minReplicas).toBeGreaterThanOrEqual(2);
        }
        if (stack === "prod") {
            expect(hpa.inputs.spec.minReplicas).toBeGreaterThanOrEqual(3);
        }
        const targets = Object.fromEntries(hpa.inputs.spec.metrics.map((m: any) => [m.resource.name, m.resource.target]));
        expect(targets).toEqual({
            cpu: { type: "Utilization", averageUtilization: 70 },
            memory: { type: "Utilization", averageUtilization: 80 },
        });
        // Created at the minimum, then never reset by `pulumi up`.
        expect(d.inputs.spec.replicas).toBe(expected.minReplicas);
        expect(d.ignoreChanges).toContain("spec.replicas");
    });

    test.each(components)("%s: anti-affinity and zone spread select the workload's own pods", async (component) => {
        const d = await deployment(component);
        const spec = d.inputs.spec.template.spec;
        const labels = d.inputs.spec.template.metadata.labels;
        const anti = spec.affinity.podAntiAffinity;
        const terms = [
            ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
            ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t.podAffinityTerm),
        ];
        expect(terms).toHaveLength(1);
        expect(terms[0].topologyKey).toBe("kubernetes.io/hostname");
        expect(terms[0].labelSelector.matchLabels).toEqual(podLabels(config.release, component));
        expect(selects(terms[0].labelSelector, labels)).toBe(true);
        const expectedMode = config.backend.antiAffinity === "required" ? "requiredDuringSchedulingIgnoredDuringExecution"
            : "preferredDuringSchedulingIgnoredDuringExecution";
        expect(Object.keys(anti)).toEqual([expectedMode]);

        expect(spec.topologySpreadConstraints).toHaveLength(1);
        const spread = spec.topologySpreadConstraints[0];
        expect(spread.topologyKey).toBe("topology.kubernetes.io/zone");
        expect(spread.maxSkew).toBe(1);
        expect(spread.labelSelector.matchLabels).toEqual(podLabels(config.release, component));
        expect(selects(spread.labelSelector, labels)).toBe(true);
    });

    test.each(components)("%s: rollouts never drop below the desired count and drain connections first", async (component) => {
        const d = await deployment(component);
        expect(d.inputs.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        const pod = d.inputs.spec.template.spec;
        // A sleep action (backend) or an exec hook that sleeps before it stops nginx gracefully (frontend).
        const preStop = preStopWaitSeconds(pod.containers[0].lifecycle.preStop)!.seconds;
        expect(preStop).toBeGreaterThan(0);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop);
    });

    test.each(components)("%s: the Service selects the pods and targets a port the container exposes", async (component) => {
        const program = await runStack(stack);
        const d = await deployment(component);
        const svc = program.one(TYPES.service, (s) => s.inputs.metadata.name === `kubepolaris-${component}`);
        expect(svc.inputs.spec.selector).toEqual(podLabels(config.release, component));
        const containerPorts = d.inputs.spec.template.spec.containers[0].ports.map((p: any) => p.name);
        for (const port of svc.inputs.spec.ports) {
            expect(containerPorts).toContain(port.targetPort);
        }
        expect(svc.inputs.spec.ports[0].port).toBe(component === "backend" ? 8080 : 80);
    });

    // What the probes do. Readiness takes a pod out of the Service, liveness restarts it, a startup
    // probe holds liveness off while the first start migrates the schema.
    const probesOf = async (component: string) => {
        const container = (await deployment(component)).inputs.spec.template.spec.containers[0];
        return { container, liveness: container.livenessProbe, readiness: container.readinessProbe, startup: container.startupProbe };
    };

    test.each(components)("%s: liveness and readiness ask different endpoints, each on a port the container declares", async (component) => {
        const { container, liveness, readiness, startup } = await probesOf(component);
        // Different timings alone would not do: the two must check different things.
        const endpoint = (probe: any) => JSON.stringify(probe.httpGet ?? probe.tcpSocket ?? probe.exec ?? probe.grpc);
        expect(endpoint(liveness)).not.toEqual(endpoint(readiness));
        for (const [kind, probe] of Object.entries({ liveness, readiness, startup }).filter(([, p]) => p !== undefined)) {
            const port = (probe.httpGet ?? probe.tcpSocket ?? probe.grpc)?.port;
            const declared = container.ports.some((p: any) => p.name === port || p.containerPort === port);
            expect({ kind, port, declared }).toEqual({ kind, port, declared: true });
        }
    });

    test.each(components)("%s: liveness does not depend on the database, so a database outage restarts no pod", async (component) => {
        const { liveness } = await probesOf(component);
        if (component === "backend") {
            // The release's liveness endpoint answers while the process serves HTTP, without
            // checking the database (app/kubepolaris.ts, from the release's source).
            expect(liveness.httpGet.path).toBe(BACKEND.livenessPath);
            expect(liveness.httpGet.path).not.toBe(BACKEND.readinessPath);
        } else {
            // nginx itself: its port, or the health page it answers without proxying to the backend.
            expect(liveness.tcpSocket !== undefined || liveness.httpGet?.path === FRONTEND.healthPath).toBe(true);
        }
    });

    test.each(components)("%s: a struggling pod leaves the Service before liveness restarts it", async (component) => {
        const { liveness, readiness } = await probesOf(component);
        // Kubernetes' defaults: every 10 s, 3 failures, 1 s timeout.
        const failingFor = (p: any) => (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
        expect(failingFor(liveness)).toBeGreaterThan(failingFor(readiness));
        for (const probe of [liveness, readiness]) {
            expect(probe.timeoutSeconds ?? 1).toBeLessThan(probe.periodSeconds ?? 10);
        }
    });

    test("backend: a slow first start is covered by the startup probe, on liveness's endpoint, not cut short by liveness", async () => {
        const { liveness, startup } = await probesOf("backend");
        expect(startup.httpGet).toEqual(liveness.httpGet);
        const startupBudget = (startup.initialDelaySeconds ?? 0) + startup.periodSeconds * startup.failureThreshold;
        const livenessBudget = (liveness.initialDelaySeconds ?? 0) + (liveness.periodSeconds ?? 10) * (liveness.failureThreshold ?? 3);
        // Liveness alone would restart a pod still migrating once its own budget ran out; the
        // startup probe gives the first start longer (test/app starts the real release within it).
        expect(startupBudget).toBeGreaterThan(livenessBudget);
    });

    test("every container of every workload has requests, limits and the restricted security context", async () => {
        const program = await runStack(stack);
        const workloads = [...program.ofType(TYPES.deployment), ...program.ofType("kubernetes:apps/v1:StatefulSet")];
        expect(workloads.length).toBeGreaterThanOrEqual(2);
        for (const w of workloads) {
            const pod = w.inputs.spec.template.spec;
            expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
            expect(pod.hostNetwork ?? false).toBe(false);
            for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
                const where = `${w.name}/${c.name}`;
                expect({ where, requests: Object.keys(c.resources?.requests ?? {}).sort() }).toEqual({ where, requests: ["cpu", "ephemeral-storage", "memory"] });
                expect({ where, limits: Object.keys(c.resources?.limits ?? {}).sort() }).toEqual({ where, limits: ["cpu", "ephemeral-storage", "memory"] });
                // The kubelet evicts a pod whose emptyDirs plus logs exceed its containers' limits.
                const emptyDirs = (pod.volumes ?? []).filter((v: any) => v.emptyDir).reduce((t: number, v: any) => t + memoryBytes(v.emptyDir.sizeLimit), 0);
                expect(memoryBytes(c.resources.limits["ephemeral-storage"])).toBeGreaterThan(emptyDirs);
                // Cloud stacks run digests from their own ECR mirror (a node pulls one once); the local
                // stack's images exist only in its nodes (no registry).
                expect(c.imagePullPolicy).toBe("IfNotPresent");
                if (stack !== "local") {
                    expect({ where, image: c.image }).toEqual({ where, image: expect.stringMatching(/^[0-9]{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/kubepolaris-[a-z]+\/(backend|frontend)@sha256:[a-f0-9]{64}$/) });
                }
                expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
                expect(c.securityContext.capabilities.drop).toEqual(["ALL"]);
                expect((c.securityContext.capabilities.add ?? []).filter((cap: string) => cap !== "NET_BIND_SERVICE")).toEqual([]);
                expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
                expect(c.image).not.toMatch(/:latest$/);
                // A read-only root needs somewhere to write temp files.
                expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain("/tmp");
            }
        }
    });

    test("backend requests/limits follow the tier table (the HA values from medium up)", async () => {
        const container = (await deployment("backend")).inputs.spec.template.spec.containers[0];
        expect(container.resources).toMatchObject(config.backend.resources);
        if (config.tier !== "small") {
            expect(container.resources).toMatchObject({ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } });
        }
    });

    test("service accounts mount no token; only the edge controller, which watches the API, mounts one, explicitly", async () => {
        const program = await runStack(stack);
        for (const sa of program.ofType("kubernetes:core/v1:ServiceAccount")) {
            expect(sa.inputs.automountServiceAccountToken).toBe(false);
        }
        for (const d of program.ofType(TYPES.deployment)) {
            const pod = d.inputs.spec.template.spec;
            expect(pod.automountServiceAccountToken).toBe(false);
            const tokens = (pod.volumes ?? []).filter((v: any) => v.projected?.sources?.some((s: any) => s.serviceAccountToken));
            expect([d.name, tokens.length]).toEqual([d.name, d.name === "edge-controller-deployment" ? 1 : 0]);
            for (const t of tokens) {
                expect(t.projected.sources.find((s: any) => s.serviceAccountToken).serviceAccountToken.expirationSeconds).toBeLessThanOrEqual(3607);
            }
        }
    });
});
