// A Galera member's preStop (components/database/galera/drain.sh, the stack's ConfigMap), against a
// real MariaDB: idle client connections are closed so a pool drops them before the server stops,
// a query in flight is let finish first, root's own session is left alone, and the hook returns as
// soon as no client is left (never before its minimum, never after its maximum).
// Needs root and MariaDB (`npm test` installs them); skipped without, unless KUBEPOLARIS_REQUIRE_APP=1.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TYPES } from "../support/types";
import { missingTools, Sandbox, waitFor } from "./sandbox";
import { component, LocalStack } from "./stack";

const missing = process.getuid?.() === 0 ? missingTools() : ["root"];
const required = process.env.KUBEPOLARIS_REQUIRE_APP === "1";
const describeApp = missing.length === 0 || required ? describe : describe.skip;

describeApp("a Galera member's preStop drain, as the local stack's ConfigMap has it, against a real MariaDB", () => {
    let sandbox: Sandbox;
    let script: string;
    let app: { user: string; password: string; database: string };
    const clients: ChildProcess[] = [];

    /** A client of the app user holding one connection open; `sql` runs first (then it idles). */
    const client = (sql = "SELECT 1;") => {
        const child = spawn("mariadb", ["--no-defaults", "-h127.0.0.1", `-P${sandbox.databasePort}`, `-u${app.user}`, app.database],
            { env: { ...process.env, MYSQL_PWD: app.password }, stdio: ["pipe", "ignore", "ignore"] });
        child.stdin!.write(`${sql}\n`);
        clients.push(child);
        return child;
    };
    const appConnections = () => Number(sandbox.sql([`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${app.user}'`]).trim());
    const drain = () => {
        const t0 = Date.now();
        const r = spawnSync("sh", [script], {
            encoding: "utf8", timeout: 30_000,
            env: { PATH: process.env.PATH, RUN_DIR: sandbox.dir, MYSQL_ROOT_PASSWORD: "unused: root signs in by its socket here" },
        });
        return { status: r.status, seconds: (Date.now() - t0) / 1000 };
    };

    beforeAll(async () => {
        if (missing.length > 0) {
            throw new Error(`KUBEPOLARIS_REQUIRE_APP=1 but missing: ${missing.join(", ")} (scripts/test-prereqs.sh installs them)`);
        }
        const stack = await LocalStack.load();
        const statefulSet = stack.resources.find((r) => r.type === TYPES.statefulSet && component(r) === "mysql")!.inputs;
        const podSpec = statefulSet.spec.template.spec;
        expect(podSpec.containers[0].lifecycle.preStop.exec.command).toEqual(["sh", "/galera/drain.sh"]);
        const env = stack.envOf(podSpec.containers[0], {});
        app = { user: env.MYSQL_USER, password: env.MYSQL_PASSWORD, database: env.MYSQL_DATABASE };
        sandbox = new Sandbox();
        await stack.startDatabase(sandbox);
        sandbox.sql([`CREATE DATABASE IF NOT EXISTS \`${app.database}\``]);
        script = path.join(sandbox.dir, "drain.sh");
        fs.writeFileSync(script, stack.mountedScript(podSpec, "drain.sh"));
    }, 600_000);

    afterAll(async () => {
        for (const c of clients) {
            c.kill("SIGKILL");
        }
        await sandbox?.stop();
    });

    test("idle connections are closed and the hook returns once none is left, after its 3 s minimum", async () => {
        for (let i = 0; i < 3; i++) {
            client();
        }
        await waitFor("three idle app connections", () => appConnections() === 3, 10_000);
        const r = drain();
        expect(r.status).toBe(0);
        expect(appConnections()).toBe(0);
        expect(r.seconds).toBeGreaterThanOrEqual(3);
        expect(r.seconds).toBeLessThan(6);
    });

    test("a query in flight finishes before its connection is closed", async () => {
        const busy = client("SELECT SLEEP(5);");
        const exited = new Promise<number | null>((resolve) => busy.on("exit", resolve));
        await waitFor("the query in flight", () => appConnections() === 1, 10_000);
        const r = drain();
        expect(r.status).toBe(0);
        // The hook waited for the query (≈ 5 s), then closed the connection.
        expect(r.seconds).toBeGreaterThanOrEqual(4.5);
        expect(r.seconds).toBeLessThan(10);
        expect(appConnections()).toBe(0);
        // Killed while idle: the client saw its query answered, then lost the link (exit 1 on its next read).
        busy.stdin!.end();
        await exited;
    }, 30_000);

    test("a client that keeps a query running past the limit is left to the server's stop: the hook returns at 10 s", async () => {
        client("SELECT SLEEP(20);");
        await waitFor("the long query", () => appConnections() === 1, 10_000);
        const r = drain();
        expect(r.status).toBe(0);
        expect(r.seconds).toBeGreaterThanOrEqual(9.5);
        expect(r.seconds).toBeLessThan(13);
        expect(appConnections()).toBe(1);
    }, 40_000);
});
