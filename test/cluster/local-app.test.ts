// The README's main job on real nodes, as a person uses it: `npm run up` (scripts/up.sh) from
// nothing starts a real-node cluster of the test's own, builds and loads the stack's images, deploys
// the local stack with the real engine and the policy pack, and prints a URL on 127.0.0.1. Then,
// through that URL (NodePort → Traefik → frontend nginx or the backend Service → backend →
// MariaDB):
//  - the UI loads; a login with the stack's admin password works and an authenticated API call
//    answers; the published default password gets 401 (the admin-password Job replaced it);
//  - a WebSocket under /ws is upgraded and carries messages; without a token the backend refuses it;
//  - the program's NetworkPolicies hold on the real path (kube-router): a pod in another namespace
//    reaches neither the backend nor the database, while the edge path above works;
//  - the database is a three-member Galera cluster: a member kept away for 20 s (its node cordoned,
//    the pod deleted) under numbered writes loses no acknowledged write, writes never stop for more
//    than 5 s, logins keep working, the member rejoins; the same check fails on a one-pod database
//    (the negative control);
//  - backups: rows written, `npm run db:backup`, more rows, `db:list` shows the dump, the table
//    dropped, `db:restore <dump>` (backend stopped, dump loaded, backend started): the rows of the
//    dump are back and nothing written after it, logins work, the published password still gets 401;
//  - a second `up` changes nothing; `destroy` removes the stack; `cluster:down` leaves no process,
//    mount, bridge, route, iptables rule, cgroup or network namespace behind.
// Prints the figures the README quotes (up from nothing, no-op up, destroy, RSS with the app).
// Needs root and the node binaries; skipped, not failed, without them unless
// KUBEPOLARIS_REQUIRE_CLUSTER=1. One real cluster runs per host.
import type { V1PodDNSConfig } from "@kubernetes/client-node";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { BACKEND } from "../../app/kubepolaris";
import { describeFailure, RunResult, tempDir, toolchainBinDir } from "../engine/engine";
import { Cluster, clusterBinDir, clusterScript, freeRealPortBase, kubectl, kubectlJson, kubectlOk, localStack, processesUsing, waitFor } from "./cluster";
import { clientPod, hostTraces, image, realNodesReady, tcpFromPod } from "./realNodes";
import { anonymousUpgradeStatus, TERMINAL_PATH, terminalReply } from "../support/terminalSocket";
import { floorsAt } from "../../scripts/drill/configs";
import { FULL_TIMINGS } from "../../scripts/drill/drills";
import { servedTable, writeReport } from "../../scripts/drill/report";
import { databaseCommand, runDrills } from "../../scripts/drill/run";
import { memberLossProblems, onePodDatabaseObjects, parseWriterLog, writeFigures, writerObjects } from "../../scripts/drill/dbWrites";

const BIN = clusterBinDir();
const READY = realNodesReady() && Boolean(toolchainBinDir());
const REQUIRED = process.env.KUBEPOLARIS_REQUIRE_CLUSTER === "1";
const describeApp = READY || REQUIRED ? describe : describe.skip;
const suite = READY
    ? "npm run up on real nodes: KubePolaris you can log in to"
    : "npm run up on real nodes (skipped: needs root, scripts/cluster/ensure.sh, ensure.sh --node and scripts/toolchain.sh)";

const NS = "kubepolaris";
/** Requests per second through the edge in the served drill (a login in every 10: light on two shared cores). */
const SERVED_DRILL_RATE = 20;
const INTRUDER_NS = "intruder";
/** The negative control's one-pod database. */
const CONTROL_NS = "db-control";

interface MemberLossTarget {
    namespace: string;
    /** The Service clients use, and the resolver options they look it up with. */
    host: string;
    dnsConfig?: V1PodDNSConfig;
    /** The database pod to delete (its StatefulSet starts it again). */
    victim: string;
    passwordSecret: { name: string; key: string };
    /** The database pods' labels, where the namespace denies traffic by default. */
    databaseLabels?: Record<string, string>;
}

/** How long the failover check keeps the lost member away (its node cordoned): long enough that a database of one pod cannot hide its outage by restarting fast. */
const MEMBER_AWAY_S = 20;

