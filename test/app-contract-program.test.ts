// The program against what the app really does (app/kubepolaris.ts, proven by test/app): every
// stack's manifests use the paths, ports, users, variables and writable directories the pinned
// release serves, and the config refuses settings the app cannot honour. The same definitions
// drive the contract test, so a change to the app is made in one place.
import { APP_RELEASE, BACKEND, FRONTEND } from "../app/kubepolaris";
import { ADMIN_PASSWORD_ENV, ADMIN_SECRET_KEYS } from "../components/adminPassword";
import { DB_RESERVED_CONNECTIONS, parseConfig } from "../config";
import { RecordedResource } from "../tools/mockRun";
import { configProblems, isSecretInput, runStack, STACKS, stackValues } from "./support/program";
import { TYPES } from "./support/types";


const component = (r: RecordedResource) => r.inputs.metadata?.labels?.["app.kubernetes.io/component"];
const podSpecOf = async (stack: string, type: string, name: string) =>
    (await runStack(stack)).ofType(type).find((r) => component(r) === name)!.inputs.spec.template.spec;

const problems = configProblems;

describe.each(STACKS)("stack %s", (stack) => {
    test(`images are the ${APP_RELEASE} release the contract test builds`, () => {
        const config = parseConfig(stackValues(stack));
        for (const image of [config.backend.image, config.frontend.image]) {
            expect(image).toMatch(new RegExp(`:v${APP_RELEASE.replace(/\./g, "\\.")}$`));
        }
    });

    test("backend: probes on the paths the app serves, liveness apart from readiness, on the port the server listens on", async () => {
        const c = (await podSpecOf(stack, TYPES.deployment, "backend")).containers[0];
        expect(c.ports).toEqual([expect.objectContaining({ containerPort: BACKEND.port, protocol: "TCP" })]);
        // What each probe reaches: the path, and the port number its (named) port resolves to.
        const reaches = (probe: any) => ({
            path: probe.httpGet.path,
            port: c.ports.find((p: any) => p.name === probe.httpGet.port || p.containerPort === probe.httpGet.port)?.containerPort,
        });
        expect(reaches(c.livenessProbe)).toEqual({ path: BACKEND.livenessPath, port: BACKEND.port });
        expect(reaches(c.readinessProbe)).toEqual({ path: BACKEND.readinessPath, port: BACKEND.port });
        expect(reaches(c.startupProbe)).toEqual({ path: BACKEND.livenessPath, port: BACKEND.port });
    });

    test("backend: the variables the server reads, and none it ignores", async () => {
        const c = (await podSpecOf(stack, TYPES.deployment, "backend")).containers[0];
        const names = c.env.map((e: { name: string }) => e.name).sort();
        expect(names).toEqual(Object.values(BACKEND.env).sort());
        const value = (name: string) => c.env.find((e: { name: string }) => e.name === name);
        expect(value(BACKEND.env.port).value).toBe(String(BACKEND.port));
        // Credentials only by reference to a Secret.
        expect(value(BACKEND.env.dbPassword).valueFrom.secretKeyRef).toBeDefined();
        expect(value(BACKEND.env.jwtSecret).valueFrom.secretKeyRef).toBeDefined();
    });

    test("backend and frontend run as their images' users, writable only where the images write", async () => {
        for (const [name, app] of [["backend", BACKEND], ["frontend", FRONTEND]] as const) {
            const spec = await podSpecOf(stack, TYPES.deployment, name);
            expect(spec.securityContext).toMatchObject({ runAsUser: app.uid, runAsGroup: app.gid, runAsNonRoot: true });
            const c = spec.containers[0];
            expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
            expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual([...app.writablePaths]);
        }
    });

    test("backend: the grace period covers the preStop wait and the server's own drain, and is sized from it (not a WebSocket wait the server never does)", async () => {
        const spec = await podSpecOf(stack, TYPES.deployment, "backend");
        const preStop = spec.containers[0].lifecycle.preStop.sleep.seconds;
        expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + BACKEND.shutdownDrainSeconds);
        // The process exits within drain + 1 s of SIGTERM (test/app measures it); Go's Shutdown does not
        // wait for WebSockets, so seconds beyond twice the drain would only delay node drains and rollouts.
        expect(spec.terminationGracePeriodSeconds).toBeLessThanOrEqual(preStop + 2 * BACKEND.shutdownDrainSeconds);
    });

    test("frontend: nginx on the image's port 80, bound without capabilities through the unprivileged-port sysctl", async () => {
        const spec = await podSpecOf(stack, TYPES.deployment, "frontend");
        const c = spec.containers[0];
        expect(c.ports).toEqual([{ name: "http", containerPort: FRONTEND.port, protocol: "TCP" }]);
        expect(c.readinessProbe.httpGet).toEqual({ path: FRONTEND.healthPath, port: "http" });
        expect(c.securityContext.capabilities).toEqual({ drop: ["ALL"] });
        expect(spec.securityContext.sysctls).toEqual([{ name: "net.ipv4.ip_unprivileged_port_start", value: String(FRONTEND.port) }]);
    });

    test("the backend Service has the name the frontend image proxies to", async () => {
        const services = (await runStack(stack)).ofType("kubernetes:core/v1:Service").map((s) => s.inputs.metadata.name);
        expect(services).toContain(FRONTEND.backendServiceName);
    });

    test("max_connections is sized from the backend's real pool (100 per pod) at the HPA maximum plus surge", () => {
        const config = parseConfig(stackValues(stack));
        expect(config.database.maxConnections).toBe(BACKEND.dbPool.maxOpenConns * (config.backend.maxReplicas + 1) + DB_RESERVED_CONNECTIONS);
        expect(config.database.requireTls).toBe(false);
    });

    test("the published admin password is replaced by a Job with the stack's secret password", async () => {
        const program = await runStack(stack);
        const job = program.ofType(TYPES.job).find((r) => component(r) === "admin-password")!;
        expect(job).toBeDefined();
        const spec = job.inputs.spec.template.spec;
        const c = spec.containers[0];
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
        expect(Object.keys(env).sort()).toEqual(Object.values(ADMIN_PASSWORD_ENV).sort());
        for (const name of [ADMIN_PASSWORD_ENV.newPassword, ADMIN_PASSWORD_ENV.seededPassword]) {
            expect(env[name].valueFrom.secretKeyRef).toBeDefined();
        }
        // It runs after the backend is available.
        const backend = program.ofType(TYPES.deployment).find((r) => component(r) === "backend")!;
        const adminComponent = program.resources.find((r) => r.urn === job.parent)!;
        expect(adminComponent.dependencies.concat(job.dependencies).some((urn) => urn === backend.urn || urn === backend.parent)).toBe(true);
        // The password is a secret in the Secret and in the stack output.
        const secret = program.ofType(TYPES.secret).find((r) => r.inputs.metadata.name === env[ADMIN_PASSWORD_ENV.newPassword].valueFrom.secretKeyRef.name)!;
        expect(isSecretInput(secret, `stringData.${ADMIN_SECRET_KEYS.password}`)).toBe(true);
        expect(program.outputs.adminPassword.secret).toBe(true);
        expect(program.outputs.adminPassword.value).not.toBe(BACKEND.seededAdmin.password);
        expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: BACKEND.uid });
    });

    test("the network lets the Job reach the backend's port, and nothing else new", async () => {
        const policies = (await runStack(stack)).ofType(TYPES.networkPolicy).map((p) => p.inputs);
        const job = (p: any) => p.spec.podSelector.matchLabels?.["app.kubernetes.io/component"] === "admin-password";
        const egress = policies.filter(job);
        expect(egress).toHaveLength(1);
        expect(egress[0].spec.egress[0].ports).toEqual([{ protocol: "TCP", port: BACKEND.port }]);
        const ingress = policies.filter((p) => p.spec.ingress?.some((rule: any) => rule.from?.some((f: any) => f.podSelector?.matchLabels?.["app.kubernetes.io/component"] === "admin-password")));
        expect(ingress.map((p) => p.spec.podSelector.matchLabels["app.kubernetes.io/component"])).toEqual(["backend"]);
    });
});

