// EdgeController alone: the Traefik a stack installs when it asks for one (edge.controller), highly
// available and fenced in like the app. The same objects run for real on the local cluster
// (test/cluster/local-app.test.ts logs in through them).
import * as fs from "fs";
import * as path from "path";
import { TRAEFIK_PORTS } from "../../components/edge";
import { EDGE_DRAIN, EdgeController, EdgeControllerArgs, traefikArgs } from "../../components/edgeController";
import { EDGE_CONTROLLER_DEFAULTS } from "../../config/app";
import { recordRegistrations, TYPES } from "../support/components";

const recorder = recordRegistrations();
const POD_LABELS = { "app.kubernetes.io/name": "traefik" };

function args(overrides: Partial<EdgeControllerArgs> = {}): EdgeControllerArgs {
    return {
        namespace: "traefik",
        labels: { team: "ops" },
        podLabels: POD_LABELS,
        image: "docker.io/library/traefik:v3.7.13",
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        egress: {
            routesTo: { namespace: "kp", pods: [{ labels: { app: "frontend" }, port: 80 }, { labels: { app: "backend" }, port: 8080 }] },
            apiServer: { cidrs: ["10.0.0.0/8"], ports: [443] },
        },
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<EdgeControllerArgs> = {}) {
    const controller = new EdgeController(name, args(overrides));
    await recorder.settle(controller.deploymentName, controller.namespaceName);
    const mine = (type: string) => recorder.all.filter((r) => r.type === type && r.name.startsWith(`${name}-`)).map((r) => r.inputs);
    return {
        namespace: mine(TYPES.namespace)[0],
        deployment: mine(TYPES.deployment)[0],
        pdbs: mine(TYPES.pdb),
        quota: mine(TYPES.resourceQuota)[0],
        policies: mine(TYPES.networkPolicy),
        role: mine("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")[0],
    };
}

test("two replicas spread over zones and nodes, a budget that lets one go, restricted security", async () => {
    const { namespace, deployment, pdbs } = await build("ha");
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", labelSelector: { matchLabels: POD_LABELS } });
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
    // The app's scaling budget (pdbBudget): a quarter, which Kubernetes rounds up to one pod of two.
    expect(pdbs.map((p) => p.spec.maxUnavailable)).toEqual(["25%"]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // Long enough for the accept grace, then the in-flight requests.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(EDGE_DRAIN.acceptSeconds + EDGE_DRAIN.finishSeconds);
});

test("one replica gets no budget (it could only block every drain); zero replicas are refused", async () => {
    expect((await build("single", { replicas: 1 })).pdbs).toEqual([]);
    expect(() => new EdgeController("none", args({ replicas: 0 }))).toThrow(/replicas must be a whole number of at least 1, got 0/);
});

test("entry points on the ports the Gateway's listeners name; readiness fails while terminating, liveness is another check", async () => {
    const { deployment } = await build("ports");
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual(traefikArgs(TRAEFIK_PORTS));
    expect(container.args).toEqual(expect.arrayContaining([
        `--entryPoints.web.address=:${TRAEFIK_PORTS.http}`, `--entryPoints.websecure.address=:${TRAEFIK_PORTS.https}`,
        "--providers.kubernetesgateway=true", "--ping.terminatingStatusCode=503",
        `--entryPoints.web.transport.lifeCycle.requestAcceptGraceTimeout=${EDGE_DRAIN.acceptSeconds}s`,
    ]));
    expect(container.readinessProbe.httpGet).toEqual({ path: TRAEFIK_PORTS.healthCheck.path, port: "traefik" });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: "web" });
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([TRAEFIK_PORTS.http, TRAEFIK_PORTS.https, TRAEFIK_PORTS.healthCheck.port]);
});

test("its namespace denies by default and allows only clients in, and DNS, the app's pods and the API server out", async () => {
    const { policies, quota } = await build("fence");
    const byName = Object.fromEntries(policies.map((p) => [p.metadata.name, p.spec]));
    expect(byName["default-deny-all"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(byName["allow-clients-to-entry-points"].ingress[0].ports.map((p: any) => p.port))
        .toEqual([TRAEFIK_PORTS.http, TRAEFIK_PORTS.https, TRAEFIK_PORTS.healthCheck.port]);
    expect(byName["allow-routes-to-app"].egress.map((r: any) => [r.to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"], r.to[0].podSelector.matchLabels.app, r.ports[0].port]))
        .toEqual([["kp", "frontend", 80], ["kp", "backend", 8080]]);
    expect(byName["allow-api-server-egress"].egress).toEqual([{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
    expect(byName["allow-dns-egress"].egress[0].to[0].podSelector.matchLabels).toEqual({ "k8s-app": "kube-dns" });
    // Room for both replicas and a rollout's surge pod at their limits.
    expect(quota.spec.hard["limits.memory"]).toBe("768Mi");
});

test("it may read Secrets and routes cluster-wide but write only route status", async () => {
    const { role } = await build("rbac");
    const writes = role.rules.filter((r: any) => r.verbs.some((v: string) => !["get", "list", "watch"].includes(v)));
    expect(writes.flatMap((r: any) => r.resources).every((res: string) => res.endsWith("/status"))).toBe(true);
    expect(writes.flatMap((r: any) => r.verbs)).toEqual(["update"]);
});

test("the default image is the Traefik release scripts/edge/traefik.sh builds for the local stack", () => {
    const versions = fs.readFileSync(path.join(__dirname, "..", "..", "scripts", "toolchain.versions"), "utf8");
    const pinned = /^TRAEFIK_VERSION=(.+)$/m.exec(versions)![1];
    expect(EDGE_CONTROLLER_DEFAULTS.image).toBe(`docker.io/library/traefik:v${pinned}`);
    const local = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.local.yaml"), "utf8");
    expect(local).toContain(`kubepolaris.local/traefik:v${pinned}`);
});
