// The program against what the app really does (app/kubepolaris.ts, proven by test/app): every
// stack's manifests use the paths, ports, users, variables and writable directories the pinned
// release serves, and the config refuses settings the app cannot honour. The same definitions
// drive the contract test, so a change to the app is made in one place.
import { APP_RELEASE, BACKEND, FRONTEND } from "../app/kubepolaris";
import { ADMIN_PASSWORD_ENV, ADMIN_SECRET_KEYS } from "../components/adminPassword";
import { parseConfig } from "../config";
import { RecordedResource } from "../tools/mockRun";
import { configProblems, isSecretInput, peakPods, runStack, serverMaxConnections, STACKS, stackValues } from "./support/program";
import { TYPES } from "./support/types";
import { findDirectives, hostsResolvedAtStart, parseNginxConf } from "./support/nginxConf";


const component = (r: RecordedResource) => r.inputs.metadata?.labels?.["app.kubernetes.io/component"];
const podSpecOf = async (stack: string, type: string, name: string) =>
    (await runStack(stack)).ofType(type).find((r) => component(r) === name)!.inputs.spec.template.spec;

const problems = configProblems;

/** The frontend container, the nginx.conf the stack mounts into it, and where it is mounted. */
async function frontendNginxConf(stack: string): Promise<{ container: any; text: string; mountPath: string }> {
    const program = await runStack(stack);
    const spec = program.ofType(TYPES.deployment).find((r) => component(r) === "frontend")!.inputs.spec.template.spec;
    const container = spec.containers[0];
    const configVolumes = spec.volumes.filter((v: any) => v.configMap);
    expect(configVolumes).toHaveLength(1);
    const mount = container.volumeMounts.find((m: any) => m.name === configVolumes[0].name);
    const configMap = program.ofType(TYPES.configMap).find((r) => r.inputs.metadata.name === configVolumes[0].configMap.name);
    if (!configMap) {
        throw new Error(`the frontend mounts ConfigMap ${configVolumes[0].configMap.name}, which the stack does not create`);
    }
    return { container, text: configMap.inputs.data["nginx.conf"], mountPath: mount.mountPath };
}

describe("a stack that names its Grafana", () => {
    const grafanaUrl = "http://grafana.monitoring.svc.cluster.local:80";
    const run = () => runStack("dev", { "kubepolaris:monitoring": JSON.stringify({ grafana: { url: grafanaUrl } }) });

    test("/grafana/ is proxied with the name resolved per request, so a missing Grafana never stops nginx", async () => {
        const program = await run();
        const configMap = program.ofType(TYPES.configMap).find((r) => r.inputs.data?.["nginx.conf"])!;
        const conf = parseNginxConf(configMap.inputs.data["nginx.conf"]);
        const location = findDirectives(conf, "location").find(({ directive }) => directive.args.includes(FRONTEND.grafanaPrefix))!.directive;
        const directives = Object.fromEntries(location.children!.map((d) => [d.name, d.args]));
        expect(directives.resolver[0]).toBe("kube-dns.kube-system.svc.cluster.local");
        expect(directives.proxy_pass[0]).toMatch(/^\$/);
        expect(directives.set).toEqual([directives.proxy_pass[0], grafanaUrl]);
        // Not among the names nginx needs at start.
        expect(hostsResolvedAtStart(conf).some((host) => host.startsWith("grafana"))).toBe(false);
    });

    test("the frontend's NetworkPolicy lets it reach Grafana's namespace on Grafana's port, and nothing else new", async () => {
        const policies = (await run()).ofType(TYPES.networkPolicy);
        const grafana = policies.find((p) => p.inputs.metadata.name === "allow-frontend-to-grafana")!;
        expect(grafana.inputs.spec.podSelector.matchLabels["app.kubernetes.io/component"]).toBe("frontend");
        expect(grafana.inputs.spec.egress).toEqual([{
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
            ports: [{ protocol: "TCP", port: 80 }],
        }]);
        expect((await runStack("dev")).ofType(TYPES.networkPolicy).some((p) => p.inputs.metadata.name === "allow-frontend-to-grafana")).toBe(false);
    });
});

