// A small imitation of a cluster's pods, for the app contract test: a MariaDB server and backend
// processes, each backend in its own network namespace (as a pod is: every one can listen on the
// port its Deployment names, and nothing listens outside the machine), in its own mount namespace
// (its working directory read-only, the Deployment's writable paths a fresh tmpfs each), as the
// Deployment's UID and GID, with exactly the Deployment's environment. Needs root (network and
// mount namespaces), iproute2, util-linux (unshare, setpriv), socat and MariaDB.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";

export const TOOLS = ["ip", "unshare", "setpriv", "socat", "mariadbd", "mariadb-install-db", "mariadb", "curl"];

export function missingTools(): string[] {
    return TOOLS.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
}

function run(cmd: string, args: string[], input?: string): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 60_000 });
    if (r.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr || r.stdout}`);
    }
    return r.stdout;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, logFile?: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await check()) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const tail = logFile && fs.existsSync(logFile) ? `\n--- ${logFile}\n${fs.readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n")}` : "";
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
}

/** Everything the sandbox started, so `stop` can take it all down even after a failure. */
export class Sandbox {
    readonly dir: string;
    private readonly processes: ChildProcess[] = [];
    private readonly namespaces: string[] = [];
    private readonly id = `kpc${process.pid}`;
    private dbSocket = "";
    private dbPort = 0;
    private database?: ChildProcess;
    /** Mount points a process needed that did not exist on the host: removed by `stop`. */
    private readonly createdMountPoints: string[] = [];

    constructor() {
        // Not under /tmp: each backend gets a fresh tmpfs there. World-traversable so the
        // Deployment's non-root UID can reach its working directory.
        this.dir = fs.mkdtempSync("/var/tmp/kubepolaris-contract-");
        fs.chmodSync(this.dir, 0o755);
    }

    /**
     * Starts a process with its output in `<logName>.log`; with `owner`, the log belongs to that user,
     * as runc hands a container's stdio to its user (a process may reopen /dev/stdout).
     */
    private start(cmd: string, args: string[], logName: string, owner?: { uid: number; gid: number }): ChildProcess {
        const log = fs.openSync(path.join(this.dir, `${logName}.log`), "a");
        if (owner) {
            fs.fchownSync(log, owner.uid, owner.gid);
        }
        const child = spawn(cmd, args, { stdio: ["ignore", log, log], detached: true });
        fs.closeSync(log);
        this.processes.push(child);
        return child;
    }

    logOf(name: string): string {
        const file = path.join(this.dir, `${name}.log`);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /**
     * Starts MariaDB on 127.0.0.1 with the server flags given (those the program gives its MySQL),
     * and creates the application user and database.
     */
    async startDatabase(flags: string[], app: { user: string; password: string; database: string }): Promise<void> {
        const data = path.join(this.dir, "db");
        this.dbSocket = path.join(this.dir, "mysqld.sock");
        run("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"]);
        this.dbPort = await freePort();
        this.database = this.start("mariadbd", [
            "--no-defaults", `--datadir=${data}`, `--socket=${this.dbSocket}`, "--bind-address=127.0.0.1", `--port=${this.dbPort}`,
            "--user=root", `--pid-file=${path.join(this.dir, "mysqld.pid")}`, ...flags,
        ], "mariadb");
        await waitFor("MariaDB", () => spawnSync("mariadb-admin", ["--no-defaults", `--socket=${this.dbSocket}`, "-uroot", "ping"]).status === 0,
            60_000, path.join(this.dir, "mariadb.log"));
        const quote = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
        this.sql([
            "DELETE FROM mysql.global_priv WHERE User = ''", "FLUSH PRIVILEGES",
            `CREATE USER ${quote(app.user)}@'%' IDENTIFIED BY ${quote(app.password)}`,
            `GRANT ALL ON \`${app.database}\`.* TO ${quote(app.user)}@'%'`,
        ]);
        // The pods reach the server through this relay (a UNIX socket crosses network namespaces).
        this.start("socat", [`UNIX-LISTEN:${path.join(this.dir, "db-relay.sock")},fork,mode=600`, `TCP:127.0.0.1:${this.dbPort}`], "db-relay");
        await waitFor("the database relay", () => fs.existsSync(path.join(this.dir, "db-relay.sock")), 10_000);
    }

