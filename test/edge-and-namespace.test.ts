// The way in (NLB + Ingress), the namespace guard rails and the shared JWT secret, per stack.
import { TIER_PROFILES } from "../config";
import { podLabels } from "../components/labels";
import { quotaFor } from "../components/namespaceBaseline";
import { cpuMillis, memoryBytes } from "../components/quantity";
import { isSecretInput, runStack, stackAppConfig, STACKS } from "./support/program";
import { TYPES } from "./support/types";
import { BACKEND } from "../app/kubepolaris";

const NLB = "service.beta.kubernetes.io/aws-load-balancer";


describe.each(STACKS)("stack %s", (stack) => {
    const config = stackAppConfig(stack);

    test("the Ingress routes / to the frontend, /api and /ws to the backend, for the TLS-covered host", async () => {
        const ingress = (await runStack(stack)).one(TYPES.ingress);
        const spec = ingress.inputs.spec;
        expect(spec.ingressClassName).toBe("nginx");
        expect(spec.rules).toHaveLength(1);
        expect(spec.rules[0].host).toBe(config.host);
        const routes = Object.fromEntries(spec.rules[0].http.paths.map((p: any) =>
            [p.path, `${p.pathType} ${p.backend.service.name}:${p.backend.service.port.number}`]));
        expect(routes).toEqual({
            "/": "Prefix kubepolaris-frontend:80",
            "/api": "Prefix kubepolaris-backend:8080",
            "/ws": "Prefix kubepolaris-backend:8080",
        });
        expect(spec.tls).toEqual([{ hosts: [config.host], secretName: config.tls.secretName }]);
    });

    test("Ingress annotations: sticky cookie, long idle timeouts for WebSockets, a short connect timeout, 100m bodies, no made-up annotations", async () => {
        const annotations = (await runStack(stack)).one(TYPES.ingress).inputs.metadata.annotations;
        expect(annotations).toMatchObject({
            "nginx.ingress.kubernetes.io/affinity": "cookie",
            "nginx.ingress.kubernetes.io/session-cookie-name": "route",
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
            "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
            // Opening a connection to a pod is not what WebSockets wait on: fail over fast.
            "nginx.ingress.kubernetes.io/proxy-connect-timeout": "10",
            "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
        });
        expect(Object.keys(annotations)).not.toContain("nginx.ingress.kubernetes.io/websocket-services");
        if (config.tls.mode === "certManager") {
            expect(annotations["cert-manager.io/cluster-issuer"]).toBe(config.tls.clusterIssuer);
        } else {
            expect(annotations["cert-manager.io/cluster-issuer"]).toBeUndefined();
        }
    });

    test("the load balancer Service fronts the ingress-nginx controller pods", async () => {
        const lb = (await runStack(stack)).one(TYPES.service, (s) => s.inputs.metadata.name === "kubepolaris-ingress-nlb");
        expect(lb.inputs.metadata.namespace).toBe(config.edge.controllerNamespace);
        expect(lb.inputs.spec.selector).toEqual(config.edge.controllerLabels);
        expect(lb.inputs.spec.ports.map((p: any) => `${p.port}->${p.targetPort}`)).toEqual(["80->http", "443->https"]);
        const annotations = lb.inputs.metadata.annotations ?? {};
        if (stack === "local") {
            // Nothing may wait for a cloud load balancer that will never come.
            expect(lb.inputs.spec.type).toBe("NodePort");
            expect(Object.keys(annotations).filter((k) => k.startsWith(NLB))).toEqual([]);
            expect(annotations["pulumi.com/skipAwait"]).toBe("true");
            expect((await runStack(stack)).one(TYPES.ingress).inputs.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
        } else {
            expect(lb.inputs.spec.type).toBe("LoadBalancer");
            expect(annotations).toMatchObject({
                [`${NLB}-type`]: "external",
                [`${NLB}-nlb-target-type`]: "ip",
                [`${NLB}-scheme`]: config.edge.scheme,
                [`${NLB}-attributes`]: "load_balancing.cross_zone.enabled=true",
            });
            expect(lb.inputs.spec.loadBalancerSourceRanges).toEqual(config.edge.sourceRanges);
            expect(annotations["pulumi.com/skipAwait"]).toBeUndefined();
        }
    });

    test("the namespace enforces Pod Security restricted", async () => {
        const ns = (await runStack(stack)).one("kubernetes:core/v1:Namespace");
        expect(ns.inputs.metadata.name).toBe(config.namespace);
        expect(ns.inputs.metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        });
    });

    test("the ResourceQuota has room for every Deployment at its HPA maximum plus one surge pod", async () => {
        const program = await runStack(stack);
        const quota = program.one("kubernetes:core/v1:ResourceQuota").inputs.spec.hard;
        let cpu = 0;
        let memory = 0;
        let pods = 0;
        for (const tier of ["backend", "frontend"] as const) {
            const hpa = program.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", (h) => h.inputs.spec.scaleTargetRef.name === `kubepolaris-${tier}`);
            const d = program.one("kubernetes:apps/v1:Deployment", (x) => x.inputs.metadata.name === `kubepolaris-${tier}`);
            const limits = d.inputs.spec.template.spec.containers[0].resources.limits;
            const maxPods = hpa.inputs.spec.maxReplicas + d.inputs.spec.strategy.rollingUpdate.maxSurge;
            cpu += maxPods * cpuMillis(limits.cpu);
            memory += maxPods * memoryBytes(limits.memory);
            pods += maxPods;
        }
        expect(cpuMillis(quota["limits.cpu"])).toBeGreaterThanOrEqual(cpu);
        expect(memoryBytes(quota["limits.memory"])).toBeGreaterThanOrEqual(memory);
        expect(Number(quota.pods)).toBeGreaterThanOrEqual(pods);
        expect(program.one("kubernetes:core/v1:LimitRange").inputs.spec.limits[0].type).toBe("Container");
    });

    // Found by the real API server (test/cluster/program.test.ts): local went medium → small, the
    // quota shrank below what the running medium pods used, and ResourceQuota admission refused every
    // new pod: the rollouts never started and the MySQL pod, deleted first, was never recreated.
    test("a tier change down fits the quota: the bigger tier's pods still running count at their size", async () => {
        const program = await runStack(stack);
        const quota = program.one("kubernetes:core/v1:ResourceQuota").inputs.spec.hard;
        for (const from of Object.values(TIER_PROFILES)) {
            let cpu = 0;
            let memory = 0;
            for (const tier of ["backend", "frontend"] as const) {
                const hpa = program.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", (h) => h.inputs.spec.scaleTargetRef.name === `kubepolaris-${tier}`);
                // At most maxReplicas + surge pods, every one as big as the other tier's.
                const pods = hpa.inputs.spec.maxReplicas + 1;
                cpu += pods * cpuMillis(from[tier].resources.requests.cpu);
                memory += pods * memoryBytes(from[tier].resources.limits.memory);
            }
            expect(cpuMillis(quota["requests.cpu"])).toBeGreaterThanOrEqual(cpu);
            expect(memoryBytes(quota["limits.memory"])).toBeGreaterThanOrEqual(memory);
        }
    });

    test("NetworkPolicies: default deny, DNS, ingress controller to the serving ports, backend to the database", async () => {
        const program = await runStack(stack);
        const byName = Object.fromEntries(program.ofType(TYPES.networkPolicy).map((p) => [p.inputs.metadata.name, p.inputs.spec]));
        expect(byName["default-deny-all"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(byName["allow-dns-egress"].egress[0].ports).toEqual([{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }]);

        const frontendPod = program.one("kubernetes:apps/v1:Deployment", (d) => d.inputs.metadata.name === "kubepolaris-frontend");
        const frontendPort = frontendPod.inputs.spec.template.spec.containers[0].ports[0].containerPort;
        for (const [tier, port] of [["frontend", frontendPort], ["backend", 8080]] as const) {
            const policy = byName[`allow-ingress-controller-to-${tier}`];
            expect(policy.podSelector.matchLabels).toEqual(podLabels(config.release, tier));
            expect(policy.ingress[0].ports).toEqual([{ protocol: "TCP", port }]);
            expect(policy.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": config.edge.controllerNamespace });
            expect(policy.ingress[0].from[0].podSelector.matchLabels).toEqual(config.edge.controllerLabels);
        }
        const toDb = byName["allow-backend-to-database"];
        expect(toDb.podSelector.matchLabels).toEqual(podLabels(config.release, "backend"));
        expect(toDb.egress[0].ports).toEqual([{ protocol: "TCP", port: config.database.port }]);
    });

    test("one JWT Secret, shared by every backend replica, and secret wherever it flows", async () => {
        const program = await runStack(stack);
        const secret = program.one("kubernetes:core/v1:Secret", (s) => s.inputs.metadata.name === "kubepolaris-jwt");
        expect(isSecretInput(secret, "stringData.jwt-secret")).toBe(true);
        const backend = program.one("kubernetes:apps/v1:Deployment", (d) => d.inputs.metadata.name === "kubepolaris-backend");
        const env = backend.inputs.spec.template.spec.containers[0].env;
        expect(env.find((e: any) => e.name === "JWT_SECRET")).toEqual({
            name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: "kubepolaris-jwt", key: "jwt-secret" } },
        });
        const random = program.ofType("random:index/randomPassword:RandomPassword").filter((r) => r.name.startsWith("jwt"));
        // The local stack sets the secret in config, so it needs no random provider.
        expect(random).toHaveLength(config.secretsSet.has("jwtSecret") ? 0 : 1);
        // A secret value reaches an output only as a secret output (adminPassword).
        for (const [name, output] of Object.entries(program.outputs)) {
            expect({ name, leaks: !output.secret && JSON.stringify(output.value).includes("mock-secret-for-") }).toEqual({ name, leaks: false });
        }
    });

    test("outputs tell the operator where to go next", async () => {
        const { outputs } = await runStack(stack);
        expect(outputs.url.value).toBe(`https://${config.host}`);
        expect(outputs.namespaceName.value).toBe(config.namespace);
        expect(outputs.backendService.value).toBe("kubepolaris-backend");
        expect(outputs.frontendService.value).toBe("kubepolaris-frontend");
        expect(outputs.loadBalancerService.value).toBe("kubepolaris-ingress-nlb");
    });

    test("under the default-deny, the frontend's proxy may reach the backend (both policies), on the backend's port only", async () => {
        const policies = (await runStack(stack)).ofType(TYPES.networkPolicy).map((p) => p.inputs.spec);
        const frontendPods = podLabels(config.release, "frontend");
        const backendPods = podLabels(config.release, "backend");
        const matches = (selector: any, labels: Record<string, string>) =>
            Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
        const sameNamespacePeer = (peer: any, labels: Record<string, string>) => !peer.namespaceSelector && !peer.ipBlock && matches(peer.podSelector, labels);
        const egressPorts = policies
            .filter((p) => p.policyTypes.includes("Egress") && matches(p.podSelector, frontendPods))
            .flatMap((p) => (p.egress ?? []).filter((rule: any) => rule.to.some((peer: any) => sameNamespacePeer(peer, backendPods))))
            .flatMap((rule: any) => rule.ports.map((port: any) => port.port));
        const ingressPorts = policies
            .filter((p) => p.policyTypes.includes("Ingress") && matches(p.podSelector, backendPods))
            .flatMap((p) => (p.ingress ?? []).filter((rule: any) => rule.from.some((peer: any) => sameNamespacePeer(peer, frontendPods))))
            .flatMap((rule: any) => rule.ports.map((port: any) => port.port));
        expect({ egressPorts, ingressPorts }).toEqual({ egressPorts: [BACKEND.port], ingressPorts: [BACKEND.port] });
    });
});

test("quota arithmetic: (max + surge) × per-pod resources, summed", () => {
    const resources = { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1536Mi" } };
    expect(quotaFor([{ name: "a", maxPods: 3, resources }, { name: "b", maxPods: 2, resources }])).toEqual({
        "requests.cpu": "2500m", "requests.memory": "2560Mi", "limits.cpu": "10", "limits.memory": "7680Mi", pods: "5",
    });
});
