// The frontend contract: the KubePolaris UI built from its release source, served by a real nginx
// exactly as the local stack's frontend Deployment runs it — its command, the nginx.conf from the
// stack's ConfigMap at the Deployment's mount path, its UID/GID, a read-only root with its emptyDirs
// writable, its sysctls, its port — in a network namespace where only the Services the stack creates
// resolve (the backend's address forwarded to a real backend on a real MariaDB, as kube-proxy would).
// Everything is read from the mock run of the stack, never from a copy: a change to the program's
// frontend is what this test runs.
//
// Needs root, Go and npm (the builds), nginx, MariaDB, iproute2, util-linux and socat: `npm test`
// installs them (scripts/test-prereqs.sh). Skipped when they are missing, unless KUBEPOLARIS_REQUIRE_APP=1.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { anonymousUpgradeStatus, TERMINAL_PATH, terminalReply } from "../support/terminalSocket";
import { APP_RELEASE, BACKEND, FRONTEND } from "../../app/kubepolaris";
import { ADMIN_PASSWORD_ENV } from "../../components/adminPassword";
import { preStopWaitSeconds } from "../../policy/rules/shutdown";
import { TYPES } from "../support/types";
import { httpRequest, missingTools, Pod, Sandbox, waitFor } from "./sandbox";
import { appSource, buildApp, emptyDirMounts, LocalStack, portNamed, STACK } from "./stack";

const missing = process.getuid?.() === 0 ? [...missingTools(), ...(spawnSync("sh", ["-c", "command -v nginx"]).status === 0 ? [] : ["nginx"])] : ["root"];
const required = process.env.KUBEPOLARIS_REQUIRE_APP === "1";
const describeApp = missing.length === 0 || required ? describe : describe.skip;

/** Cluster addresses the sandbox gives the stack's Services (a range nothing else on the host uses). */
const SERVICE_NET = "10.255.96";

