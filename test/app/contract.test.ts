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
import { ChildProcess, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { APP_RELEASE, BACKEND } from "../../app/kubepolaris";
import { ADMIN_PASSWORD_ENV } from "../../components/adminPassword";
import { RecordedResource } from "../../tools/mockRun";
import { PROJECT_DIR, runStack } from "../support/program";
import { httpRequest, missingTools, Pod, ProcessSpec, Sandbox, waitFor } from "./sandbox";
import { TYPES } from "../support/types";

const STACK = "local";

const missing = process.getuid?.() === 0 ? missingTools() : ["root"];
const required = process.env.KUBEPOLARIS_REQUIRE_APP === "1";
const describeApp = missing.length === 0 || required ? describe : describe.skip;

describeApp(`the KubePolaris ${APP_RELEASE} backend, run as the ${STACK} stack deploys it`, () => {
    let sandbox: Sandbox;
    let resources: RecordedResource[];
    const pods: Pod[] = [];
    const backends: ChildProcess[] = [];
    let backendSpec: ProcessSpec;
    let container: any;
    let deployment: RecordedResource;

    const component = (r: RecordedResource) => r.inputs.metadata?.labels?.["app.kubernetes.io/component"];
    /** A secretKeyRef resolved against the Secrets the stack creates (mock values for its secrets). */
    const secretValue = (ref: { name: string; key: string }) => {
        const secret = resources.find((r) => r.type === TYPES.secret && r.inputs.metadata.name === ref.name);
        const value = secret?.inputs.stringData?.[ref.key];
        if (typeof value !== "string") {
            throw new Error(`secretKeyRef ${ref.name}/${ref.key}: the stack creates no such Secret key`);
        }
        return value;
    };
    const envOf = (c: any, overrides: Record<string, string>) => {
        const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/" };
        for (const e of c.env ?? []) {
            env[e.name] = e.valueFrom ? secretValue(e.valueFrom.secretKeyRef) : e.value;
        }
        for (const [name, value] of Object.entries(overrides)) {
            if (!(name in env)) {
                throw new Error(`override of ${name}: the container sets no such variable`);
            }
            env[name] = value;
        }
        return env;
    };
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
    const portNamed = (c: any, port: string | number) =>
        typeof port === "number" ? port : c.ports.find((p: { name: string }) => p.name === port)?.containerPort;

    beforeAll(async () => {
        if (missing.length > 0) {
            throw new Error(`KUBEPOLARIS_REQUIRE_APP=1 but missing: ${missing.join(", ")} (scripts/test-prereqs.sh installs them)`);
        }
        const build = spawnSync("bash", [path.join(PROJECT_DIR, "scripts", "app", "backend.sh")], { encoding: "utf8", timeout: 900_000 });
        if (build.status !== 0) {
            throw new Error(`scripts/app/backend.sh failed:\n${build.stderr}`);
        }
        const binary = build.stdout.trim().split("\n").pop()!;

        resources = (await runStack(STACK)).resources;
        deployment = resources.find((r) => r.type === TYPES.deployment && component(r) === "backend")!;
        const podSpec = deployment.inputs.spec.template.spec;
        container = podSpec.containers[0];
        const mysql = resources.find((r) => r.type === TYPES.statefulSet && component(r) === "mysql")!.inputs.spec.template.spec.containers[0];
        const mysqlEnv = envOf(mysql, {});

        sandbox = new Sandbox();
        // The server flags the program gives its MySQL (TLS, charset, connection limit), not its paths.
        const serverFlags = (mysql.args as string[]).filter((a) => !/^--(datadir|port)=/.test(a));
        await sandbox.startDatabase(serverFlags, { user: mysqlEnv.MYSQL_USER, password: mysqlEnv.MYSQL_PASSWORD, database: mysqlEnv.MYSQL_DATABASE });

        // The image's WORKDIR: the binary and the release's configs/, owned by root (read-only to the app).
        const workdir = path.join(sandbox.dir, "app");
        fs.mkdirSync(workdir, { mode: 0o755 });
        fs.copyFileSync(binary, path.join(workdir, "kubepolaris"));
        fs.chmodSync(path.join(workdir, "kubepolaris"), 0o755);
        const env = envOf(container, {
            // The pod resolves the database Service's name; here the database is on the pod's loopback.
            [BACKEND.env.dbHost]: "127.0.0.1",
        });
        const volumes = new Map<string, any>((podSpec.volumes ?? []).map((v: any) => [v.name, v]));
        const writablePaths = (container.volumeMounts ?? [])
            .filter((m: any) => volumes.get(m.name)?.emptyDir !== undefined && !m.readOnly)
            .map((m: any) => m.mountPath as string);
        backendSpec = {
            workingDir: workdir,
            command: ["./kubepolaris"],
            env,
            uid: podSpec.securityContext.runAsUser,
            gid: podSpec.securityContext.runAsGroup,
            writablePaths,
        };
        for (const name of ["backend-a", "backend-b"]) {
            const pod = await sandbox.pod(name, Number(env[BACKEND.env.dbPort]));
            pods.push(pod);
            backends.push(pod.exec(backendSpec, "backend"));
        }
        const port = portNamed(container, "http");
        // The first start migrates the schema: the startup probe's budget.
        const startup = container.startupProbe;
        const budgetMs = (startup.periodSeconds * startup.failureThreshold) * 1000;
        for (const pod of pods) {
            await pod.waitForHttp(port, startup.httpGet.path, Math.min(budgetMs, 180_000), "backend");
        }
    }, 900_000);

    afterAll(async () => {
        await sandbox?.stop();
    });

    test("the Deployment runs the image's user with the release's writable paths only", () => {
        expect({ uid: backendSpec.uid, gid: backendSpec.gid }).toEqual({ uid: BACKEND.uid, gid: BACKEND.gid });
        expect(backendSpec.writablePaths).toEqual([...BACKEND.writablePaths]);
        expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
        // Nothing the backend wrote landed in its (read-only) working tree.
        expect(fs.readdirSync(backendSpec.workingDir)).toEqual(["kubepolaris"]);
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
        const job = resources.find((r) => r.type === TYPES.job && component(r) === "admin-password")!;
        const jobPod = job.inputs.spec.template.spec;
        const jobContainer = jobPod.containers[0];
        // The Service's DNS name inside the cluster; here the backend is on the pod's loopback.
        const env = envOf(jobContainer, { [ADMIN_PASSWORD_ENV.backendUrl]: `http://127.0.0.1:${BACKEND.port}` });
        const login = (pod: Pod, password: string) =>
            pod.request(BACKEND.port, "POST", BACKEND.api.login, { body: { username: env[ADMIN_PASSWORD_ENV.username], password } });

        expect(env[ADMIN_PASSWORD_ENV.seededPassword]).toBe(BACKEND.seededAdmin.password);
        expect((await login(pods[0], BACKEND.seededAdmin.password)).status).toBe(200);

        const runJob = async (attempt: string) => {
            const spec: ProcessSpec = {
                workingDir: path.join(sandbox.dir, "app"), command: jobContainer.command, env,
                uid: jobPod.securityContext.runAsUser, gid: jobPod.securityContext.runAsGroup, writablePaths: [],
            };
            const child = pods[0].exec(spec, `admin-job-${attempt}`);
            const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
            return { code, log: sandbox.logOf(`backend-a-admin-job-${attempt}`) };
        };
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
        const flag = (resources.find((r) => r.type === TYPES.statefulSet)!.inputs.spec.template.spec.containers[0].args as string[])
            .find((a) => a.startsWith("--require-secure-transport="));
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
