// The Gateway API edge for real: the Traefik build of scripts/edge/traefik.sh runs as a process
// against a local control plane of the test's own (which `up` gave the pinned Gateway API CRDs and
// the `traefik` GatewayClass), and serves the very Gateway and HTTPRoutes the program makes for the
// local stack. Until the cluster has real pods, Traefik and the "pods" (two backend replicas and a
// frontend, test/cluster/edgeBackend.ts) run in a network namespace of the test's own, the pods on
// pod-like addresses 10.244.77.1 and .2 (EndpointSlices refuse loopback addresses); UNIX-socket
// relays (socat) connect the namespace's 127.0.0.1:<API port> to the API server and a host port on
// 127.0.0.1 to Traefik's entry point. Nothing listens outside 127.0.0.1 or the namespace.
// Proven: the login POST and the frontend reach their Services through the controller; a WebSocket
// upgrade on /ws passes, carries messages both ways and stays open past the entry point's read
// timeout; requests spread over both replicas (no affinity) and a token from one replica opens a
// WebSocket on the other. Traefik's own Prometheus series carry the service names and protocol the
// edge alerts select (components/alerts/edgeMetrics.ts). Skipped when the cluster binaries or Traefik are not installed, unless
// KUBEPOLARIS_REQUIRE_CLUSTER=1.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { frame, FRONTEND_PAGE, LOGIN, readFrames, sign } from "./edgeBackend";
import { TRAEFIK_PORTS } from "../../components/edge";
import { EDGE_METRICS, traefikBackendServices } from "../../components/alerts/edgeMetrics";
import { componentName } from "../../components/labels";
import { stackAlertParams } from "../../scripts/render-alert-rules";
import { describeFailure, REPO, tempDir } from "../engine/engine";
import { runStack, stackAppConfig } from "../support/program";
import { TYPES } from "../support/types";
import { Cluster, clusterBinDir, clusterScript, freePortBase, kubectlJson, kubectlOk, waitFor } from "./cluster";

const BIN = clusterBinDir();
const TRAEFIK = (() => {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "edge", "traefik.sh"), "--check"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim().split("\n").pop() : undefined;
})();
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1";
const describeEdge = (BIN && TRAEFIK) || REQUIRED ? describe : describe.skip;

/** The two backend replicas' addresses inside the test's network namespace (the frontend shares the first). */
const REPLICAS = ["10.244.77.1", "10.244.77.2"];
/** Traefik's entry point read timeout in this test: a WebSocket must outlive it. */
const READ_TIMEOUT_S = 2;
const TS_NODE = path.join(REPO, "node_modules", ".bin", "ts-node");

function run(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) {
        throw new Error(describeFailure(`${cmd} ${args.join(" ")}`, r));
    }
    return r.stdout;
}

/** A WebSocket client through the edge: the 101 status, then received texts in order. */
function openWebSocket(port: number, host: string, urlPath: string): Promise<{ status: number; socket: net.Socket; next(): Promise<string> }> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        const texts: string[] = [];
        const waiters: ((t: string) => void)[] = [];
        let head = Buffer.alloc(0);
        socket.on("error", reject);
        socket.on("connect", () => socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        const onHead = (d: Buffer) => {
            head = Buffer.concat([head, d]);
            const end = head.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            socket.off("data", onHead);
            const status = Number(head.subarray(0, end).toString().split(" ")[1]);
            readFrames(socket, (t) => (waiters.length > 0 ? waiters.shift()!(t) : texts.push(t)), head.subarray(end + 4));
            resolve({
                status,
                socket,
                next: () => (texts.length > 0 ? Promise.resolve(texts.shift()!) : new Promise((r, rej) => {
                    const timer = setTimeout(() => rej(new Error("no WebSocket message within 10 s")), 10_000);
                    waiters.push((t) => { clearTimeout(timer); r(t); });
                })),
            });
        };
        socket.on("data", onHead);
    });
}