describeApp(`the KubePolaris ${APP_RELEASE} frontend, run as the ${STACK} stack deploys it`, () => {
    let sandbox: Sandbox;
    let stack: LocalStack;
    let podSpec: any;
    let container: any;
    let backendPod: Pod;
    /** The frontend pod whose graceful stop the last test drives. */
    let frontend: { pod: Pod; nginx: ChildProcess };
    let site: string;
    let port: number;

    /** Starts nginx as the Deployment runs it in a new pod, and waits until its readiness probe passes. */
    const startFrontendPod = async (name: string): Promise<{ pod: Pod; nginx: ChildProcess }> => {
        const pod = await sandbox.pod(name);
        for (const sysctl of podSpec.securityContext.sysctls ?? []) {
            pod.sysctl(sysctl.name, sysctl.value);
        }
        // Every Service the stack creates gets an address; the backend's forwards to the backend pod.
        const hosts: string[] = ["127.0.0.1 localhost"];
        const services = stack.resources.filter((r) => r.type === TYPES.service);
        for (const [i, service] of services.entries()) {
            const address = `${SERVICE_NET}.${10 + i}`;
            const { name: serviceName, namespace } = service.inputs.metadata;
            hosts.push(`${address} ${serviceName}.${namespace}.svc.cluster.local ${serviceName}.${namespace}.svc ${serviceName}.${namespace} ${serviceName}`);
            if (service.inputs.spec.selector?.["app.kubernetes.io/component"] === "backend") {
                for (const servicePort of service.inputs.spec.ports) {
                    const target = portNamed(stack.podSpec("backend").containers[0], servicePort.targetPort);
                    await pod.serviceAddress(address, servicePort.port, await backendPod.relay(target));
                }
            }
        }
        const etc = path.join(sandbox.dir, `${name}-etc`);
        fs.mkdirSync(etc);
        fs.writeFileSync(path.join(etc, "hosts"), `${hosts.join("\n")}\n`);
        // No DNS server answers: a name the stack does not create (grafana) does not resolve.
        fs.writeFileSync(path.join(etc, "resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");

        // The ConfigMap volume, as the kubelet projects it: each key a file in the mounted directory.
        const configBinds = podSpec.volumes.filter((v: any) => v.configMap).map((volume: any) => {
            const configMap = stack.resources.find((r) => r.type === TYPES.configMap && r.inputs.metadata.name === volume.configMap.name);
            if (!configMap) {
                throw new Error(`volume ${volume.name}: the stack creates no ConfigMap ${volume.configMap.name}`);
            }
            const dir = path.join(sandbox.dir, `${name}-${volume.name}`);
            fs.mkdirSync(dir, { mode: 0o755 });
            for (const [key, value] of Object.entries(configMap.inputs.data as Record<string, string>)) {
                fs.writeFileSync(path.join(dir, key), value, { mode: 0o644 });
            }
            const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
            expect({ volume: volume.name, readOnly: mount.readOnly }).toEqual({ volume: volume.name, readOnly: true });
            return { source: dir, target: mount.mountPath };
        });
        const nginx = pod.exec({
            // No command: the image's CMD, which reads the configuration baked into the image.
            command: container.command ?? [...FRONTEND.imageCommand],
            env: stack.envOf(container, {}),
            uid: podSpec.securityContext.runAsUser,
            gid: podSpec.securityContext.runAsGroup,
            writablePaths: emptyDirMounts(podSpec),
            readOnlyRoot: container.securityContext.readOnlyRootFilesystem === true,
            readOnlyBinds: [
                ...configBinds,
                // The image's content: the built UI and the nginx.conf baked where the image keeps them.
                { source: site, target: FRONTEND.siteRoot },
                { source: path.join(appSource(), FRONTEND.imageConfig.source), target: FRONTEND.imageConfig.path },
                { source: path.join(etc, "hosts"), target: "/etc/hosts" },
                { source: path.join(etc, "resolv.conf"), target: "/etc/resolv.conf" },
            ],
        }, "nginx");
        const readiness = container.readinessProbe.httpGet;
        await pod.waitForHttp(portNamed(container, readiness.port), readiness.path, 30_000, "nginx");
        return { pod, nginx };
    };

    const stackPassword = () => stack.adminJobEnv()[ADMIN_PASSWORD_ENV.newPassword];
    const login = (pod: Pod, password: string) =>
        pod.request(port, "POST", BACKEND.api.login, { body: { username: BACKEND.seededAdmin.username, password } });

    beforeAll(async () => {
        if (missing.length > 0) {
            throw new Error(`KUBEPOLARIS_REQUIRE_APP=1 but missing: ${missing.join(", ")} (scripts/test-prereqs.sh installs them)`);
        }
        const binary = buildApp("backend.sh");
        site = buildApp("frontend.sh");
        stack = await LocalStack.load();
        podSpec = stack.podSpec("frontend");
        container = podSpec.containers[0];
        port = portNamed(container, "http");

        sandbox = new Sandbox();
        await stack.startDatabase(sandbox);
        const backendSpec = stack.backendSpec(sandbox, binary);
        [backendPod] = (await stack.startBackends(sandbox, backendSpec, ["backend"])).pods;
        const job = await stack.runAdminJob(sandbox, backendPod, "1");
        if (job.code !== 0) {
            throw new Error(`the admin-password Job failed:\n${job.log}`);
        }
        frontend = await startFrontendPod("frontend-a");
    }, 1_500_000);

    afterAll(async () => {
        await sandbox?.stop();
    });

    test("nginx runs as the Deployment's user on the port its Service targets, and every probe passes", async () => {
        expect({ uid: podSpec.securityContext.runAsUser, gid: podSpec.securityContext.runAsGroup }).toEqual({ uid: FRONTEND.uid, gid: FRONTEND.gid });
        const status = fs.readFileSync(`/proc/${frontend.nginx.pid}/status`, "utf8");
        expect(status).toMatch(new RegExp(`^Uid:\\s+${FRONTEND.uid}\\s`, "m"));
        const service = stack.resources.find((r) => r.type === TYPES.service && r.inputs.spec.selector?.["app.kubernetes.io/component"] === "frontend")!;
        expect(service.inputs.spec.ports.map((p: any) => portNamed(container, p.targetPort))).toEqual([FRONTEND.port]);

        for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"].filter((p) => container[p])) {
            const spec = container[probe];
            if (spec.httpGet) {
                const answer = await frontend.pod.request(portNamed(container, spec.httpGet.port), "GET", spec.httpGet.path);
                expect({ probe, path: spec.httpGet.path, status: answer.status }).toEqual({ probe, path: spec.httpGet.path, status: 200 });
            } else {
                // A tcpSocket probe: the port accepts a connection.
                const socket = await frontend.pod.relay(portNamed(container, spec.tcpSocket.port));
                await new Promise<void>((resolve, reject) => net.connect(socket).on("connect", function (this: net.Socket) {
                    this.end();
                    resolve();
                }).on("error", reject));
            }
        }
    });

    test("/ serves the built UI, its assets, and the app for any route the UI handles in the browser", async () => {
        const index = await frontend.pod.request(port, "GET", "/");
        expect(index.status).toBe(200);
        expect(index.body).toContain('<div id="root">');
        const asset = index.body.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
        expect(asset).toBeDefined();
        const script = await frontend.pod.request(port, "GET", asset!);
        expect({ asset, status: script.status, length: script.body.length > 1000 }).toEqual({ asset, status: 200, length: true });
        const route = await frontend.pod.request(port, "GET", "/clusters/1/overview");
        expect({ status: route.status, body: route.body }).toEqual({ status: 200, body: index.body });
    });

    test("a login through the frontend reaches the backend: 401 for a wrong password, 200 and a working token for the stack's", async () => {
        expect((await login(frontend.pod, "not-the-password")).status).toBe(401);
        // The Job replaced the published password: it no longer works through the UI either.
        expect((await login(frontend.pod, BACKEND.seededAdmin.password)).status).toBe(401);
        const answer = await login(frontend.pod, stackPassword());
        expect(answer.status).toBe(200);
        const token = answer.json().data?.token ?? answer.body.match(/"token":"([^"]+)"/)?.[1];
        expect(typeof token).toBe("string");
        expect((await frontend.pod.request(port, "GET", BACKEND.api.me, { token })).status).toBe(200);
    });

    test("a WebSocket under /ws/ is upgraded and carries messages both ways; without a token the backend refuses it", async () => {
        const token = (await login(frontend.pod, stackPassword())).json().data.token as string;
        const url = `ws+unix://${await frontend.pod.relay(port)}:${TERMINAL_PATH}`;
        // The backend's SSH terminal answers a connect without its settings with an error message.
        expect(JSON.parse(await terminalReply(url, token))).toMatchObject({ type: "error" });
        const refused = await anonymousUpgradeStatus(url);
        expect(refused).toBe(401);
    });

    test("nginx started although no Grafana exists, and /grafana/ says so with a 404", async () => {
        // The name really does not resolve in the pod (the image's own nginx.conf would not start here).
        const lookup = spawnSync("ip", ["netns", "exec", frontend.pod.ns, "unshare", "--mount", "--propagation", "private", "sh", "-c",
            `mount --bind '${path.join(sandbox.dir, "frontend-a-etc", "hosts")}' /etc/hosts && mount --bind '${path.join(sandbox.dir, "frontend-a-etc", "resolv.conf")}' /etc/resolv.conf && getent hosts grafana`]);
        expect(lookup.status).not.toBe(0);
        const answer = await frontend.pod.request(port, "GET", `${FRONTEND.grafanaPrefix}d/abc/cluster`);
        expect(answer.status).toBe(404);
        expect(answer.body).toMatch(/Grafana is not configured/);
        // And the UI beside it is up.
        expect((await frontend.pod.request(port, "GET", "/")).status).toBe(200);
    });

    /** A login whose body is held back, so it is in flight in nginx until `finish` is called. */
    const inFlightLogin = async (pod: Pod) => {
        const body = JSON.stringify({ username: BACKEND.seededAdmin.username, password: stackPassword() });
        let finish!: () => void;
        const answer = httpRequest(await pod.relay(port), "POST", BACKEND.api.login, {
            timeoutMs: 120_000,
            bodyInTwoParts: { first: body.slice(0, 10), rest: new Promise<string>((resolve) => { finish = () => resolve(body.slice(10)); }) },
        }).then((a) => a.status, (err: Error) => `failed: ${err.message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { answer, finish };
    };

    test("negative control: a bare SIGTERM makes nginx drop a request in flight (why the preStop hook exists)", async () => {
        const victim = await startFrontendPod("frontend-sigterm");
        const request = await inFlightLogin(victim.pod);
        process.kill(victim.nginx.pid!, "SIGTERM");
        await waitFor("nginx to exit on SIGTERM", () => victim.nginx.exitCode !== null || victim.nginx.signalCode !== null, 10_000);
        request.finish();
        expect(await request.answer).toMatch(/^failed: /);
    }, 60_000);

    /** The preStop hook of the last test, killed with the sandbox if the test fails half-way. */
    let hookProcess: ChildProcess | undefined;
    afterAll(() => {
        if (hookProcess && hookProcess.exitCode === null && hookProcess.signalCode === null) {
            hookProcess.kill("SIGKILL");
        }
    });

    test("stopped as the kubelet stops it (preStop hook, then SIGTERM), nginx lets a request in flight finish, within the grace period", async () => {
        const grace = podSpec.terminationGracePeriodSeconds as number;
        const wait = preStopWaitSeconds(container.lifecycle.preStop)!.seconds;
        const request = await inFlightLogin(frontend.pod);

        // The hook runs in the container: its namespaces, its user.
        const started = Date.now();
        hookProcess = spawn("nsenter", ["-t", String(frontend.nginx.pid), "-m", "-n", "--",
            "setpriv", `--reuid=${podSpec.securityContext.runAsUser}`, `--regid=${podSpec.securityContext.runAsGroup}`, "--clear-groups",
            ...container.lifecycle.preStop.exec.command], { stdio: "ignore" });
        // While the hook waits, new requests are still served (the endpoints may still send some).
        await new Promise((resolve) => setTimeout(resolve, 2000));
        expect((await frontend.pod.request(port, "GET", container.readinessProbe.httpGet.path)).status).toBe(200);
        // After the wait, nginx is stopping gracefully; the request in flight completes.
        await new Promise((resolve) => setTimeout(resolve, (wait + 1) * 1000));
        request.finish();
        expect(await request.answer).toBe(200);
        const hookCode = await new Promise<number | null>((resolve) => hookProcess!.on("exit", resolve));
        const hookSeconds = (Date.now() - started) / 1000;
        // Then the kubelet's SIGTERM finds nothing left to cut.
        try {
            process.kill(frontend.nginx.pid!, "SIGTERM");
        } catch {
            // already gone: nginx quit by itself
        }
        await waitFor("nginx to be gone", () => frontend.nginx.exitCode !== null || frontend.nginx.signalCode !== null, 10_000);
        expect({ hookCode, withinGrace: hookSeconds < grace }).toEqual({ hookCode: 0, withinGrace: true });    }, 120_000);
});
