// The local cluster with real nodes (scripts/cluster/cluster.sh, KUBEPOLARIS_CLUSTER_KIND=real, the
// default) as an operator relies on it: three kubelets with their own containerd, one per zone,
// run real containers; a Service answers from pods on other nodes through kube-proxy, from pods
// and from the host; cluster DNS resolves Service names and nothing else; NetworkPolicies are
// enforced; memory limits are enforced; the resource metrics API answers (metrics-server); a
// partitioned node stops answering and goes NotReady, and heals; `down` leaves no
// process, mount, bridge, route, iptables rule, cgroup, network namespace or changed sysctl behind.
// Needs root and the node binaries (scripts/cluster/ensure.sh, ensure.sh --node). Skipped, not
// failed, when they are missing, unless KUBEPOLARIS_REQUIRE_CLUSTER=1. One real cluster runs per
// host (bridges, the node link and kube-proxy's chains are host-wide): this test refuses to start
// while another one runs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../engine/engine";
import { clusterBinDir, clusterScript, freeRealPortBase, kubectl, kubectlJson, kubectlOk, startCluster, stopCluster, testCluster, waitFor } from "./cluster";
import { clientPod, hostTraces, httpFromPod, image, realNodesReady, RESTRICTED_CONTAINER } from "./realNodes";

const BIN = clusterBinDir();
const READY = realNodesReady();
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1";
const describeReal = READY || REQUIRED ? describe : describe.skip;
const suite = READY
    ? `local cluster with real nodes (${BIN})`
    : "local cluster with real nodes (skipped: needs root, scripts/cluster/ensure.sh and ensure.sh --node)";

const NS = "real-nodes-test";
const ZONES = ["zone-a", "zone-b", "zone-c"];
const PORT_BASE = freeRealPortBase();