/**
 * Numbered writes through `target.host` (scripts/drill/dbWrites.ts) for 60 s; 10 s in, the victim
 * pod's node is cordoned and the pod deleted, so it stays away (its volume binds it to that node's
 * zone) until the node is uncordoned MEMBER_AWAY_S after the pod is gone; until the writer ends,
 * `login` (if given) runs every 2 s. Returns the writer's figures, the failover check's problems
 * (memberLossProblems), how long the victim was gone and when its replacement was ready, and the
 * logins that failed.
 */
async function memberLossCheck(c: Cluster, target: MemberLossTarget, login?: () => Promise<Answer>) {
    const name = `db-writer-${Date.now() % 100000}`;
    const victim = kubectlJson(c, ["get", "pod", target.victim, "-n", target.namespace]);
    const node = victim.spec.nodeName as string;
    const objects = writerObjects({
        name, namespace: target.namespace, image: image("database"), uid: 999, host: target.host, dnsConfig: target.dnsConfig, port: 3306,
        database: "kubepolaris", user: "kubepolaris", passwordSecret: target.passwordSecret, databaseLabels: target.databaseLabels,
        seconds: 60, avoidNodes: [node],
    });
    kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    let cordoned = false;
    try {
        await waitFor("the writer's first acknowledged write", 90_000, () =>
            /^ok /m.test(kubectl(c, ["logs", name, "-n", target.namespace]).stdout) ? true : undefined);
        await new Promise((r) => setTimeout(r, 10_000));
        const killedAt = Date.now() / 1000;
        kubectlOk(c, ["cordon", node]);
        cordoned = true;
        kubectlOk(c, ["delete", "pod", target.victim, "-n", target.namespace, "--wait=false"]);
        let failedLogins = 0;
        let goneAt: number | undefined;
        let backAt: number | undefined;
        while (backAt === undefined || kubectlJson(c, ["get", "pod", name, "-n", target.namespace]).status.phase === "Running") {
            const now = Date.now() / 1000;
            const r = kubectl(c, ["get", "pod", target.victim, "-n", target.namespace, "-o", "json"]);
            const pod = r.status === 0 ? JSON.parse(r.stdout) : undefined;
            if (goneAt === undefined && pod?.metadata.uid !== victim.metadata.uid) {
                goneAt = now;
            }
            if (goneAt !== undefined && cordoned && now - goneAt >= MEMBER_AWAY_S) {
                kubectlOk(c, ["uncordon", node]);
                cordoned = false;
            }
            if (goneAt !== undefined && backAt === undefined && pod && pod.metadata.uid !== victim.metadata.uid
                && (pod.status.conditions ?? []).some((x: any) => x.type === "Ready" && x.status === "True")) {
                backAt = now;
            }
            if (login && (await login().catch(() => ({ status: 0, body: "" }))).status !== 200) {
                failedLogins++;
            }
            if (now - killedAt > 300) {
                throw new Error(`${target.victim} was not back and ready within 300 s, or the writer did not finish`);
            }
            await new Promise((r) => setTimeout(r, 1000));
        }
        const log = parseWriterLog(kubectlOk(c, ["logs", name, "-n", target.namespace]));
        const figures = writeFigures(log, killedAt - 5, { from: goneAt!, to: backAt });
        return {
            figures, problems: memberLossProblems(figures, log.present !== undefined),
            goneS: Math.round((goneAt! - killedAt) * 10) / 10, backS: Math.round((backAt - killedAt) * 10) / 10, failedLogins,
        };
    } finally {
        if (cordoned) {
            kubectl(c, ["uncordon", node]);
        }
        kubectl(c, ["delete", "-f", "-", "--wait=false"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    }
}

/** SQL as root on a Galera member, through its socket (the check's own rows, not the app's). */
function memberSql(c: Cluster, member: string, sql: string): string {
    return kubectlOk(c, ["exec", "-n", NS, member, "-c", "mariadb", "--", "sh", "-c",
        `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --no-defaults --socket=/run/mysqld/mysqld.sock -uroot -N --batch "$MYSQL_DATABASE" -e "$0"`, sql]).trim();
}

function ok(what: string, r: RunResult): RunResult {
    if (r.status !== 0) {
        throw new Error(describeFailure(what, r));
    }
    return r;
}

interface Answer { status: number; body: string }

function request(url: string, method = "GET", body?: unknown, token?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, {
            method,
            timeout: 15_000,
            headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        }, (res) => {
            let text = "";
            res.on("data", (d) => { text += d; });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer within 15 s`)));
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/** Resident memory of every process started from the cluster's state dir, and of its containers' shims' children, in MiB. */
function clusterRssMiB(stateDir: string): number {
    const pids = new Set(processesUsing(stateDir));
    // Container processes are children of the shims (which name the state dir); add every descendant.
    const children = new Map<number, number[]>();
    for (const d of fs.readdirSync("/proc")) {
        const pid = Number(d);
        if (!Number.isInteger(pid)) {
            continue;
        }
        try {
            const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), pid]);
        } catch {
            // gone
        }
    }
    const queue = [...pids];
    while (queue.length > 0) {
        for (const child of children.get(queue.pop()!) ?? []) {
            if (!pids.has(child)) {
                pids.add(child);
                queue.push(child);
            }
        }
    }
    let kib = 0;
    for (const pid of pids) {
        try {
            kib += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        } catch {
            // gone
        }
    }
    return Math.round(kib / 1024);
}

describeApp(suite, () => {
    const work = tempDir("kubepolaris-local-app-test-");
    const c: Cluster = {
        stateDir: path.join(work, "cluster"),
        kubectl: path.join(BIN ?? "/nonexistent", "kubectl"),
        env: {
            ...process.env,
            KUBEPOLARIS_CLUSTER_KIND: "real",
            KUBEPOLARIS_CLUSTER_DIR: path.join(work, "cluster"),
            KUBEPOLARIS_CLUSTER_PORT_BASE: String(freeRealPortBase()),
            KUBEPOLARIS_STATE_DIR: path.join(work, "state"),
            KUBEPOLARIS_STACK_WORKDIR: path.join(work, "project"),
            NO_COLOR: "1",
        },
    };
    const figures: Record<string, number> = {};
    let before: Record<string, string[]> = {};
    let url = "";
    let adminPassword = "";

    const stack = async (what: string, args: string[], timeoutMs?: number) => {
        const t0 = Date.now();
        const r = await localStack(c.env, args, timeoutMs);
        figures[`${what} s`] = Math.round((Date.now() - t0) / 100) / 10;
        return ok(`scripts/up.sh ${args.join(" ")}`, r);
    };
    const login = (password: string) => request(`${url}${BACKEND.api.login.replace(/^\//, "")}`, "POST",
        { username: BACKEND.seededAdmin.username, password });

    beforeAll(async () => {
        if (!READY) {
            throw new Error("KUBEPOLARIS_REQUIRE_CLUSTER=1 but real nodes cannot run here: needs root, scripts/cluster/ensure.sh, ensure.sh --node and scripts/toolchain.sh");
        }
        before = hostTraces(c.stateDir);
        try {
            const up = await stack("up from nothing", ["up"], 1_500_000);
            url = /^\s*url\s+(\S+)\s*$/m.exec(up.stdout)?.[1] ?? "";
        } finally {
            c.kubeconfig = path.join(c.stateDir, "kubeconfig");
        }
        adminPassword = (await stack("stack output", ["pulumi", "stack", "output", "adminPassword", "--show-secrets"])).stdout.trim();
    }, 1_600_000);

    afterAll(async () => {
        if (fs.existsSync(c.stateDir)) {
            await localStack(c.env, ["destroy"]).catch(() => undefined);
            clusterScript(c, "down", 300_000);
        }
        console.log(`npm run up on real nodes, figures: ${JSON.stringify(figures)}`);
        fs.rmSync(work, { recursive: true, force: true });
    }, 600_000);

    test("up prints a URL on 127.0.0.1 that serves the KubePolaris UI", async () => {
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        const page = await request(url);
        expect(page.status).toBe(200);
        expect(page.body).toMatch(/<div id="root">/);
    });

    test("every pod runs on the real nodes, ready, and each HA workload spans at least two zones", () => {
        const nodes = kubectlJson(c, ["get", "nodes"]).items;
        const zoneOf = new Map<string, string>(nodes.map((n: any) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]));
        const pods = [...kubectlJson(c, ["get", "pods", "-n", NS]).items, ...kubectlJson(c, ["get", "pods", "-n", "traefik"]).items]
            .filter((p: any) => p.status.phase !== "Succeeded");
        const byComponent = new Map<string, Set<string>>();
        for (const p of pods) {
            expect([p.metadata.name, (p.status.conditions ?? []).find((x: any) => x.type === "Ready")?.status]).toEqual([p.metadata.name, "True"]);
            const component = p.metadata.labels["app.kubernetes.io/component"] ?? p.metadata.labels["app.kubernetes.io/name"];
            byComponent.set(component, (byComponent.get(component) ?? new Set()).add(zoneOf.get(p.spec.nodeName)!));
        }
        for (const component of ["backend", "frontend", "traefik"]) {
            expect([component, (byComponent.get(component)?.size ?? 0) >= 2]).toEqual([component, true]);
        }
    });

    test("a login through the edge with the stack's admin password works, an authenticated call answers, the published default gets 401", async () => {
        expect(adminPassword.length).toBeGreaterThanOrEqual(16);
        const answer = await login(adminPassword);
        expect(answer.status).toBe(200);
        const token = JSON.parse(answer.body).data.token as string;
        const me = await request(`${url}${BACKEND.api.me.replace(/^\//, "")}`, "GET", undefined, token);
        expect(me.status).toBe(200);
        expect(JSON.parse(me.body).data.username).toBe(BACKEND.seededAdmin.username);
        expect((await request(`${url}${BACKEND.api.me.replace(/^\//, "")}`)).status).toBe(401);
        expect((await login(BACKEND.seededAdmin.password)).status).toBe(401);
    });

    test("a WebSocket under /ws/ through the edge is upgraded and carries messages; without a token the backend refuses it", async () => {
        const token = JSON.parse((await login(adminPassword)).body).data.token as string;
        const wsUrl = `${url.replace(/^http/, "ws").replace(/\/$/, "")}${TERMINAL_PATH}`;
        // The SSH terminal answers a connect without its settings with an error message: the backend spoke.
        expect(JSON.parse(await terminalReply(wsUrl, token))).toMatchObject({ type: "error" });
        const refused = await anonymousUpgradeStatus(wsUrl);
        expect(refused).toBe(401);
    });

    test("the program's NetworkPolicies hold: another namespace reaches neither the backend nor the database", async () => {
        kubectlOk(c, ["create", "namespace", INTRUDER_NS]);
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(clientPod("intruder", INTRUDER_NS, image("busybox"))));
        kubectlOk(c, ["wait", "--for=condition=Ready", `pod/intruder`, "-n", INTRUDER_NS, "--timeout=90s"]);
        const backend = `kubepolaris-backend.${NS}.svc.cluster.local`;
        const database = `kubepolaris-mysql.${NS}.svc.cluster.local`;
        // Names resolve (DNS is allowed), connections do not get through (three tries each, bounded).
        for (let i = 0; i < 3; i++) {
            expect(tcpFromPod(c, INTRUDER_NS, "intruder", backend, BACKEND.port)).toBe(false);
            expect(tcpFromPod(c, INTRUDER_NS, "intruder", database, 3306)).toBe(false);
        }
        // The same pod reaches a Service the policies do not cover (the positive control): the API server.
        expect(tcpFromPod(c, INTRUDER_NS, "intruder", "kubernetes.default.svc.cluster.local", 443)).toBe(true);
        // And the real path still works.
        expect((await login(adminPassword)).status).toBe(200);
        kubectlOk(c, ["delete", "namespace", INTRUDER_NS, "--wait=false"]);
    }, 180_000);

    const dbCommand = (args: string[]) => databaseCommand(c.stateDir)(args);

    test("backups: a dump now, then db:restore brings back exactly the dump's rows, and the app works after it", async () => {
        const member = "kubepolaris-mysql-0";
        memberSql(c, member, "CREATE TABLE restore_check (id INT PRIMARY KEY); INSERT INTO restore_check SELECT seq FROM seq_1_to_50");
        const backup = await dbCommand(["backup"]);
        expect([backup.status, backup.out]).toEqual([0, expect.stringMatching(/dumped kubepolaris-\d{8}T\d{6}Z\.sql\.gz/)]);
        const dump = /dumped (\S+\.sql\.gz)/.exec(backup.out)![1];
        memberSql(c, member, "INSERT INTO restore_check SELECT seq FROM seq_51_to_60");
        const list = await dbCommand(["list"]);
        expect([list.status, list.out]).toEqual([0, expect.stringContaining(`dump\t${dump}\t`)]);
        expect(list.out).toMatch(new RegExp(`${dump.replace(/\./g, "\\.")}\t\\d+\tok`));
        memberSql(c, member, "DROP TABLE restore_check");

        const t0 = Date.now();
        // By name: a scheduled dump may land between the two commands (every 30 min).
        const restore = await dbCommand(["restore", dump]);
        figures["db:restore s"] = Math.round((Date.now() - t0) / 100) / 10;
        expect([restore.status, restore.out]).toEqual([0, expect.stringContaining(`restored ${dump}`)]);
        // Every row of the dump, none written after it, on every member (Galera replicated the load).
        for (const m of ["kubepolaris-mysql-0", "kubepolaris-mysql-1", "kubepolaris-mysql-2"]) {
            expect([m, memberSql(c, m, "SELECT COUNT(*), MAX(id) FROM restore_check")]).toEqual([m, "50\t50"]);
        }
        await waitFor("a login through the edge after the restore", 120_000, async () => (await login(adminPassword)).status === 200 || undefined);
        expect((await login(BACKEND.seededAdmin.password)).status).toBe(401);
        // The Jobs that succeeded are gone; the CronJob stays.
        expect(kubectlJson(c, ["get", "jobs", "-n", NS]).items.map((j: any) => j.metadata.name).filter((n: string) => /^kubepolaris-mysql-backup-(backup|list|restore)-\d+$/.test(n)))
            .toEqual([]);
    }, 900_000);

    test("the database keeps taking writes while it loses a member for 20 s: no acknowledged write lost, writes never stop for more than 5 s, logins through the edge keep working, the member rejoins", async () => {
        const members = kubectlJson(c, ["get", "statefulset", "kubepolaris-mysql", "-n", NS]).spec.replicas;
        expect(members).toBe(3);
        // The writer connects as the backend does: its DB_HOST, its pods' resolver options.
        const backendPod = kubectlJson(c, ["get", "deployment", "kubepolaris-backend", "-n", NS]).spec.template.spec;
        const check = await memberLossCheck(c, {
            namespace: NS, victim: "kubepolaris-mysql-0",
            host: backendPod.containers[0].env.find((e: any) => e.name === BACKEND.env.dbHost).value, dnsConfig: backendPod.dnsConfig,
            passwordSecret: { name: "kubepolaris-mysql-credentials", key: "mysql-password" },
            databaseLabels: kubectlJson(c, ["get", "statefulset", "kubepolaris-mysql", "-n", NS]).spec.selector.matchLabels,
        }, () => login(adminPassword));
        console.log(`database member loss (Galera, 3 members): ${JSON.stringify(check)}`);
        figures["database member back and synced s"] = check.backS;
        figures["database member loss: longest write gap s"] = check.figures.longestGapS;
        expect(check.problems).toEqual([]);
        expect(check.failedLogins).toBe(0);
        expect(kubectlJson(c, ["get", "statefulset", "kubepolaris-mysql", "-n", NS]).status.readyReplicas).toBe(3);
        // The password the Job wrote is still in the database; the published one still fails.
        expect((await login(adminPassword)).status).toBe(200);
        expect((await login(BACKEND.seededAdmin.password)).status).toBe(401);
        figures["cluster RSS with the app MiB"] = clusterRssMiB(c.stateDir);
    }, 420_000);

    test("negative control: the same check fails on a database of one pod (nothing takes writes while its pod is away, and writes stop)", async () => {
        kubectlOk(c, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: onePodDatabaseObjects({ namespace: CONTROL_NS, name: "control-db", image: image("database"), imagePullPolicy: "Never" }) }));
        try {
            kubectlOk(c, ["rollout", "status", "statefulset/control-db", "-n", CONTROL_NS, "--timeout=180s"]);
            const check = await memberLossCheck(c, {
                namespace: CONTROL_NS, host: `control-db.${CONTROL_NS}.svc.cluster.local`, victim: "control-db-0",
                passwordSecret: { name: "control-db", key: "password" },
            });
            console.log(`database member loss (one pod, the negative control): ${JSON.stringify(check)}`);
            expect(check.problems).toEqual(expect.arrayContaining(["no write was acknowledged while the member was away", expect.stringMatching(/^writes stopped for /)]));
        } finally {
            kubectlOk(c, ["delete", "namespace", CONTROL_NS, "--wait=true", "--timeout=120s"]);
        }
    }, 420_000);

    test("under traffic through the edge, a drain and a rollout: ours loses no request, the same stack without its HA measures (naive) loses some", async () => {
        const log: string[] = [];
        const t0 = Date.now();
        const run = await runDrills({
            nodes: "real", trafficRate: SERVED_DRILL_RATE, configs: ["ours-small", "naive"], drills: ["drain-one", "rollout"],
            timings: { ...FULL_TIMINGS, drainTimeoutS: 60 }, settleS: 90,
            // The test's own cluster, Pulumi state and stack mirror: the drills reuse them (and leave the cluster running).
            workDir: work, portBase: Number(c.env.KUBEPOLARIS_CLUSTER_PORT_BASE), startDelay: "0s", keepCluster: true,
            log: (m) => log.push(m),
        });
        figures["served drill (ours and naive, drain + rollout, naive restored) s"] = Math.round((Date.now() - t0) / 1000);
        await writeReport(run, path.join(work, "drill-report"));
        console.log(`${servedTable(run)}\n${log.join("\n")}`);
        const outcome = run.results.map((r) => ({
            config: r.config, drill: r.drill, error: r.error,
            failed: r.traffic ? r.traffic.figures.failed > 0 : "no traffic",
            enough: (r.traffic?.figures.sent ?? 0) >= SERVED_DRILL_RATE * 6,
            // A WebSocket on a pod that left must be closed, never left hanging, and its client back on another replica.
            socketsHungOrLost: r.config === "naive" ? 0 : (r.traffic?.sockets.drops ?? []).filter((d) => d.how === "hung" || d.backAfterS === null).length,
        }));
        // Ours: not one request lost. Naive (the negative control): each drill must cost it requests,
        // or the drill cannot tell a stack with the measures from one without them.
        expect(outcome).toEqual(["ours-small", "naive"].flatMap((config) => ["drain-one", "rollout"].map((drill) => ({
            config, drill, error: undefined, failed: config === "naive", enough: true, socketsHungOrLost: 0,
        }))));
        // Our replicas never went below the PDB floor while serving.
        const floor = floorsAt("small");
        for (const r of run.results.filter((x) => x.config === "ours-small")) {
            expect({ drill: r.drill, backend: r.figures.backend.minReady >= floor.backend, frontend: r.figures.frontend.minReady >= floor.frontend })
                .toEqual({ drill: r.drill, backend: true, frontend: true });
        }
    }, 1_500_000);

    test("a second up changes nothing", async () => {
        const again = await stack("no-op up", ["up"]);
        expect(again.stdout).toMatch(/Resources:\n\s+\d+ unchanged\s*\n/);
    }, 480_000);

    test("destroy removes the stack, and cluster:down leaves nothing behind on the host", async () => {
        await stack("destroy", ["destroy"]);
        expect(kubectlJson(c, ["get", "namespaces"]).items.map((n: any) => n.metadata.name)).not.toContain(NS);
        const t0 = Date.now();
        const down = clusterScript(c, "down", 300_000);
        figures["cluster down s"] = Math.round((Date.now() - t0) / 100) / 10;
        expect(down.status).toBe(0);
        expect(fs.existsSync(c.stateDir)).toBe(false);
        expect(hostTraces(c.stateDir)).toEqual(before);
    }, 900_000);
});
