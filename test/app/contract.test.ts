// The app contract: the KubePolaris backend built from its release source, run twice against a
// real MariaDB exactly as the local stack's backend Deployment runs it (environment, port, UID,
// read-only working tree, writable paths), and the program's claims checked against the running
// processes: the Service's port answers, every probe path answers 200 (also with the database
// frozen: liveness and readiness do not depend on it), the JWT secret is shared,
// the database accepts the program's TLS setting, SIGTERM lets an in-flight request finish, and
// the admin-password Job's own script replaces the published password.
//
// Needs root, Go (the build), MariaDB, iproute2, util-linux and socat: `npm test` installs them
// (scripts/test-prereqs.sh). Skipped when they are missing, unless KUBEPOLARIS_REQUIRE_APP=1.
import { ChildProcess } from "child_process";
import * as fs from "fs";
import { APP_RELEASE, BACKEND } from "../../app/kubepolaris";
import { ADMIN_PASSWORD_ENV } from "../../components/adminPassword";
import { RecordedResource } from "../../tools/mockRun";
import { httpRequest, missingTools, Pod, ProcessSpec, Sandbox, waitFor } from "./sandbox";
import { buildApp, component, LocalStack, portNamed, STACK } from "./stack";
import { TYPES } from "../support/types";

const missing = process.getuid?.() === 0 ? missingTools() : ["root"];
const required = process.env.KUBEPOLARIS_REQUIRE_APP === "1";
const describeApp = missing.length === 0 || required ? describe : describe.skip;