describeReal(suite, () => {
    const c = testCluster({ prefix: "kubepolaris-real-test-", kind: "real", portBase: PORT_BASE, bin: BIN });
    let before: Record<string, string[]> = {};
    let upSeconds = 0;
    let busybox = "";

    beforeAll(() => {
        if (!READY) {
            throw new Error("KUBEPOLARIS_REQUIRE_CLUSTER=1 but real nodes cannot run here: needs root, scripts/cluster/ensure.sh and scripts/cluster/ensure.sh --node");
        }
        before = hostTraces(c.stateDir);
        busybox = image("busybox");
        upSeconds = startCluster(c, 300_000);
    }, 360_000);

    afterAll(() => stopCluster(c), 180_000);

    test("up refuses a user who is not root, saying why and what to use instead, before it makes anything", () => {
        const dir = path.join(c.work, "not-root");
        const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", path.join(REPO, "scripts", "cluster", "cluster.sh"), "up"], {
            encoding: "utf8", timeout: 30_000,
            env: { ...process.env, KUBEPOLARIS_CLUSTER_KIND: "real", KUBEPOLARIS_CLUSTER_DIR: dir, HOME: "/nonexistent" },
        });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/real nodes need root .*KUBEPOLARIS_CLUSTER_KIND=kwok/);
        expect(fs.existsSync(dir)).toBe(false);
    });

    test("up starts three real nodes, one per zone, each a kubelet 1.34 on its own bridge subnet", () => {
        expect(upSeconds).toBeLessThan(120);
        const nodes = kubectlJson(c, ["get", "nodes"]).items;
        expect(nodes.map((n: any) => n.metadata.name).sort()).toEqual(["node1", "node2", "node3"]);
        expect(nodes.map((n: any) => n.metadata.labels["topology.kubernetes.io/zone"]).sort()).toEqual(ZONES);
        for (const n of nodes) {
            expect(n.metadata.labels["kwok.x-k8s.io/node"]).toBeUndefined();
            expect(n.status.nodeInfo.kubeletVersion).toBe("v1.34.3");
            expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
            expect(n.status.conditions.find((x: any) => x.type === "Ready")?.status).toBe("True");
            const i = Number(n.metadata.name.replace("node", ""));
            expect(n.spec.podCIDR).toBe(`10.244.${i}.0/24`);
        }
    });

    test("a Service answers from pods on other nodes through kube-proxy, to pods and to the host; DNS resolves it", async () => {
        kubectlOk(c, ["create", "namespace", NS]);
        const labels = { app: "web" };
        const secure = RESTRICTED_CONTAINER;
        const web = {
            apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: NS },
            spec: {
                replicas: 3, selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        topologySpreadConstraints: [{
                            maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels },
                        }],
                        containers: [{
                            name: "web", image: busybox, imagePullPolicy: "Never",
                            command: ["sh", "-c", "echo \"$NODE\" > /www/index.html && exec httpd -f -p 8080 -h /www"],
                            env: [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                            ports: [{ containerPort: 8080 }],
                            readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
                            volumeMounts: [{ name: "www", mountPath: "/www" }],
                            securityContext: secure,
                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                        }],
                        volumes: [{ name: "www", emptyDir: {} }],
                    },
                },
            },
        };
        const svc = {
            apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: NS },
            spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
        };
        const client = clientPod("client", NS, busybox, "node1");
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [web, svc, client] }));
        kubectlOk(c, ["rollout", "status", "deployment/web", "-n", NS, "--timeout=120s"]);
        kubectlOk(c, ["wait", "--for=condition=Ready", "pod/client", "-n", NS, "--timeout=60s"]);
        const pods = kubectlJson(c, ["get", "pods", "-n", NS, "-l", "app=web"]).items;
        expect(new Set(pods.map((p: any) => p.spec.nodeName)).size).toBe(3);

        // From a pod on node1, by name: DNS, then kube-proxy's rules to any of the three nodes.
        const seen = new Set<string>();
        await waitFor("answers from web pods on all three nodes", 60_000, () => {
            const body = httpFromPod(c, NS, "client", `web.${NS}.svc.cluster.local`, 80);
            if (body !== undefined) {
                seen.add(body);
            }
            return seen.size === 3 ? true : undefined;
        });
        expect([...seen].sort()).toEqual(["node1", "node2", "node3"]);

        const clusterIP = kubectlJson(c, ["get", "service", "web", "-n", NS]).spec.clusterIP;
        const lookup = kubectl(c, ["exec", "-n", NS, "client", "--", "nslookup", `web.${NS}.svc.cluster.local`]);
        expect(lookup.status).toBe(0);
        expect(lookup.stdout).toContain(clusterIP);
        // Nothing outside the cluster resolves: no query leaves this host.
        const outside = kubectl(c, ["exec", "-n", NS, "client", "--", "nslookup", "example.com"]);
        expect(`${outside.stdout}${outside.stderr}`).toMatch(/NXDOMAIN|can't find/);

        // Pods reach the API server through the `kubernetes` Service (it listens on the node address).
        const api = kubectl(c, ["exec", "-n", NS, "client", "--", "sh", "-c",
            "printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | nc -w 3 kubernetes.default.svc.cluster.local 443"]);
        expect(api.stdout).toMatch(/Client sent an HTTP request to an HTTPS server/);

        // From the host, through the same Service address.
        const host = spawnSync("curl", ["-fsS", "--max-time", "3", `http://${clusterIP}/`], { encoding: "utf8" });
        expect(host.status).toBe(0);
        expect(["node1", "node2", "node3"]).toContain(host.stdout.trim());
    }, 240_000);

    test("the resource metrics API serves every pod's CPU and memory (metrics-server behind the aggregation layer), as an HPA reads it", async () => {
        expect(kubectlJson(c, ["get", "apiservice", "v1beta1.metrics.k8s.io"]).status.conditions
            .find((x: any) => x.type === "Available")?.status).toBe("True");
        const names = kubectlJson(c, ["get", "pods", "-n", NS, "-l", "app=web"]).items.map((p: any) => p.metadata.name).sort();
        const metrics = await waitFor("metrics of the web pods", 90_000, () => {
            const r = kubectl(c, ["get", "--raw", `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`]);
            const items = r.status === 0 ? JSON.parse(r.stdout).items.filter((m: any) => names.includes(m.metadata.name)) : [];
            return items.length === names.length ? items : undefined;
        });
        for (const m of metrics) {
            expect(m.containers[0].usage.cpu).toMatch(/^\d+(n|u|m)?$/);
            expect(m.containers[0].usage.memory).toMatch(/^\d+(Ki|Mi)?$/);
        }
        // The nodes too (what `kubectl top nodes` shows).
        expect(JSON.parse(kubectl(c, ["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"]).stdout).items.map((n: any) => n.metadata.name).sort())
            .toEqual(["node1", "node2", "node3"]);
    }, 120_000);

    test("a partitioned node stops as a lost machine does (its pods and kubelet stop answering, the node goes NotReady and stays); heal brings it back", async () => {
        const pods = kubectlJson(c, ["get", "pods", "-n", NS, "-l", "app=web"]).items;
        const lost = pods.find((p: any) => p.spec.nodeName === "node3");
        const podIP = lost.status.podIP;
        const kubeletHealthz = `http://127.0.0.1:${PORT_BASE + 23}/healthz`;
        const answers = (url: string) => spawnSync("curl", ["-fsS", "--max-time", "2", url]).status === 0;
        const ready = (node: string) => kubectlJson(c, ["get", "node", node]).status.conditions
            .find((x: any) => x.type === "Ready")?.status === "True";
        expect(httpFromPod(c, NS, "client", podIP, 8080)).toBe("node3");
        expect(answers(kubeletHealthz)).toBe(true);

        const partition = clusterScript(c, ["partition", "node3"]);
        expect(partition.stderr).toContain("node3 partitioned");
        expect(partition.status).toBe(0);
        try {
            // Nothing on it answers: its pod (frozen: the kernel accepts, nobody replies), its kubelet.
            expect(httpFromPod(c, NS, "client", podIP, 8080)).toBeUndefined();
            expect(answers(kubeletHealthz)).toBe(false);
            // The node controller notices the missing heartbeats (node-monitor-grace-period) and keeps the Node.
            await waitFor("node3 NotReady", 120_000, () => ready("node3") ? undefined : true);
            expect(kubectlJson(c, ["get", "node", "node3"]).spec.taints?.map((t: any) => t.key))
                .toContain("node.kubernetes.io/unreachable");
            expect(ready("node1") && ready("node2")).toBe(true);
        } finally {
            const heal = clusterScript(c, ["heal", "node3"]);
            expect(heal.status).toBe(0);
        }
        await waitFor("node3 Ready again", 60_000, () => ready("node3") ? true : undefined);
        await waitFor("node3's pod answering again", 30_000, () => httpFromPod(c, NS, "client", podIP, 8080) === "node3" ? true : undefined);
        expect(answers(kubeletHealthz)).toBe(true);
        // Refused with the allowed names, changing nothing.
        const bad = clusterScript(c, ["partition", "node9"]);
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toContain("got 'node9'; allowed: node1..node3");
    }, 240_000);

    test("NetworkPolicies are enforced (kube-router): a policy admitting one namespace's client blocks another namespace", async () => {
        const other = `${NS}-other`;
        kubectlOk(c, ["create", "namespace", other]);
        const stranger = clientPod("stranger", other, busybox, "node2");
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(stranger));
        kubectlOk(c, ["wait", "--for=condition=Ready", "pod/stranger", "-n", other, "--timeout=60s"]);
        const get = (ns: string, pod: string) => httpFromPod(c, ns, pod, `web.${NS}.svc.cluster.local`, 80) !== undefined;
        // Before any policy both reach the Service (so the refusal below is the policy's doing).
        await waitFor("the stranger to reach web before the policy", 30_000, () => (get(other, "stranger") ? true : undefined));
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "web-from-own-namespace", namespace: NS },
            spec: {
                podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"],
                ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 8080, protocol: "TCP" }] }],
            },
        }));
        await waitFor("the policy to block the other namespace", 60_000, () => (get(other, "stranger") ? undefined : true));
        // Three tries each, bounded: the stranger never gets through, the client always does.
        for (let i = 0; i < 3; i++) {
            expect(get(other, "stranger")).toBe(false);
            expect(get(NS, "client")).toBe(true);
        }
        kubectlOk(c, ["delete", "namespace", other, "--wait=false"]);
    }, 180_000);

    test("a container over its memory limit is killed by the kernel (cgroup limits are enforced)", async () => {
        const pod = {
            apiVersion: "v1", kind: "Pod", metadata: { name: "hog", namespace: NS },
            spec: {
                restartPolicy: "Never",
                containers: [{
                    name: "hog", image: busybox, imagePullPolicy: "Never",
                    // tail keeps the last 10 lines in memory: /dev/zero has no line ends, so all 64 MiB.
                    command: ["sh", "-c", "head -c 67108864 /dev/zero | tail > /dev/null"],
                    resources: { requests: { memory: "16Mi" }, limits: { memory: "16Mi" } },
                }],
            },
        };
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(pod));
        const reason = await waitFor("the hog to be killed", 60_000, () => {
            const s = kubectlJson(c, ["get", "pod", "hog", "-n", NS]).status?.containerStatuses?.[0]?.state?.terminated;
            return s ? s.reason : undefined;
        });
        expect(reason).toBe("OOMKilled");
    }, 90_000);

    test("down leaves no process, mount, link, route, iptables rule, cgroup, network namespace or sysctl change behind", () => {
        const during = hostTraces(c.stateDir);
        // What the cluster made is visible while it runs (so the comparison below can fail).
        expect(during.links).toEqual(expect.arrayContaining(["kp-node", "kp-br1", "kp-br2", "kp-br3"]));
        expect(during.cgroups.length).toBeGreaterThan(0);
        expect(during.iptables.length).toBeGreaterThan(0);
        expect(during.processes.length).toBeGreaterThan(0);
        const r = clusterScript(c, "down", 120_000);
        expect(r.status).toBe(0);
        expect(fs.existsSync(c.stateDir)).toBe(false);
        expect(hostTraces(c.stateDir)).toEqual(before);
    }, 150_000);
});
