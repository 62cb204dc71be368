// The local stack as the app contract tests read it: what the program's mock run records (the
// Deployments, their containers' environment with the stack's Secrets resolved, the database's
// flags), and the backend started from it in the sandbox exactly as its Deployment would run it.
// The backend contract (contract.test.ts) and the frontend contract (frontend.test.ts) share it.
import { ChildProcess, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { APP_RELEASE, BACKEND } from "../../app/kubepolaris";
import { ADMIN_PASSWORD_ENV } from "../../components/adminPassword";
import { RecordedResource } from "../../tools/mockRun";
import { PROJECT_DIR, runStack } from "../support/program";
import { TYPES } from "../support/types";
import { Pod, ProcessSpec, Sandbox } from "./sandbox";

export const STACK = "local";

export const component = (r: RecordedResource) => r.inputs.metadata?.labels?.["app.kubernetes.io/component"];

/** The container port a probe or Service names (by name or number). */
export const portNamed = (c: any, port: string | number): number =>
    typeof port === "number" ? port : c.ports.find((p: { name: string }) => p.name === port)?.containerPort;

/** The mount paths of a pod's writable emptyDirs, as the container mounts them. */
export function emptyDirMounts(podSpec: any): string[] {
    const volumes = new Map<string, any>((podSpec.volumes ?? []).map((v: any) => [v.name, v]));
    return (podSpec.containers[0].volumeMounts ?? [])
        .filter((m: any) => volumes.get(m.name)?.emptyDir !== undefined && !m.readOnly)
        .map((m: any) => m.mountPath as string);
}

/** The release's source: $KUBEPOLARIS_APP_SRC, else ../shared/vendor/kubepolaris-<version> beside the repo (as scripts/app/*.sh). */
export function appSource(): string {
    return process.env.KUBEPOLARIS_APP_SRC ?? path.join(PROJECT_DIR, "..", "shared", "vendor", `kubepolaris-${APP_RELEASE}`);
}

/** Builds a cached artefact with one of scripts/app/*.sh and returns the path it prints. */
export function buildApp(script: "backend.sh" | "frontend.sh"): string {
    const build = spawnSync("bash", [path.join(PROJECT_DIR, "scripts", "app", script)], { encoding: "utf8", timeout: 1_200_000 });
    if (build.status !== 0) {
        throw new Error(`scripts/app/${script} failed:\n${build.stderr}`);
    }
    return build.stdout.trim().split("\n").pop()!;
}

export class LocalStack {
    private constructor(readonly resources: RecordedResource[]) {}

    static async load(): Promise<LocalStack> {
        return new LocalStack((await runStack(STACK)).resources);
    }

    /** The one object of this type whose component label is `name`. */
    ofComponent(type: string, name: string): RecordedResource {
        const found = this.resources.find((r) => r.type === type && component(r) === name);
        if (!found) {
            throw new Error(`the ${STACK} stack creates no ${type} for component ${name}`);
        }
        return found;
    }

    podSpec(name: string): any {
        return this.ofComponent(TYPES.deployment, name).inputs.spec.template.spec;
    }

    /** A secretKeyRef resolved against the Secrets the stack creates (mock values for its secrets). */
    secretValue(ref: { name: string; key: string }): string {
        const secret = this.resources.find((r) => r.type === TYPES.secret && r.inputs.metadata.name === ref.name);
        const value = secret?.inputs.stringData?.[ref.key];
        if (typeof value !== "string") {
            throw new Error(`secretKeyRef ${ref.name}/${ref.key}: the stack creates no such Secret key`);
        }
        return value;
    }

    /** A file of a ConfigMap volume of the pod, as the stack creates the ConfigMap. */
    mountedScript(podSpec: any, file: string): string {
        const names = (podSpec.volumes ?? []).map((v: any) => v.configMap?.name).filter(Boolean);
        const configMap = this.resources.find((r) => r.type === TYPES.configMap && names.includes(r.inputs.metadata.name));
        const text = configMap?.inputs.data?.[file];
        if (typeof text !== "string") {
            throw new Error(`no ConfigMap volume of the pod holds ${file}`);
        }
        return text;
    }

    /** A container's environment as the kubelet gives it, with some values replaced (each must exist). */
    envOf(c: any, overrides: Record<string, string>): Record<string, string> {
        const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/" };
        for (const e of c.env ?? []) {
            env[e.name] = e.valueFrom?.secretKeyRef ? this.secretValue(e.valueFrom.secretKeyRef)
                : e.valueFrom?.fieldRef ? downwardValue(e.valueFrom.fieldRef.fieldPath) : e.value;
        }
        for (const [name, value] of Object.entries(overrides)) {
            if (!(name in env)) {
                throw new Error(`override of ${name}: the container sets no such variable`);
            }
            env[name] = value;
        }
        return env;
    }

    /**
     * Starts MariaDB with the settings and the application user the stack gives its database: the
     * one MySQL pod's flags, or the [mysqld] settings a Galera member's start script (the stack's
     * ConfigMap) writes, without its paths, addresses and replication (one server here; the real
     * nodes' test runs the three members with the backend).
     */
    async startDatabase(sandbox: Sandbox): Promise<void> {
        const statefulSet = this.resources.find((r) => r.type === TYPES.statefulSet && component(r) === "mysql")!.inputs;
        const mysql = statefulSet.spec.template.spec.containers[0];
        const mysqlEnv = this.envOf(mysql, {});
        // The server flags the program gives its MySQL (TLS, charset, connection limit), not its paths.
        const serverFlags = mysql.args
            ? (mysql.args as string[]).filter((a) => !/^--(datadir|port)=/.test(a))
            : galeraServerFlags(this.mountedScript(statefulSet.spec.template.spec, "start.sh"), mysqlEnv);
        await sandbox.startDatabase(serverFlags, { user: mysqlEnv.MYSQL_USER, password: mysqlEnv.MYSQL_PASSWORD, database: mysqlEnv.MYSQL_DATABASE });
    }

    /**
     * How the backend Deployment runs the binary: the image's WORKDIR (the binary, owned by root,
     * read-only to the app), the environment, UID, GID and writable paths of the Deployment.
     */
    backendSpec(sandbox: Sandbox, binary: string): ProcessSpec {
        const podSpec = this.podSpec("backend");
        const workdir = path.join(sandbox.dir, "app");
        if (!fs.existsSync(workdir)) {
            fs.mkdirSync(workdir, { mode: 0o755 });
            fs.copyFileSync(binary, path.join(workdir, "kubepolaris"));
            fs.chmodSync(path.join(workdir, "kubepolaris"), 0o755);
        }
        return {
            workingDir: workdir,
            command: ["./kubepolaris"],
            // The pod resolves the database Service's name; here the database is on the pod's loopback.
            env: this.envOf(podSpec.containers[0], { [BACKEND.env.dbHost]: "127.0.0.1" }),
            uid: podSpec.securityContext.runAsUser,
            gid: podSpec.securityContext.runAsGroup,
            writablePaths: emptyDirMounts(podSpec),
        };
    }

    /** The admin-password Job's container environment, its backend URL pointed at the pod's loopback. */
    adminJobEnv(): Record<string, string> {
        const jobContainer = this.ofComponent(TYPES.job, "admin-password").inputs.spec.template.spec.containers[0];
        // The Service's DNS name inside the cluster; here the backend is on the pod's loopback.
        return this.envOf(jobContainer, { [ADMIN_PASSWORD_ENV.backendUrl]: `http://127.0.0.1:${BACKEND.port}` });
    }

    /** Runs the admin-password Job's container, as the Job runs it, in a backend pod: its exit code and log. */
    async runAdminJob(sandbox: Sandbox, pod: Pod, attempt: string): Promise<{ code: number | null; log: string }> {
        const jobPod = this.ofComponent(TYPES.job, "admin-password").inputs.spec.template.spec;
        const spec: ProcessSpec = {
            workingDir: path.join(sandbox.dir, "app"), command: jobPod.containers[0].command, env: this.adminJobEnv(),
            uid: jobPod.securityContext.runAsUser, gid: jobPod.securityContext.runAsGroup, writablePaths: [],
        };
        const child = pod.exec(spec, `admin-job-${attempt}`);
        const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
        return { code, log: sandbox.logOf(`${pod.name}-admin-job-${attempt}`) };
    }

    /**
     * Starts one backend pod per name, all at once as the Deployment does, and waits until each
     * answers its startup probe. A backend that exits before it answers is started again, as the
     * kubelet restarts it: two 1.0.5 backends migrating an empty schema at once race (GORM checks
     * that a table is missing, then creates it; the loser exits with "Table 'users' already
     * exists"), and on the cluster the loser's restart is what makes the pair come up.
     */
    async startBackends(sandbox: Sandbox, spec: ProcessSpec, names: string[]): Promise<{ pods: Pod[]; processes: ChildProcess[] }> {
        const container = this.podSpec("backend").containers[0];
        const pods: Pod[] = [];
        const processes: ChildProcess[] = [];
        const answered = new Set<number>();
        const start = (i: number, restarts: number): ChildProcess => {
            const p = pods[i].exec(spec, "backend");
            p.on("exit", () => {
                if (!answered.has(i) && restarts < STARTUP_RESTARTS) {
                    processes[i] = start(i, restarts + 1);
                }
            });
            return p;
        };
        for (const name of names) {
            pods.push(await sandbox.pod(name, Number(spec.env[BACKEND.env.dbPort])));
            processes.push(start(pods.length - 1, 0));
        }
        // The first start migrates the schema: the startup probe's budget.
        const startup = container.startupProbe;
        const budgetMs = (startup.periodSeconds * startup.failureThreshold) * 1000;
        for (const [i, pod] of pods.entries()) {
            await pod.waitForHttp(portNamed(container, "http"), startup.httpGet.path, Math.min(budgetMs, 180_000), "backend");
            answered.add(i);
        }
        return { pods, processes };
    }
}

/** How often a backend that exits during its first start is started again (the kubelet would keep going, with a back-off). */
const STARTUP_RESTARTS = 3;

/** A downward-API value as the kubelet would give it to a pod run here. */
function downwardValue(fieldPath: string): string {
    switch (fieldPath) {
        case "status.podIP": return "127.0.0.1";
        case "metadata.name": return "sandbox-0";
        default: throw new Error(`fieldRef ${fieldPath}: not known to the sandbox`);
    }
}

/** The [mysqld] settings galera/start.sh writes, as mariadbd flags with the container's environment filled in; no paths, addresses or replication (wsrep_*). */
export function galeraServerFlags(startScript: string, env: Record<string, string>): string[] {
    const cnf = /cat > "\$RUN\/galera\.cnf" <<CNF\n([\s\S]*?)\nCNF\n/.exec(startScript)?.[1];
    const mysqld = cnf?.split(/^\[/m).find((section) => section.startsWith("mysqld]"));
    if (!mysqld) {
        throw new Error("the start script writes no [mysqld] section to galera.cnf");
    }
    return mysqld.split("\n").slice(1).map((line) => line.trim())
        .filter((line) => line && !line.startsWith("#"))
        .map((line) => /^([\w-]+)(?:=(.*))?$/.exec(line)!)
        .filter((m) => !/^(datadir|port|bind-address|socket|pid-file|wsrep_\w+)$/.test(m[1]))
        .map((m) => m[2] === undefined ? `--${m[1]}` : `--${m[1]}=${m[2].replace(/\$(\w+)/g, (_all, name: string) => {
            if (!(name in env)) {
                throw new Error(`galera.cnf's ${m[1]} reads $${name}, which the container does not set`);
            }
            return env[name];
        })}`);
}