describe.each(STACKS)("stack %s", (stack) => {
    test(`images are the ${APP_RELEASE} release the contract test builds`, () => {
        const config = parseConfig(stackValues(stack));
        // The cloud stacks run mirror digests of these upstream pins (docs/images.md).
        for (const image of config.imageMirror?.images.map((i) => i.source) ?? [config.backend.image, config.frontend.image]) {
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

    test("backend and frontend run as their images' users, writable only where they write", async () => {
        const backend = await podSpecOf(stack, TYPES.deployment, "backend");
        const frontend = await podSpecOf(stack, TYPES.deployment, "frontend");
        for (const [spec, app] of [[backend, BACKEND], [frontend, FRONTEND]] as const) {
            expect(spec.securityContext).toMatchObject({ runAsUser: app.uid, runAsGroup: app.gid, runAsNonRoot: true });
            expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
        }
        const writable = (spec: any) => spec.containers[0].volumeMounts
            .filter((m: any) => spec.volumes.find((v: any) => v.name === m.name)?.emptyDir !== undefined)
            .map((m: { mountPath: string }) => m.mountPath);
        expect(writable(backend)).toEqual([...BACKEND.writablePaths]);
        // Every path the frontend's nginx writes (pid, temp files) is on one of its emptyDirs.
        const conf = parseNginxConf((await frontendNginxConf(stack)).text);
        const written = [
            ...findDirectives(conf, "pid"),
            ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].flatMap((kind) => findDirectives(conf, `${kind}_temp_path`)),
        ].map(({ directive }) => directive.args[0]);
        expect(written).toHaveLength(6);
        for (const file of written) {
            expect({ file, onEmptyDir: writable(frontend).some((dir: string) => file.startsWith(`${dir}/`)) }).toEqual({ file, onEmptyDir: true });
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

    test("frontend: nginx runs the stack's own configuration, never the image's baked one", async () => {
        const { container, text, mountPath } = await frontendNginxConf(stack);
        // The image's CMD would read /etc/nginx/nginx.conf, which proxies to names no stack creates.
        expect(container.command?.slice(0, 3)).toEqual([FRONTEND.nginxBinary, "-c", `${mountPath}/nginx.conf`]);
        const conf = parseNginxConf(text);
        expect(findDirectives(conf, "listen").map(({ directive }) => Number(directive.args[0]))).toEqual([FRONTEND.port]);
        expect(findDirectives(conf, "root").map(({ directive }) => directive.args[0])).toEqual([FRONTEND.siteRoot]);
    });

    test("frontend: nginx resolves at start only Services the stack creates, so it cannot crash-loop on a missing one", async () => {
        const program = await runStack(stack);
        const namespace = parseConfig(stackValues(stack)).namespace;
        const created = program.ofType(TYPES.service).flatMap((s) => {
            const name = s.inputs.metadata.name;
            return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
        });
        const hosts = hostsResolvedAtStart(parseNginxConf((await frontendNginxConf(stack)).text));
        expect(hosts.length).toBeGreaterThan(0);
        for (const host of hosts) {
            expect({ host, createdByTheStack: created.includes(host) }).toEqual({ host, createdByTheStack: true });
        }
        // The one it proxies the API to is the backend's.
        const backendService = program.ofType(TYPES.service).find((s) => s.inputs.spec.selector?.["app.kubernetes.io/component"] === "backend")!;
        expect(hosts).toEqual([`${backendService.inputs.metadata.name}.${namespace}.svc`]);
    });

    test("frontend: /grafana/ answers 404 when the stack names no Grafana (the UI stays up without one)", async () => {
        const config = parseConfig(stackValues(stack));
        const conf = parseNginxConf((await frontendNginxConf(stack)).text);
        const grafana = findDirectives(conf, "location").find(({ directive }) => directive.args.includes(FRONTEND.grafanaPrefix))!.directive;
        const directives = Object.fromEntries(grafana.children!.map((d) => [d.name, d.args]));
        expect(config.monitoring.grafana).toBeUndefined();
        expect(directives.return?.[0]).toBe("404");
        expect(directives.proxy_pass).toBeUndefined();
    });

    // The backend opens up to its full pool (app/kubepolaris.ts: hard-coded, proven by test/app) in
    // every pod; a server refusing connections at the peak breaks logins on the newest pods.
    test("the database server accepts every backend pod's full pool at the peak (HPA maximum plus rollout surge), with room left for replication, probes and an operator", async () => {
        const program = await runStack(stack);
        const pools = BACKEND.dbPool.maxOpenConns * peakPods(program, "backend");
        // Other clients of the server: each read replica's replication thread on the writer, the
        // in-cluster MySQL's readiness and liveness probes, one operator's session.
        const replicas = program.ofType(TYPES.rds).filter((r) => r.inputs.replicateSourceDb !== undefined).length;
        const probes = program.ofType("kubernetes:apps/v1:StatefulSet").length * 2;
        expect(serverMaxConnections(program) - pools).toBeGreaterThanOrEqual(replicas + probes + 1);
        expect(parseConfig(stackValues(stack)).database.requireTls).toBe(false);
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

    test("a Grafana URL nginx could not resolve per request (not a fully qualified Service name, or with a path)", () => {
        for (const url of ["http://grafana:3000", "http://grafana.monitoring.svc:3000", "http://grafana.monitoring.svc.cluster.local:3000/grafana", "grafana.monitoring.svc.cluster.local"]) {
            expect(problems(stackValues("dev", { monitoring: { grafana: { url } } }))).toEqual([
                expect.stringMatching(new RegExp(`^kubepolaris:monitoring\\.grafana\\.url: got "${url.replace(/[./]/g, "\\$&")}"; allowed: http://<service>\\.<namespace>\\.svc\\.<cluster domain>:<port>`)),
            ]);
        }
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