function request(port: number, host: string, method: string, urlPath: string, body?: unknown):
    Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, method, path: urlPath, headers: { host, "content-type": "application/json" }, timeout: 10_000 }, (res) => {
            let text = "";
            res.on("data", (d) => { text += d; });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

describeEdge(`the Gateway edge through Traefik (${TRAEFIK ?? "not built: run scripts/edge/traefik.sh"})`, () => {
    const work = tempDir("kubepolaris-cluster-edge-test-");
    const portBase = freePortBase();
    const c: Cluster = {
        stateDir: path.join(work, "state"),
        kubectl: path.join(BIN ?? "/nonexistent", "kubectl"),
        // The control plane with kwok nodes: Traefik and its stand-in backends run as processes here.
        env: { ...process.env, KUBEPOLARIS_CLUSTER_KIND: "kwok", KUBEPOLARIS_CLUSTER_DIR: path.join(work, "state"), KUBEPOLARIS_CLUSTER_PORT_BASE: String(portBase) },
    };
    const netns = `kpedge${process.pid}`;
    const children: ChildProcess[] = [];
    let traefikProcess: ChildProcess | undefined;
    let host = "";
    let gatewayRef = ["", ""];
    const backendPort = 8080;
    const frontendPort = 8081;
    /** The host port relayed to Traefik's entry point in the namespace. */
    const entry = portBase + 1;

    const start = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
        const log = fs.openSync(path.join(work, `${name}.log`), "w");
        const child = spawn(cmd, args, { env, stdio: ["ignore", log, log], detached: true });
        fs.closeSync(log);
        children.push(child);
        return child;
    };
    const inNetns = (name: string, args: string[], env?: NodeJS.ProcessEnv) => start(name, "ip", ["netns", "exec", netns, ...args], env);
    const logTail = (name: string) => {
        const file = path.join(work, `${name}.log`);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").slice(-20).join("\n") : "";
    };

    beforeAll(async () => {
        if (!BIN || !TRAEFIK) {
            throw new Error("KUBEPOLARIS_REQUIRE_CLUSTER=1 but the cluster binaries or Traefik are not installed: run scripts/cluster/ensure.sh and scripts/edge/traefik.sh");
        }
        const up = clusterScript(c, "up");
        if (up.status !== 0) {
            clusterScript(c, "down");
            throw new Error(describeFailure("cluster.sh up", up));
        }
        c.kubeconfig = up.stdout.trim().split("\n").pop();
        const apiPort = Number(new URL(kubectlOk(c, ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])).port);

        // The namespace: loopback up, the pods' addresses on it.
        run("ip", ["netns", "add", netns]);
        run("ip", ["netns", "exec", netns, "ip", "link", "set", "lo", "up"]);
        for (const a of REPLICAS) {
            run("ip", ["netns", "exec", netns, "ip", "addr", "add", `${a}/32`, "dev", "lo"]);
        }
        // The API server into the namespace, at the same address and port (its certificate names 127.0.0.1).
        const apiSock = path.join(work, "api.sock");
        const edgeSock = path.join(work, "edge.sock");
        start("api-relay", "socat", [`UNIX-LISTEN:${apiSock},fork,mode=600`, `TCP:127.0.0.1:${apiPort}`]);
        await waitFor("the API relay socket", 10_000, () => (fs.existsSync(apiSock) ? true : undefined));
        inNetns("api-relay-ns", ["socat", `TCP-LISTEN:${apiPort},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${apiSock}`]);
        // Traefik's entry point out of the namespace, to 127.0.0.1:<entry> on the host.
        inNetns("edge-relay-ns", ["socat", `UNIX-LISTEN:${edgeSock},fork,mode=600`, `TCP:127.0.0.1:${TRAEFIK_PORTS.http}`]);
        await waitFor("the edge relay socket", 10_000, () => (fs.existsSync(edgeSock) ? true : undefined));
        start("edge-relay", "socat", [`TCP-LISTEN:${entry},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${edgeSock}`]);

        // The program's own edge objects for the local stack.
        const program = await runStack("local");
        const gateway = program.one(TYPES.gateway).inputs;
        const routes = program.ofType(TYPES.httpRoute).map((r) => r.inputs);
        // The local stack's routes answer any Host (it is opened as http://127.0.0.1:<port>/): the
        // stack's own host name is one of them.
        expect(gateway.spec.listeners[0].hostname).toBeUndefined();
        host = stackAppConfig("local").host;
        const ns = gateway.metadata.namespace;
        gatewayRef = [ns, gateway.metadata.name];
        const backendRef = routes[0].spec.rules.find((r: any) => r.matches[0].path.value === "/api").backendRefs[0];
        const frontendRef = routes[0].spec.rules.find((r: any) => r.matches[0].path.value === "/").backendRefs[0];
        const service = (name: string, port: number) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns },
            spec: { ports: [{ name: "http", port, targetPort: "http" }] } });
        const slice = (name: string, port: number, addresses: string[]) => ({
            apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name: `${name}-pods`, namespace: ns, labels: { "kubernetes.io/service-name": name } },
            addressType: "IPv4", ports: [{ name: "http", port, protocol: "TCP" }],
            endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
        });
        const objects = [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
            service(backendRef.name, backendRef.port), slice(backendRef.name, backendPort, REPLICAS),
            service(frontendRef.name, frontendRef.port), slice(frontendRef.name, frontendPort, [REPLICAS[0]]),
            { apiVersion: gateway.apiVersion, kind: "Gateway", metadata: { name: gateway.metadata.name, namespace: ns }, spec: gateway.spec },
            ...routes.map((r) => ({ apiVersion: r.apiVersion, kind: "HTTPRoute", metadata: { name: r.metadata.name, namespace: ns }, spec: r.spec })),
        ];
        kubectlOk(c, ["apply", "--server-side", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));

        const backend = path.join(__dirname, "edgeBackend.ts");
        for (const [i, a] of REPLICAS.entries()) {
            inNetns(`backend-${i}`, [TS_NODE, "--transpile-only", "--project", path.join(REPO, "tsconfig.json"), backend, a, String(backendPort), "backend"]);
        }
        inNetns("frontend", [TS_NODE, "--transpile-only", "--project", path.join(REPO, "tsconfig.json"), backend, REPLICAS[0], String(frontendPort), "frontend"]);

        const kubeconfig = path.join(work, "traefik.kubeconfig");
        fs.copyFileSync(c.kubeconfig!, kubeconfig);
        traefikProcess = inNetns("traefik", [TRAEFIK!,
            "--global.checknewversion=false", "--global.sendanonymoususage=false", "--log.level=INFO",
            `--entryPoints.web.address=127.0.0.1:${TRAEFIK_PORTS.http}`,
            `--entryPoints.web.transport.respondingTimeouts.readTimeout=${READ_TIMEOUT_S}s`,
            `--entryPoints.traefik.address=127.0.0.1:${TRAEFIK_PORTS.healthCheck.port}`, "--ping=true",
            "--providers.kubernetesgateway=true",
            // Served on the traefik entry point (:8080/metrics), as the Helm chart's defaults do.
            "--metrics.prometheus=true",
        ], { ...process.env, KUBECONFIG: kubeconfig });
        await waitFor("the HTTPRoute accepted by Traefik and its backends resolved", 90_000, () => {
            if (traefikProcess?.exitCode !== null) {
                throw new Error(`Traefik exited ${traefikProcess?.exitCode}:\n${logTail("traefik")}`);
            }
            const route = kubectlJson(c, ["-n", ns, "get", "httproute", routes[0].metadata.name]);
            const conditions = route.status?.parents?.[0]?.conditions ?? [];
            const ok = (type: string) => conditions.some((x: any) => x.type === type && x.status === "True");
            return ok("Accepted") && ok("ResolvedRefs") ? true : undefined;
        });
        // The stand-in pods start through ts-node: wait until a login passes end to end.
        const deadline = Date.now() + 60_000;
        while ((await request(entry, host, "POST", "/api/v1/auth/login", LOGIN).catch(() => ({ status: 0 }))).status !== 200) {
            if (Date.now() > deadline) {
                throw new Error(`no login through the edge within 60 s\n--- traefik\n${logTail("traefik")}\n--- backend-0\n${logTail("backend-0")}`);
            }
            await new Promise((r) => setTimeout(r, 500));
        }
    }, 360_000);

    afterAll(async () => {
        for (const child of children.reverse()) {
            if (child.exitCode === null && child.signalCode === null && child.pid) {
                try {
                    process.kill(-child.pid, "SIGKILL");
                } catch {
                    // already gone
                }
            }
        }
        spawnSync("sh", ["-c", `ip netns pids ${netns} | xargs -r kill -9; ip netns del ${netns}`]);
        clusterScript(c, "down");
        if (process.env.KUBEPOLARIS_KEEP_EDGE_TEST_LOGS !== "1") {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }, 120_000);

    test("cluster:up installed the Gateway API CRDs of the pinned bundle and the traefik GatewayClass", () => {
        const pinned = fs.readFileSync(path.join(REPO, "scripts", "toolchain.versions"), "utf8").match(/^GATEWAY_API_VERSION=(.+)$/m)![1];
        for (const crd of ["gatewayclasses", "gateways", "httproutes", "referencegrants"]) {
            const o = kubectlJson(c, ["get", "crd", `${crd}.gateway.networking.k8s.io`]);
            expect([crd, o.metadata.annotations["gateway.networking.k8s.io/bundle-version"]]).toEqual([crd, `v${pinned}`]);
        }
        expect(kubectlJson(c, ["get", "gatewayclass", "traefik"]).spec.controllerName).toBe("traefik.io/gateway-controller");
    });

    test("the Gateway is programmed by the controller of its class", () => {
        const gw = kubectlJson(c, ["-n", gatewayRef[0], "get", "gateway", gatewayRef[1]]);
        const programmed = (gw.status?.conditions ?? []).find((x: any) => x.type === "Programmed");
        expect(programmed?.status).toBe("True");
    });

    test("a login POST reaches a backend replica through the edge, by the stack's host or by address; another path prefix does not", async () => {
        const login = await request(entry, host, "POST", "/api/v1/auth/login", LOGIN);
        expect(login.status).toBe(200);
        expect(JSON.parse(login.body).data.token).toBe(sign("admin"));
        const byAddress = await request(entry, `127.0.0.1:${entry}`, "POST", "/api/v1/auth/login", LOGIN);
        expect(byAddress.status).toBe(200);
        // A path prefix matches whole path elements: /apix is not /api, so it goes to the frontend.
        const elsewhere = await request(entry, host, "GET", "/apix/v1/auth/me");
        expect([elsewhere.status, elsewhere.body]).toEqual([200, FRONTEND_PAGE]);
        const frontend = await request(entry, host, "GET", "/");
        expect([frontend.status, frontend.body]).toEqual([200, FRONTEND_PAGE]);
    });

    test("requests spread over both replicas, and a token from one opens a WebSocket on the other (no affinity needed)", async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) {
            seen.add(String((await request(entry, host, "POST", "/api/v1/auth/login", LOGIN)).headers["x-replica"]));
        }
        expect([...seen].sort()).toEqual(REPLICAS);
        const login = await request(entry, host, "POST", "/api/v1/auth/login", LOGIN);
        const issuer = String(login.headers["x-replica"]);
        const token = JSON.parse(login.body).data.token;
        // Open sockets until one lands on the other replica (round robin: within a few).
        let other = "";
        for (let i = 0; i < 6 && other === ""; i++) {
            const ws = await openWebSocket(entry, host, `/ws/clusters/1/terminal?token=${token}`);
            expect(ws.status).toBe(101);
            const hello = await ws.next();
            ws.socket.destroy();
            if (!hello.endsWith(issuer)) {
                other = hello;
            }
        }
        expect(other).toBe(`hello from ${REPLICAS.find((r) => r !== issuer)}`);
    });

    test("a WebSocket upgrade on /ws carries messages both ways and outlives the entry point's read timeout", async () => {
        const token = JSON.parse((await request(entry, host, "POST", "/api/v1/auth/login", LOGIN)).body).data.token;
        const denied = await openWebSocket(entry, host, "/ws/clusters/1/terminal?token=forged");
        expect(denied.status).toBe(401);
        denied.socket.destroy();
        const ws = await openWebSocket(entry, host, `/ws/clusters/1/terminal?token=${token}`);
        expect(ws.status).toBe(101);
        const hello = await ws.next();
        const replica = hello.replace("hello from ", "");
        ws.socket.write(frame("ls -l", true));
        expect(await ws.next()).toBe(`${replica} echo: ls -l`);
        await new Promise((r) => setTimeout(r, (READ_TIMEOUT_S + 2) * 1000));
        ws.socket.write(frame("still there?", true));
        expect(await ws.next()).toBe(`${replica} echo: still there?`);
        ws.socket.destroy();
    }, 30_000);

    test("Traefik's own series for the backend's requests carry the service names and protocol the edge alerts select", async () => {
        // Traffic of every kind: API calls, the frontend, a WebSocket (counted when it closes).
        await request(entry, host, "POST", "/api/v1/auth/login", LOGIN);
        await request(entry, host, "GET", "/");
        const token = JSON.parse((await request(entry, host, "POST", "/api/v1/auth/login", LOGIN)).body).data.token;
        const ws = await openWebSocket(entry, host, `/ws/clusters/1/terminal?token=${token}`);
        expect(ws.status).toBe(101);
        await ws.next();
        ws.socket.destroy();

        // The alerts' selector (Prometheus anchors label regexes) for the local stack's route and backend Service.
        const params = stackAlertParams("local");
        if (params.edge.controller !== "traefik") {
            throw new Error(`the local stack's edge alerts read ${params.edge.controller}, not Traefik`);
        }
        const selected = new RegExp(`^(?:${traefikBackendServices(params.edge, params.namespace)})$`);
        const scrape = () => {
            const exposition = run("ip", ["netns", "exec", netns, "curl", "-sf", `http://127.0.0.1:${TRAEFIK_PORTS.healthCheck.port}/metrics`]);
            return [...exposition.matchAll(new RegExp(`^${EDGE_METRICS.traefik.requests}\\{(.*)\\} \\S+$`, "gm"))]
                .map((m) => Object.fromEntries([...m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]])));
        };
        const series = await waitFor("the WebSocket counted in Traefik's metrics", 10_000,
            () => { const all = scrape(); return all.some((l) => l.protocol === "websocket") ? all : undefined; });
        const summary = (backend: boolean) => [...new Set(series.filter((l) => selected.test(l.service) === backend)
            .map((l) => `${l.method} ${l.protocol} ${l.service.split("-svc-").pop()}`))].sort();
        // The API's POSTs (http) and the WebSocket upgrade (protocol websocket, which the alerts leave out)
        // are the backend's; the frontend's GETs are not selected.
        expect(summary(true)).toEqual(expect.arrayContaining([
            `POST http ${params.namespace}-${params.edge.backendService}-0@kubernetesgateway`,
            `GET websocket ${params.namespace}-${params.edge.backendService}-0@kubernetesgateway`,
        ]));
        expect(summary(false)).toEqual([`GET http ${params.namespace}-${componentName(params.groupPrefix, "frontend")}-0@kubernetesgateway`]);
    }, 30_000);
});