describe("settings the app cannot honour are refused, naming the key and why", () => {
    test("a database pool (the backend fixes its own)", () => {
        const current = JSON.parse(stackValues("dev").values.database);
        expect(problems(stackValues("dev", { database: { ...current, pool: { maxOpenConns: 50 } } }))).toEqual([
            expect.stringMatching(/^kubepolaris:database\.pool: got \{"maxOpenConns":50\}; allowed: nothing: the backend's pool is fixed in its code \(100 open, 10 idle, 3600 s lifetime\)/),
        ]);
    });

    test("TLS required to the database (the backend's DSN cannot do TLS)", () => {
        const current = JSON.parse(stackValues("prod").values.database);
        expect(problems(stackValues("prod", { database: { ...current, requireTls: true } }))).toEqual([
            expect.stringMatching(/^kubepolaris:database\.requireTls: got true; allowed: false: the backend's MySQL DSN has no TLS option/),
        ]);
    });

    test("the same path for liveness and readiness, and a path that is not one", () => {
        expect(problems(stackValues("dev", { probes: { backend: { liveness: "/readyz" }, frontend: { readiness: "health" } } }))).toEqual([
            'kubepolaris:probes.frontend.readiness: got "health"; allowed: an absolute HTTP path such as /healthz (printable ASCII, no spaces)',
            'kubepolaris:probes.backend.readiness: got "/readyz"; allowed: a path other than probes.backend.liveness (/readyz)',
        ]);
    });

    test("probe paths for another image are taken", () => {
        const config = parseConfig(stackValues("dev", { probes: { backend: { liveness: "/livez", readiness: "/ready" } } }));
        expect(config.probePaths.backend).toEqual({ liveness: "/livez", readiness: "/ready" });
    });

    test("a release name the frontend image cannot find its backend under", () => {
        expect(problems(stackValues("dev", { release: "polaris" }))).toEqual([
            expect.stringMatching(/^kubepolaris:release: got "polaris"; allowed: "kubepolaris": the frontend image's nginx resolves kubepolaris-backend/),
        ]);
    });

    test("an in-cluster database stack without its own admin password (it has no random provider)", () => {
        const raw = stackValues("local");
        const secretKeys = new Set([...raw.secretKeys].filter((k) => k !== "adminPassword"));
        const { adminPassword: _dropped, ...values } = raw.values;
        void _dropped;
        expect(problems({ ...raw, values, secretKeys })).toEqual([
            expect.stringMatching(/^kubepolaris:adminPassword: got nothing \(the key is not set\); allowed: a secret/),
        ]);
    });
});
