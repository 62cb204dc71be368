// The in-cluster database's backup script, as the local stack's CronJob runs it (the stack's
// ConfigMap, the container's environment, the password from the mounted Secret), against a real
// MariaDB with the server settings the stack gives its members: a dump restores exactly the rows
// it held, a dump that does not match its checksum is never loaded, a dump the dumper broke off or
// failed is never kept, and retention drops dumps by the time in their name. The in-cluster path
// (CronJob, volume, NetworkPolicies, `npm run db:restore`) is checked on real nodes in
// test/cluster/local-app.test.ts.
//
// Needs root and MariaDB (`npm test` installs them); skipped without, unless KUBEPOLARIS_REQUIRE_APP=1.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DUMPS_SCRIPT_PATH } from "../../components/database/backups";
import { TYPES } from "../support/types";
import { missingTools, Sandbox } from "./sandbox";
import { LocalStack } from "./stack";

const missing = process.getuid?.() === 0 ? missingTools() : ["root"];
const required = process.env.KUBEPOLARIS_REQUIRE_APP === "1";
const describeApp = missing.length === 0 || required ? describe : describe.skip;

describeApp("the database backups' script, run as the local stack's CronJob runs it, against a real MariaDB", () => {
    let sandbox: Sandbox;
    let env: Record<string, string>;
    let script: string;
    let dumpsDir: string;
    let schema: string;

    const run = (args: string[], extraEnv: Record<string, string> = {}) => {
        const r = spawnSync("sh", [script, ...args], { encoding: "utf8", env: { ...env, ...extraEnv }, timeout: 120_000 });
        return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    const dumps = () => fs.readdirSync(dumpsDir).filter((n) => n.endsWith(".sql.gz")).sort();
    const count = (table: string) => Number(sandbox.sql([`SELECT COUNT(*) FROM \`${schema}\`.\`${table}\``]).trim());
    const tables = () => sandbox.sql([`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`])
        .trim().split("\n").filter(Boolean);
    const stampAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

    beforeAll(async () => {
        if (missing.length > 0) {
            throw new Error(`KUBEPOLARIS_REQUIRE_APP=1 but missing: ${missing.join(", ")} (scripts/test-prereqs.sh installs them)`);
        }
        const stack = await LocalStack.load();
        sandbox = new Sandbox();
        await stack.startDatabase(sandbox);

        const cronJob = stack.ofComponent(TYPES.cronJob, "mysql-backup");
        const podSpec = cronJob.inputs.spec.jobTemplate.spec.template.spec;
        const container = podSpec.containers[0];
        expect(container.command).toEqual(["sh", DUMPS_SCRIPT_PATH, "backup"]);
        script = path.join(sandbox.dir, "dumps.sh");
        fs.writeFileSync(script, stack.mountedScript(podSpec, path.basename(DUMPS_SCRIPT_PATH)));
        // The password as the pod reads it: the one key of the credentials Secret the volume mounts.
        const credentials = podSpec.volumes.find((v: any) => v.secret);
        const passwordFile = path.join(sandbox.dir, "password");
        fs.writeFileSync(passwordFile, stack.secretValue({ name: credentials.secret.secretName, key: credentials.secret.items[0].key }), { mode: 0o600 });
        dumpsDir = path.join(sandbox.dir, "dumps");
        fs.mkdirSync(dumpsDir);
        env = stack.envOf(container, { DB_HOST: "127.0.0.1", DB_PORT: String(sandbox.databasePort), DB_PASSWORD_FILE: passwordFile, BACKUP_DIR: dumpsDir });
        schema = env.DB_NAME;
        sandbox.sql([
            // The member's start script creates the schema (components/database/galera/start.sh).
            `CREATE DATABASE IF NOT EXISTS \`${schema}\``,
            `CREATE TABLE \`${schema}\`.items (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB`,
            `INSERT INTO \`${schema}\`.items VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
        ]);
    }, 600_000);

    afterAll(async () => {
        await sandbox?.stop();
    });

    test("a dump restores exactly what it held: rows and tables written after it are gone", () => {
        const backup = run(["backup"]);
        expect(backup).toMatchObject({ status: 0 });
        expect(backup.out).toMatch(/dumped \S+\.sql\.gz \(\d+ bytes\)/);
        expect(dumps()).toHaveLength(1);
        const list = run(["list"]);
        expect(list.status).toBe(0);
        expect(list.out).toContain(`dump\t${dumps()[0]}\t`);
        expect(list.out).toMatch(/\tok\n/);

        sandbox.sql([`INSERT INTO \`${schema}\`.items VALUES (4, 'd'), (5, 'e')`, `CREATE TABLE \`${schema}\`.later (id INT PRIMARY KEY)`]);
        expect(count("items")).toBe(5);
        const restore = run(["restore", "latest"]);
        expect(restore.out).toMatch(/restored \S+: 1 tables/);
        expect(restore.status).toBe(0);
        expect(tables()).toEqual(["items"]);
        expect(sandbox.sql([`SELECT GROUP_CONCAT(name ORDER BY id) FROM \`${schema}\`.items`]).trim()).toBe("a,b,c");
    });

    test("a dump that does not match its checksum is not loaded, and the schema is left as it was", () => {
        const name = dumps()[dumps().length - 1];
        const file = path.join(dumpsDir, name);
        const good = fs.readFileSync(file);
        sandbox.sql([`INSERT INTO \`${schema}\`.items VALUES (6, 'f')`]);
        try {
            fs.writeFileSync(file, Buffer.concat([good, Buffer.from("x")]));
            const restore = run(["restore", name]);
            expect(restore.status).not.toBe(0);
            expect(restore.out).toContain("does not match its checksum: not loaded");
            expect(run(["list"]).out).toContain(`${name}\t${good.length + 1}\tCORRUPT`);
            expect(count("items")).toBe(4);
        } finally {
            fs.writeFileSync(file, good);
        }
    });

    test("a name that is not a dump is refused (no paths)", () => {
        for (const name of ["../password", `${schema}-x.sql.gz`, ""]) {
            const restore = run(["restore", name]);
            expect(restore.status).not.toBe(0);
            expect(restore.out).toMatch(/not a dump's name|needs a dump's name/);
        }
        expect(count("items")).toBe(4);
    });

    test("a dump the dumper broke off, or a dumper that failed, leaves nothing behind", () => {
        const before = fs.readdirSync(dumpsDir).sort();
        // A dumper that stops mid-way without an error (the server went away between tables).
        const fakeBin = path.join(sandbox.dir, "fake-dumper");
        fs.mkdirSync(fakeBin, { recursive: true });
        fs.writeFileSync(path.join(fakeBin, "mariadb-dump"), "#!/bin/sh\necho '-- MariaDB dump'\necho 'CREATE TABLE items (id INT);'\nexit 0\n", { mode: 0o755 });
        const brokenOff = run(["backup"], { PATH: `${fakeBin}:${env.PATH}` });
        expect(brokenOff.status).not.toBe(0);
        expect(brokenOff.out).toContain("no closing line");
        // A dumper that wrote a whole-looking dump but exited with an error.
        fs.writeFileSync(path.join(fakeBin, "mariadb-dump"), "#!/bin/sh\necho 'CREATE TABLE items (id INT);'\necho '-- Dump completed'\nexit 2\n", { mode: 0o755 });
        const failed = run(["backup"], { PATH: `${fakeBin}:${env.PATH}` });
        expect(failed.status).not.toBe(0);
        expect(failed.out).toContain("the dump failed (exit 2): nothing kept");
        expect(fs.readdirSync(dumpsDir).sort()).toEqual(before);
    });

    test("retention drops dumps older than RETENTION_DAYS by the time in their name, and keeps the rest", () => {
        const days = Number(env.RETENTION_DAYS);
        expect(days).toBeGreaterThanOrEqual(7);
        const old = `${schema}-${stampAgo(days + 1)}.sql.gz`;
        const recent = `${schema}-${stampAgo(days - 1)}.sql.gz`;
        for (const name of [old, recent]) {
            fs.writeFileSync(path.join(dumpsDir, name), "");
            fs.writeFileSync(path.join(dumpsDir, `${name}.sha256`), "");
        }
        const kept = dumps().filter((n) => n !== old);
        const backup = run(["backup"]);
        expect(backup.status).toBe(0);
        expect(backup.out).toContain(`dropped ${old}`);
        const made = /dumped (\S+\.sql\.gz)/.exec(backup.out)![1];
        const left = dumps();
        expect(left).not.toContain(old);
        expect(left).toContain(recent);
        expect(fs.existsSync(path.join(dumpsDir, `${old}.sha256`))).toBe(false);
        expect(left).toEqual([...new Set([...kept, made])].sort());
    });

    test("a schema without tables (a new or a lost database) is not dumped: the last real dump stays the newest", () => {
        const before = dumps();
        const tablesNow = tables();
        sandbox.sql(tablesNow.map((t) => `DROP TABLE \`${schema}\`.\`${t}\``));
        const backup = run(["backup"]);
        expect(backup.status).not.toBe(0);
        expect(backup.out).toContain("has no tables");
        expect(dumps()).toEqual(before);
        // ...and `latest` still brings the last real one back.
        expect(run(["restore", "latest"]).status).toBe(0);
        expect(tables()).toEqual(tablesNow);
    });
});