describeApp(`the KubePolaris ${APP_RELEASE} backend, run as the ${STACK} stack deploys it`, () => {
    let sandbox: Sandbox;
    let stack: LocalStack;
    let resources: RecordedResource[];
    let pods: Pod[] = [];
    let backends: ChildProcess[] = [];
    let backendSpec: ProcessSpec;
    let container: any;
    let deployment: RecordedResource;

    const envOf = (c: any, overrides: Record<string, string>) => stack.envOf(c, overrides);
    /** The admin password in force: the stack's once the Job's script ran, the published one before. */
    const adminToken = async (pod: Pod) => {
        const job = resources.find((r) => r.type === TYPES.job && component(r) === "admin-password")!;
        const stackPassword = envOf(job.inputs.spec.template.spec.containers[0], {})[ADMIN_PASSWORD_ENV.newPassword];
        for (const password of [stackPassword, BACKEND.seededAdmin.password]) {
            const answer = await pod.request(BACKEND.port, "POST", BACKEND.api.login, { body: { username: BACKEND.seededAdmin.username, password } });
            const token = answer.status === 200 ? answer.body.match(/"token":"([^"]+)"/)?.[1] : undefined;
            if (token) {
                return { token, password };
            }
        }
        throw new Error(`${pod.name}: neither the stack's nor the published admin password logs in`);
    };

    beforeAll(async () => {
        if (missing.length > 0) {
            throw new Error(`KUBEPOLARIS_REQUIRE_APP=1 but missing: ${missing.join(", ")} (scripts/test-prereqs.sh installs them)`);
        }
        const binary = buildApp("backend.sh");
        stack = await LocalStack.load();
        resources = stack.resources;
        deployment = stack.ofComponent(TYPES.deployment, "backend");
        container = deployment.inputs.spec.template.spec.containers[0];

        sandbox = new Sandbox();
        await stack.startDatabase(sandbox);
        backendSpec = stack.backendSpec(sandbox, binary);
        ({ pods, processes: backends } = await stack.startBackends(sandbox, backendSpec, ["backend-a", "backend-b"]));
    }, 900_000);

    afterAll(async () => {
        await sandbox?.stop();
    });

    test("the Deployment runs the image's user with the release's writable paths only", () => {
        expect({ uid: backendSpec.uid, gid: backendSpec.gid }).toEqual({ uid: BACKEND.uid, gid: BACKEND.gid });
        expect(backendSpec.writablePaths).toEqual([...BACKEND.writablePaths]);
        expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
        // Nothing the backend wrote landed in its (read-only) working tree.
        expect(fs.readdirSync(backendSpec.workingDir!)).toEqual(["kubepolaris"]);
    });

    test("the port the Service targets answers", async () => {
        const service = resources.find((r) => r.type === TYPES.service && r.inputs.spec.selector?.["app.kubernetes.io/component"] === "backend")!;
        for (const servicePort of service.inputs.spec.ports) {
            const port = portNamed(container, servicePort.targetPort);
            expect({ targetPort: servicePort.targetPort, containerPort: port }).toEqual({ targetPort: servicePort.targetPort, containerPort: BACKEND.port });
            for (const pod of pods) {
                expect((await pod.request(port, "GET", BACKEND.livenessPath)).status).toBe(200);
            }
        }
    });

    test("every probe path of the Deployment answers 200 on the probe's port", async () => {
        const probes = ["startupProbe", "livenessProbe", "readinessProbe"].filter((p) => container[p]?.httpGet);
        expect(probes).toHaveLength(3);
        for (const probe of probes) {
            const { path: probePath, port } = container[probe].httpGet;
            for (const pod of pods) {
                const answer = await pod.request(portNamed(container, port), "GET", probePath);
                expect({ probe, path: probePath, pod: pod.name, status: answer.status }).toEqual({ probe, path: probePath, pod: pod.name, status: 200 });
            }
        }
    });

    test("every ServiceMonitor scrapes a path that exists (there is none: the backend has no /metrics)", async () => {
        const monitors = resources.filter((r) => r.type === TYPES.serviceMonitor);
        for (const endpoint of monitors.flatMap((m) => m.inputs.spec.endpoints)) {
            expect((await pods[0].request(portNamed(container, endpoint.port), "GET", endpoint.path ?? "/metrics")).status).toBe(200);
        }
        expect((await pods[0].request(BACKEND.port, "GET", "/metrics")).status).toBe(404);
        expect(monitors).toEqual([]);
    });

    test("the admin-password Job's script replaces the published password, on every backend, idempotently", async () => {
        const env = stack.adminJobEnv();
        const login = (pod: Pod, password: string) =>
            pod.request(BACKEND.port, "POST", BACKEND.api.login, { body: { username: env[ADMIN_PASSWORD_ENV.username], password } });

        expect(env[ADMIN_PASSWORD_ENV.seededPassword]).toBe(BACKEND.seededAdmin.password);
        expect((await login(pods[0], BACKEND.seededAdmin.password)).status).toBe(200);

        const runJob = (attempt: string) => stack.runAdminJob(sandbox, pods[0], attempt);
        const first = await runJob("1");
        expect(first).toEqual({ code: 0, log: expect.stringContaining("replaced the published admin password") });
        const second = await runJob("2");
        expect(second).toEqual({ code: 0, log: expect.stringContaining("already in place") });

        for (const pod of pods) {
            expect({ pod: pod.name, published: (await login(pod, BACKEND.seededAdmin.password)).status }).toEqual({ pod: pod.name, published: 401 });
            expect({ pod: pod.name, stack: (await login(pod, env[ADMIN_PASSWORD_ENV.newPassword])).status }).toEqual({ pod: pod.name, stack: 200 });
        }
    }, 120_000);

    test("a token issued by one backend is accepted by the other (one JWT secret for every replica)", async () => {
        const { token } = await adminToken(pods[0]);
        expect((await pods[1].request(BACKEND.port, "GET", BACKEND.api.me, { token })).status).toBe(200);
        expect((await pods[1].request(BACKEND.port, "GET", BACKEND.api.me, { token: `${token}x` })).status).toBe(401);
    });

    test("the database accepts the backend with the program's TLS setting; requiring TLS would lock it out", async () => {
        // One MySQL pod sets the flag; a Galera member's settings (galera/start.sh) leave the server's default, OFF.
        const args = resources.find((r) => r.type === TYPES.statefulSet)!.inputs.spec.template.spec.containers[0].args as string[] | undefined;
        const flag = args ? args.find((a) => a.startsWith("--require-secure-transport=")) : "--require-secure-transport=OFF";
        expect(flag).toBe(`--require-secure-transport=${BACKEND.supportsDatabaseTls ? "ON" : "OFF"}`);
        expect(sandbox.sql(["SELECT @@require_secure_transport"]).trim()).toBe("0");
        // Both backends hold live connections (they answered logins above).
        expect(Number(sandbox.sql(["SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER <> 'root' AND USER <> 'system user'"]).trim()))
            .toBeGreaterThan(0);

        // The guide's setting (RDS require_secure_transport=ON): a third backend cannot start.
        sandbox.sql(["SET GLOBAL require_secure_transport = ON"]);
        try {
            const pod = await sandbox.pod("backend-tls", Number(backendSpec.env[BACKEND.env.dbPort]));
            const child = pod.exec(backendSpec, "backend");
            const code = await new Promise<number | null>((resolve) => {
                const timer = setTimeout(() => resolve(null), 60_000);
                child.on("exit", (c) => { clearTimeout(timer); resolve(c); });
            });
            expect(code).not.toBe(0);
            expect(code).not.toBeNull();
            // MySQL says 3159 (insecure transport prohibited); MariaDB answers an insecure client 1045.
            expect(sandbox.logOf("backend-tls-backend")).toMatch(/连接MySQL服务器失败: Error (3159|1045)/);
        } finally {
            sandbox.sql(["SET GLOBAL require_secure_transport = OFF"]);
        }
    }, 120_000);

    test("with the database frozen, liveness and readiness still answer within their timeouts (no restarts, no outage)", async () => {
        const pod = pods[0];
        const { password } = await adminToken(pod);
        sandbox.freezeDatabase(true);
        try {
            // The freeze is real: a call that needs the database does not answer.
            await expect(pod.request(BACKEND.port, "POST", BACKEND.api.login,
                { body: { username: BACKEND.seededAdmin.username, password }, timeoutMs: 3000 })).rejects.toThrow(/timed out/);
            for (const probe of ["livenessProbe", "readinessProbe"]) {
                const { path: probePath, port } = container[probe].httpGet;
                const timeoutMs = container[probe].timeoutSeconds * 1000;
                const answer = await pod.request(portNamed(container, port), "GET", probePath, { timeoutMs });
                expect({ probe, path: probePath, status: answer.status }).toEqual({ probe, path: probePath, status: 200 });
            }
        } finally {
            sandbox.freezeDatabase(false);
        }
        // And it recovers by itself once the database is back.
        expect((await pod.request(BACKEND.port, "POST", BACKEND.api.login,
            { body: { username: BACKEND.seededAdmin.username, password }, timeoutMs: 30_000 })).status).toBe(200);
    }, 120_000);

    test("SIGTERM lets an in-flight request finish and the process exit well within the grace period", async () => {
        const grace = deployment.inputs.spec.template.spec.terminationGracePeriodSeconds as number;
        const preStop = container.lifecycle.preStop.sleep.seconds as number;
        const pod = pods[1];
        const socket = await pod.relay(BACKEND.port);
        const { password } = await adminToken(pod);
        const body = JSON.stringify({ username: BACKEND.seededAdmin.username, password });
        let sendRest!: (s: string) => void;
        const inFlight = httpRequest(socket, "POST", BACKEND.api.login, {
            bodyInTwoParts: { first: body.slice(0, 10), rest: new Promise<string>((resolve) => { sendRest = resolve; }) },
        });
        await new Promise((resolve) => setTimeout(resolve, 500));

        const backend = backends[1];
        const exited = new Promise<number>((resolve) => backend.on("exit", () => resolve(Date.now())));
        const signalled = Date.now();
        // The kubelet signals the container's main process. ip, unshare, sh, setpriv and env each
        // exec the next, so the process started is the backend itself.
        expect(fs.readFileSync(`/proc/${backend.pid}/comm`, "utf8").trim()).toBe("kubepolaris");
        process.kill(backend.pid!, "SIGTERM");
        await new Promise((resolve) => setTimeout(resolve, 1000));
        sendRest(body.slice(10));
        const answer = await inFlight;
        expect(answer.status).toBe(200);
        const exitedAt = await exited;
        const seconds = (exitedAt - signalled) / 1000;
        expect(seconds).toBeLessThanOrEqual(BACKEND.shutdownDrainSeconds + 1);
        expect(preStop + seconds).toBeLessThan(grace);
        await waitFor("the backend to be gone", () => backend.exitCode !== null || backend.signalCode !== null, 5000);
    }, 60_000);
});