    /** The database's TCP port on 127.0.0.1 (after startDatabase). */
    get databasePort(): number {
        return this.dbPort;
    }

    /** Freezes (SIGSTOP) or thaws (SIGCONT) the database: connections hang, as on a lost network. */
    freezeDatabase(frozen: boolean): void {
        if (!this.database?.pid) {
            throw new Error("the database is not running");
        }
        process.kill(this.database.pid, frozen ? "SIGSTOP" : "SIGCONT");
    }

    sql(statements: string[]): string {
        return run("mariadb", ["--no-defaults", `--socket=${this.dbSocket}`, "-uroot", "-N", "-e", statements.join(";\n")]);
    }

    /** A network namespace with loopback up; with `dbPort`, that port on 127.0.0.1 reaches the database. */
    async pod(name: string, dbPort?: number): Promise<Pod> {
        const ns = `${this.id}-${name}`;
        run("ip", ["netns", "add", ns]);
        this.namespaces.push(ns);
        run("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
        if (dbPort !== undefined) {
            this.start("ip", ["netns", "exec", ns, "socat", `TCP-LISTEN:${dbPort},bind=127.0.0.1,fork,reuseaddr`,
                `UNIX-CONNECT:${path.join(this.dir, "db-relay.sock")}`], `${name}-db-relay`);
        }
        return new Pod(this, ns, name);
    }

    /** Creates the directories of `target` that do not exist yet (a mount point), remembering them for `stop`. */
    mountPoint(target: string): void {
        const missing: string[] = [];
        for (let dir = target; !fs.existsSync(dir); dir = path.dirname(dir)) {
            missing.unshift(dir);
        }
        for (const dir of missing) {
            fs.mkdirSync(dir);
            this.createdMountPoints.unshift(dir);
        }
    }

    spawnIn(ns: string, args: string[], logName: string, owner?: { uid: number; gid: number }): ChildProcess {
        return this.start("ip", ["netns", "exec", ns, ...args], logName, owner);
    }

    /** Stops every process (whole process groups) and removes the namespaces and files. */
    async stop(): Promise<void> {
        for (const child of this.processes.reverse()) {
            if (child.exitCode === null && child.signalCode === null && child.pid) {
                try {
                    process.kill(-child.pid, "SIGKILL");
                } catch {
                    // already gone
                }
            }
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const ns of this.namespaces) {
            // Anything still inside the namespace (a stray relay child) dies with it.
            spawnSync("sh", ["-c", `ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`]);
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
        for (const dir of this.createdMountPoints) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
}

export interface ProcessSpec {
    /** The working directory's contents: the image's WORKDIR, read-only. Default: / (with readOnlyRoot). */
    workingDir?: string;
    /** Host paths mounted read-only over paths of the container (the image's files, ConfigMaps). Default: none. */
    readOnlyBinds?: { source: string; target: string }[];
    /** The whole root filesystem read-only (readOnlyRootFilesystem), but for the writable paths. Default: only workingDir is. */
    readOnlyRoot?: boolean;
    command: string[];
    env: Record<string, string>;
    uid: number;
    gid: number;
    /** The paths the Deployment mounts writable (emptyDirs): each a fresh tmpfs. */
    writablePaths: string[];
}

/** One pod's network namespace: processes in it, and HTTP to its loopback through a relay. */
export class Pod {
    private relays = new Map<number, string>();

    constructor(private readonly sandbox: Sandbox, readonly ns: string, readonly name: string) {}

    /**
     * Runs a process as a container would: the working directory read-only (a read-only root
     * filesystem), the writable paths fresh, the UID/GID and the environment exactly as given.
     */
    exec(spec: ProcessSpec, logName: string): ChildProcess {
        const envArgs = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
        for (const target of [...spec.writablePaths, ...(spec.readOnlyBinds ?? []).map((b) => b.target)]) {
            this.sandbox.mountPoint(target);
        }
        const workingDir = spec.workingDir ?? "/";
        const mounts = [
            // Read-only first, so a writable path inside a bound one stays writable.
            ...(spec.readOnlyBinds ?? []).map((b) => `mount --bind '${b.source}' '${b.target}' && mount -o remount,bind,ro '${b.target}'`),
            ...(spec.readOnlyRoot ? ["mount -o remount,bind,ro /"] : []),
            ...spec.writablePaths.map((p) => `mount -t tmpfs -o size=256m,mode=1777 tmpfs '${p}'`),
            ...(spec.workingDir ? [`mount --bind '${workingDir}' '${workingDir}'`, `mount -o remount,bind,ro '${workingDir}'`] : []),
            `cd '${workingDir}'`,
        ].join(" && ");
        const script = `${mounts} && exec setpriv --reuid=${spec.uid} --regid=${spec.gid} --clear-groups --no-new-privs env -i "$@"`;
        return this.sandbox.spawnIn(this.ns, ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
            ...envArgs, ...spec.command], `${this.name}-${logName}`, { uid: spec.uid, gid: spec.gid });
    }

    /** Sets a namespaced sysctl of the pod (a pod's securityContext.sysctls). */
    sysctl(name: string, value: string): void {
        run("ip", ["netns", "exec", this.ns, "sysctl", "-q", "-w", `${name}=${value}`]);
    }

    /**
     * A Service's cluster address as this pod sees it: `address` on the pod's loopback, its `port`
     * relayed to a UNIX socket (another pod's `relay`), as kube-proxy would forward it.
     */
    async serviceAddress(address: string, port: number, target: string): Promise<void> {
        run("ip", ["netns", "exec", this.ns, "ip", "addr", "add", `${address}/32`, "dev", "lo"]);
        this.sandbox.spawnIn(this.ns, ["socat", `TCP-LISTEN:${port},bind=${address},fork,reuseaddr`, `UNIX-CONNECT:${target}`],
            `${this.name}-service-${address}-${port}`);
        await waitFor(`${address}:${port} in ${this.name}`, () =>
            spawnSync("ip", ["netns", "exec", this.ns, "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`]).status === 0, 10_000);
    }

    /** A UNIX socket in the sandbox that reaches 127.0.0.1:port inside this pod. */
    async relay(port: number): Promise<string> {
        if (!this.relays.has(port)) {
            const socket = path.join(this.sandbox.dir, `${this.name}-${port}.sock`);
            this.sandbox.spawnIn(this.ns, ["socat", `UNIX-LISTEN:${socket},fork,mode=600`, `TCP:127.0.0.1:${port}`], `${this.name}-relay-${port}`);
            await waitFor(`the relay to ${this.name}:${port}`, () => fs.existsSync(socket), 10_000);
            this.relays.set(port, socket);
        }
        return this.relays.get(port)!;
    }

    async request(port: number, method: string, urlPath: string, options: { body?: unknown; token?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
        const socketPath = await this.relay(port);
        return httpRequest(socketPath, method, urlPath, options);
    }

    async waitForHttp(port: number, urlPath: string, timeoutMs: number, logName: string): Promise<void> {
        await waitFor(`${this.name} to answer ${urlPath} on :${port}`, async () => {
            try {
                return (await this.request(port, "GET", urlPath, { timeoutMs: 1000 })).status > 0;
            } catch {
                return false;
            }
        }, timeoutMs, path.join(this.sandbox.dir, `${this.name}-${logName}.log`));
    }
}

export interface HttpAnswer {
    status: number;
    body: string;
    json(): any;
}

export function httpRequest(socketPath: string, method: string, urlPath: string,
    options: { body?: unknown; token?: string; timeoutMs?: number; bodyInTwoParts?: { first: string; rest: Promise<string> } } = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
        const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
        const headers: Record<string, string | number> = { "Content-Type": "application/json" };
        if (options.token) {
            headers.Authorization = `Bearer ${options.token}`;
        }
        if (options.bodyInTwoParts) {
            headers["Transfer-Encoding"] = "chunked";
        } else if (payload !== undefined) {
            headers["Content-Length"] = Buffer.byteLength(payload);
        }
        const req = http.request({ socketPath, method, path: urlPath, headers, timeout: options.timeoutMs ?? 10_000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk) => { body += chunk; });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) }));
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
        req.on("error", reject);
        if (options.bodyInTwoParts) {
            // The request stays in flight (headers and half the body sent) until `rest` resolves.
            req.write(options.bodyInTwoParts.first);
            options.bodyInTwoParts.rest.then((second) => req.end(second), (err) => req.destroy(err));
        } else {
            req.end(payload);
        }
    });
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

export { waitFor };
