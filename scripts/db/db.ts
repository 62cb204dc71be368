// The in-cluster database's dumps, by hand (components/database/backups.ts makes them on a schedule):
//
//   npm run db:backup  [-- --stack S]            a dump now
//   npm run db:list    [-- --stack S]            the dumps on the backups volume, oldest first
//   npm run db:restore -- <dump>|latest [--stack S]
//       stop the backend, load the dump in place of the schema's tables, start the backend again
//
// Each runs backup/dumps.sh in a Job made from the stack's CronJob (same image, volume, credentials
// and NetworkPolicies), owned by the CronJob so it goes with the stack; a Job that succeeded is
// deleted once its log is printed, a failed one is kept for `kubectl describe`. The namespace and
// names come from the stack file (default: local); the cluster from KUBECONFIG, else the local
// cluster's (scripts/cluster/cluster.sh). A restore that fails leaves the backend stopped and says
// how to start it: serving a half-loaded schema would be worse.
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { parseConfig } from "../../config";
import { rawConfig } from "../../config/load";
import { BACKUP_CONTAINER, DUMPS_SCRIPT_PATH } from "../../components/database/backups";
import { componentName, podLabels } from "../../components/labels";
import { loadStackConfig } from "../../tools/stackConfig";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const VERBS = ["backup", "list", "restore"] as const;
type Verb = (typeof VERBS)[number];

interface Target {
    namespace: string;
    cronJob: string;
    backend: string;
    backendSelector: string;
    /** Seconds a Job may run: the CronJob's own deadline, plus time to schedule. */
    deadlineSeconds: number;
}

function fail(message: string): never {
    console.error(`db: ${message}`);
    process.exit(1);
}

function shellLine(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) {
        fail(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r.stdout.trim().split("\n").pop() ?? "";
}

/** `kubectl` on PATH, else the local cluster's own (scripts/cluster/ensure.sh builds it). */
function kubectlCommand(): string[] {
    const kubeconfig = process.env.KUBECONFIG
        || shellLine("bash", [path.join(PROJECT_DIR, "scripts", "cluster", "cluster.sh"), "kubeconfig"]);
    const onPath = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
    const kubectl = onPath.status === 0 ? onPath.stdout.trim()
        : path.join(shellLine("bash", [path.join(PROJECT_DIR, "scripts", "cluster", "ensure.sh"), "--check"]), "kubectl");
    return [kubectl, "--kubeconfig", kubeconfig];
}

class Kubectl {
    private readonly cmd: string[] = kubectlCommand();

    run(args: string[], input?: string): { status: number; out: string } {
        const r = spawnSync(this.cmd[0], [...this.cmd.slice(1), ...args], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
        return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
    }

    ok(args: string[], input?: string): string {
        const r = this.run(args, input);
        if (r.status !== 0) {
            fail(`kubectl ${args.join(" ")}: ${r.out.trim()}`);
        }
        return r.out;
    }

    json(args: string[]): any {
        return JSON.parse(execFileSync(this.cmd[0], [...this.cmd.slice(1), ...args, "-o", "json"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));
    }
}

function target(stack: string): Target {
    const { config, secretKeys } = loadStackConfig(PROJECT_DIR, stack);
    const app = parseConfig(rawConfig(stack, config, secretKeys));
    if (!app.database.inCluster) {
        fail(`stack ${stack} uses database.mode "${app.database.mode}": its backups are RDS's (docs/database.md, "Restore")`);
    }
    const backend = podLabels(app.release, "backend");
    return {
        namespace: app.namespace,
        cronJob: componentName(app.release, "mysql-backup"),
        backend: componentName(app.release, "backend"),
        backendSelector: Object.entries(backend).map(([k, v]) => `${k}=${v}`).join(","),
        deadlineSeconds: app.database.inCluster.backups.intervalMinutes * 60 + 120,
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const since = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)} s`;

/** Runs dumps.sh with `args` in a Job made from the CronJob; prints its log; true when it succeeded. */
async function runDumpsJob(k: Kubectl, t: Target, args: string[]): Promise<boolean> {
    const cronJob = k.json(["get", "cronjob", t.cronJob, "-n", t.namespace]);
    const template = cronJob.spec.jobTemplate;
    const podSpec = template.spec.template.spec;
    if (!podSpec.containers.some((c: any) => c.name === BACKUP_CONTAINER)) {
        fail(`CronJob ${t.namespace}/${t.cronJob} has no container "${BACKUP_CONTAINER}": not this program's backups`);
    }
    const name = `${t.cronJob}-${args[0]}-${Math.floor(Date.now() / 1000)}`;
    const job = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
            name,
            namespace: t.namespace,
            labels: template.metadata?.labels,
            annotations: { "kubepolaris.io/db-command": args.join(" ") },
            // Owned by the CronJob: deleting the stack deletes it (and releases the volume) too.
            ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: t.cronJob, uid: cronJob.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
            ...template.spec,
            backoffLimit: 0,
            template: {
                ...template.spec.template,
                spec: {
                    ...podSpec,
                    containers: podSpec.containers.map((c: any) => c.name === BACKUP_CONTAINER ? { ...c, command: ["sh", DUMPS_SCRIPT_PATH, ...args] } : c),
                },
            },
        },
    };
    k.ok(["create", "-f", "-"], JSON.stringify(job));
    const deadline = Date.now() + t.deadlineSeconds * 1000;
    let status: any = {};
    while (Date.now() < deadline) {
        status = k.json(["get", "job", name, "-n", t.namespace]).status ?? {};
        if ((status.succeeded ?? 0) > 0 || (status.conditions ?? []).some((c: any) => c.type === "Failed" && c.status === "True")) {
            break;
        }
        await sleep(1000);
    }
    const log = k.run(["logs", `job/${name}`, "-n", t.namespace, "-c", BACKUP_CONTAINER]);
    process.stdout.write(log.out.endsWith("\n") || log.out === "" ? log.out : `${log.out}\n`);
    const succeeded = (status.succeeded ?? 0) > 0;
    if (succeeded) {
        k.run(["delete", "job", name, "-n", t.namespace, "--wait=false"]);
    } else {
        console.error(`db: Job ${t.namespace}/${name} did not succeed (kept: kubectl -n ${t.namespace} describe job ${name})`);
    }
    return succeeded;
}

