// The Gateway API edge for real: the Traefik build of scripts/edge/traefik.sh runs as a process
// against a local control plane of the test's own (which `up` gave the pinned Gateway API CRDs and
// the `traefik` GatewayClass), and serves the very Gateway and HTTPRoute the program makes for the
// local stack. Until the cluster has real pods, the backend and frontend "pods" are small servers on
// 127.0.0.1 and 127.0.0.2 (two backend replicas: Traefik keeps one server per address), reached
// through Services and EndpointSlices as kube-proxy-less Traefik reaches pods.
// Proven: the login POST and the frontend reach their Services through the controller; a WebSocket
// upgrade on /ws passes, carries messages both ways and stays open past the entry point's read
// timeout; requests spread over both replicas (no affinity) and a token from one replica opens a
// WebSocket on the other. Skipped when the cluster binaries or Traefik are not installed, unless
// KUBEPOLARIS_REQUIRE_CLUSTER=1.
import { ChildProcess, spawn, spawnSync } from "child_process";
import { createHash, createHmac } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { TRAEFIK_PORTS } from "../../components/edge";
import { describeFailure, REPO, tempDir } from "../engine/engine";
import { runStack } from "../support/program";
import { TYPES } from "../support/types";
import { Cluster, clusterBinDir, clusterScript, freePortBase, kubectlJson, kubectlOk, listening, waitFor } from "./cluster";

const BIN = clusterBinDir();
const TRAEFIK = (() => {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "edge", "traefik.sh"), "--check"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim().split("\n").pop() : undefined;
})();
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1";
const describeEdge = (BIN && TRAEFIK) || REQUIRED ? describe : describe.skip;

/** The two backend replicas' addresses (both loopback) and the shared secret their tokens are signed with. */
const REPLICAS = ["127.0.0.1", "127.0.0.2"];
const JWT_SECRET = "edge-test-shared-secret";
/** Traefik's entry point read timeout in this test: a WebSocket must outlive it. */
const READ_TIMEOUT_S = 2;

const sign = (user: string) => `${user}.${createHmac("sha256", JWT_SECRET).update(user).digest("hex")}`;
const verify = (token: string | null) => !!token && sign(token.split(".")[0]) === token;

/** A backend replica: POST /api/v1/auth/login answers a token; /ws/* upgrades (token in the query) and echoes. */
function backendReplica(replica: string): http.Server {
    const server = http.createServer((req, res) => {
        if (req.method === "POST" && req.url === "/api/v1/auth/login") {
            let body = "";
            req.on("data", (d) => { body += d; });
            req.on("end", () => {
                const { username, password } = JSON.parse(body || "{}");
                const ok = username === "admin" && password === "s3cret-password";
                res.writeHead(ok ? 200 : 401, { "content-type": "application/json", "x-replica": replica });
                res.end(JSON.stringify(ok ? { code: 200, data: { token: sign(username) }, replica } : { code: 401 }));
            });
            return;
        }
        res.writeHead(404, { "x-replica": replica });
        res.end();
    });
    server.on("upgrade", (req, socket: net.Socket) => {
        const token = new URL(req.url ?? "/", "http://x").searchParams.get("token");
        if (!req.url?.startsWith("/ws/") || !verify(token)) {
            socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(frame(`hello from ${replica}`, false));
        readFrames(socket, (text) => socket.write(frame(`${replica} echo: ${text}`, false)));
    });
    return server;
}

/** One unfragmented text frame (clients mask theirs, servers do not). */
function frame(text: string, mask: boolean): Buffer {
    const payload = Buffer.from(text);
    const key = Buffer.from([1, 2, 3, 4]);
    const head = payload.length < 126 ? Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]) : Buffer.from([0x81, (mask ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 255]);
    const body = mask ? Buffer.from(payload.map((b, i) => b ^ key[i % 4])) : payload;
    return Buffer.concat([head, ...(mask ? [key] : []), body]);
}

