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

    /** A container's environment as the kubelet gives it, with some values replaced (each must exist). */
    envOf(c: any, overrides: Record<string, string>): Record<string, string> {
        const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/" };
        for (const e of c.env ?? []) {
            env[e.name] = e.valueFrom ? this.secretValue(e.valueFrom.secretKeyRef) : e.value;
        }
        for (const [name, value] of Object.entries(overrides)) {
            if (!(name in env)) {
                throw new Error(`override of ${name}: the container sets no such variable`);
            }
            env[name] = value;
        }
        return env;
    }

    /** Starts MariaDB with the flags and the application user the stack gives its MySQL. */
    async startDatabase(sandbox: Sandbox): Promise<void> {
        const mysql = this.resources.find((r) => r.type === TYPES.statefulSet && component(r) === "mysql")!.inputs.spec.template.spec.containers[0];
        const mysqlEnv = this.envOf(mysql, {});
        // The server flags the program gives its MySQL (TLS, charset, connection limit), not its paths.
        const serverFlags = (mysql.args as string[]).filter((a) => !/^--(datadir|port)=/.test(a));
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

    /** Starts one backend pod per name and waits until each answers its startup probe. */
    async startBackends(sandbox: Sandbox, spec: ProcessSpec, names: string[]): Promise<{ pods: Pod[]; processes: ChildProcess[] }> {
        const container = this.podSpec("backend").containers[0];
        const pods: Pod[] = [];
        const processes: ChildProcess[] = [];
        for (const name of names) {
            const pod = await sandbox.pod(name, Number(spec.env[BACKEND.env.dbPort]));
            pods.push(pod);
            processes.push(pod.exec(spec, "backend"));
        }
        // The first start migrates the schema: the startup probe's budget.
        const startup = container.startupProbe;
        const budgetMs = (startup.periodSeconds * startup.failureThreshold) * 1000;
        for (const pod of pods) {
            await pod.waitForHttp(portNamed(container, "http"), startup.httpGet.path, Math.min(budgetMs, 180_000), "backend");
        }
        return { pods, processes };
    }
}