async function restore(k: Kubectl, t: Target, dump: string): Promise<boolean> {
    const start = Date.now();
    const replicas = k.json(["get", "deployment", t.backend, "-n", t.namespace]).spec.replicas ?? 1;
    const startAgain = `kubectl -n ${t.namespace} scale deployment/${t.backend} --replicas=${Math.max(replicas, 1)}`;
    // No writes while the tables are replaced, and no one served a half-loaded schema. With 0
    // replicas the HPA leaves the Deployment alone until it is scaled up again.
    k.ok(["scale", `deployment/${t.backend}`, "-n", t.namespace, "--replicas=0"]);
    const stopBy = Date.now() + 300_000;
    while (k.json(["get", "pods", "-n", t.namespace, "-l", t.backendSelector]).items.length > 0) {
        if (Date.now() > stopBy) {
            fail(`the backend's pods did not stop within 5 minutes; nothing was loaded. To start it again: ${startAgain}`);
        }
        await sleep(1000);
    }
    console.log(`db: backend stopped (${since(start)})`);
    const loadStart = Date.now();
    if (!await runDumpsJob(k, t, ["restore", dump])) {
        console.error(`db: the restore failed; the backend stays stopped. Once the database is right: ${startAgain}`);
        return false;
    }
    console.log(`db: loaded (${since(loadStart)})`);
    const backStart = Date.now();
    k.ok(["scale", `deployment/${t.backend}`, "-n", t.namespace, `--replicas=${Math.max(replicas, 1)}`]);
    const rollout = k.run(["rollout", "status", `deployment/${t.backend}`, "-n", t.namespace, "--timeout=300s"]);
    if (rollout.status !== 0) {
        console.error(`db: the backend did not become ready: ${rollout.out.trim()}`);
        return false;
    }
    console.log(`db: backend back (${since(backStart)}); restore took ${since(start)}`);
    return true;
}

async function main(argv: string[]): Promise<void> {
    const [verb, ...rest] = argv;
    if (!(VERBS as readonly string[]).includes(verb)) {
        fail(`unknown command "${verb ?? ""}"; allowed: ${VERBS.join(", ")}`);
    }
    let stack = "local";
    const positional: string[] = [];
    for (let i = 0; i < rest.length; i++) {
        if (rest[i] === "--stack") {
            stack = rest[++i] ?? fail("--stack needs a stack name");
        } else {
            positional.push(rest[i]);
        }
    }
    if (verb === "restore" ? positional.length !== 1 : positional.length !== 0) {
        fail(verb === "restore" ? "restore needs one dump name (npm run db:list) or \"latest\"" : `${verb} takes no arguments but --stack`);
    }
    const t = target(stack);
    const k = new Kubectl();
    const ok = (verb as Verb) === "restore" ? await restore(k, t, positional[0]) : await runDumpsJob(k, t, [verb]);
    process.exit(ok ? 0 : 1);
}

main(process.argv.slice(2)).catch((e) => fail(String(e?.stack ?? e)));