/** Calls `onText` with each text frame read from `socket` (short frames only: this test's messages). */
function readFrames(socket: net.Socket, onText: (text: string) => void, initial = Buffer.alloc(0)): void {
    let buf = initial;
    const drain = () => {
        while (buf.length >= 2) {
            const masked = (buf[1] & 0x80) !== 0;
            let len = buf[1] & 0x7f;
            let off = 2;
            if (len === 126) {
                len = buf.readUInt16BE(2);
                off = 4;
            }
            const need = off + (masked ? 4 : 0) + len;
            if (buf.length < need) {
                return;
            }
            const key = masked ? buf.subarray(off, off + 4) : undefined;
            const data = buf.subarray(off + (masked ? 4 : 0), need);
            const text = Buffer.from(data.map((b, i) => (key ? b ^ key[i % 4] : b))).toString();
            buf = buf.subarray(need);
            if (text !== "") {
                onText(text);
            }
        }
    };
    socket.on("data", (d) => { buf = Buffer.concat([buf, d]); drain(); });
    drain();
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

const listen = (server: http.Server, host: string, port: number) =>
    new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(port, host, () => resolve()); });

describeEdge(`the Gateway edge through Traefik (${TRAEFIK ?? "not built: run scripts/edge/traefik.sh"})`, () => {
    const work = tempDir("kubepolaris-cluster-edge-test-");
    const portBase = freePortBase();
    const c: Cluster = {
        stateDir: path.join(work, "state"),
        kubectl: path.join(BIN ?? "/nonexistent", "kubectl"),
        env: { ...process.env, KUBEPOLARIS_CLUSTER_DIR: path.join(work, "state"), KUBEPOLARIS_CLUSTER_PORT_BASE: String(portBase) },
    };
    const servers: http.Server[] = [];
    let traefik: ChildProcess | undefined;
    let host = "";
    let gatewayRef = ["", ""];
    const backendPort = portBase + 1;
    const frontendPort = portBase + 2;
    const entry = TRAEFIK_PORTS.http;

    beforeAll(async () => {
        if (!BIN || !TRAEFIK) {
            throw new Error("KUBEPOLARIS_REQUIRE_CLUSTER=1 but the cluster binaries or Traefik are not installed: run scripts/cluster/ensure.sh and scripts/edge/traefik.sh");
        }
        expect(listening([entry])).toEqual([]); // the program's listener port is Traefik's entry point
        const up = clusterScript(c, "up");
        if (up.status !== 0) {
            clusterScript(c, "down");
            throw new Error(describeFailure("cluster.sh up", up));
        }
        c.kubeconfig = up.stdout.trim().split("\n").pop();

        // The program's own edge objects for the local stack.
        const program = await runStack("local");
        const gateway = program.one(TYPES.gateway).inputs;
        const routes = program.ofType(TYPES.httpRoute).map((r) => r.inputs);
        host = gateway.spec.listeners[0].hostname;
        const ns = gateway.metadata.namespace;
        gatewayRef = [ns, gateway.metadata.name];
        const strip = (o: any) => ({ apiVersion: "gateway.networking.k8s.io/v1", kind: o.kind, metadata: { name: o.metadata.name, namespace: ns }, spec: o.spec });
        const backendService = routes[0].spec.rules.find((r: any) => r.matches[0].path.value === "/api").backendRefs[0];
        const frontendService = routes[0].spec.rules.find((r: any) => r.matches[0].path.value === "/").backendRefs[0];
        const service = (name: string, port: number) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns },
            spec: { ports: [{ name: "http", port, targetPort: "http" }] } });
        const slice = (name: string, service: string, port: number, addresses: string[]) => ({
            apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": service } },
            addressType: "IPv4", ports: [{ name: "http", port, protocol: "TCP" }],
            endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
        });
        const objects = [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
            service(backendService.name, backendService.port), slice(`${backendService.name}-pods`, backendService.name, backendPort, REPLICAS),
            service(frontendService.name, frontendService.port), slice(`${frontendService.name}-pods`, frontendService.name, frontendPort, [REPLICAS[0]]),
            { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: gateway.metadata.name, namespace: ns }, spec: gateway.spec },
            ...routes.map((r) => strip({ ...r, kind: "HTTPRoute" })),
        ];
        kubectlOk(c, ["apply", "--server-side", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));

        for (const replica of REPLICAS) {
            const s = backendReplica(replica);
            servers.push(s);
            await listen(s, replica, backendPort);
        }
        const frontend = http.createServer((_req, res) => { res.writeHead(200, { "content-type": "text/html" }); res.end("<html>kubepolaris frontend</html>"); });
        servers.push(frontend);
        await listen(frontend, REPLICAS[0], frontendPort);

        const log = fs.openSync(path.join(work, "traefik.log"), "w");
        traefik = spawn(TRAEFIK, [
            "--global.checknewversion=false", "--global.sendanonymoususage=false", "--log.level=INFO",
            `--entryPoints.web.address=127.0.0.1:${entry}`,
            `--entryPoints.web.transport.respondingTimeouts.readTimeout=${READ_TIMEOUT_S}s`,
            `--entryPoints.traefik.address=127.0.0.1:${portBase + 9}`, "--ping=true",
            "--providers.kubernetesgateway=true",
        ], { env: { ...process.env, KUBECONFIG: c.kubeconfig }, stdio: ["ignore", log, log] });
        await waitFor("the HTTPRoute accepted by Traefik and its backends resolved", 60_000, () => {
            const route = kubectlJson(c, ["-n", ns, "get", "httproute", routes[0].metadata.name]);
            const conditions = route.status?.parents?.[0]?.conditions ?? [];
            const ok = (type: string) => conditions.some((x: any) => x.type === type && x.status === "True");
            return ok("Accepted") && ok("ResolvedRefs") ? true : undefined;
        });
    }, 300_000);

    afterAll(async () => {
        traefik?.kill("SIGTERM");
        await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
        clusterScript(c, "down");
        if (process.env.KUBEPOLARIS_KEEP_EDGE_TEST_LOGS !== "1") {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }, 120_000);

    test("the Gateway is programmed by the controller of its class", () => {
        const gw = kubectlJson(c, ["-n", gatewayRef[0], "get", "gateway", gatewayRef[1]]);
        const programmed = (gw.status?.conditions ?? []).find((x: any) => x.type === "Programmed");
        expect(programmed?.status).toBe("True");
    });

    test("a login POST reaches a backend replica through the edge, and a wrong host does not", async () => {
        const login = await request(entry, host, "POST", "/api/v1/auth/login", { username: "admin", password: "s3cret-password" });
        expect(login.status).toBe(200);
        expect(JSON.parse(login.body).data.token).toBe(sign("admin"));
        const wrong = await request(entry, "elsewhere.test", "POST", "/api/v1/auth/login", { username: "admin", password: "s3cret-password" });
        expect(wrong.status).toBe(404);
        const frontend = await request(entry, host, "GET", "/");
        expect([frontend.status, frontend.body]).toEqual([200, "<html>kubepolaris frontend</html>"]);
    });

    test("requests spread over both replicas, and a token from one opens a WebSocket on the other (no affinity needed)", async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) {
            seen.add(String((await request(entry, host, "POST", "/api/v1/auth/login", { username: "admin", password: "s3cret-password" })).headers["x-replica"]));
        }
        expect([...seen].sort()).toEqual(REPLICAS);
        const login = await request(entry, host, "POST", "/api/v1/auth/login", { username: "admin", password: "s3cret-password" });
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
        expect(other).toMatch(/^hello from 127\.0\.0\.[12]$/);
    });

    test("a WebSocket upgrade on /ws carries messages both ways and outlives the entry point's read timeout", async () => {
        const token = JSON.parse((await request(entry, host, "POST", "/api/v1/auth/login", { username: "admin", password: "s3cret-password" })).body).data.token;
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
});
