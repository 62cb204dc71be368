// Numbered writes to the database through the Service the backend uses, and what came of them:
// which were acknowledged, which failed and how, how long writes stopped, and whether every
// acknowledged write is still there afterwards. The database drills and the local stack's
// failover check (test/cluster/local-app.test.ts) run it around a member loss.
//
// The writer is a pod in the database's namespace running the database image's own client: one
// INSERT per connection (as a pool reconnecting after a member loss would), a row numbered 1, 2,
// 3, … every `intervalS`, each bounded by a timeout so a member that stops answering shows as a
// gap, not a hang. After `seconds` it waits `readBackAfterS`, reads every row back through the
// same Service and drops its table. Its log is the record: "ok <n> <epoch s>", "fail <n> <epoch s>
// <error>", "present <n>", "done".

import type { V1PodDNSConfig } from "@kubernetes/client-node";

/** The label that selects writer pods (and that their NetworkPolicies name). */
export const WRITER_LABEL = { "kubepolaris.io/drill": "database-writer" } as const;

export interface WriterOptions {
    /** Pod name (also names its table and NetworkPolicies). */
    name: string;
    namespace: string;
    /** An image with a MariaDB/MySQL client, `sh`, `timeout` and `date +%s.%N`, running as `uid`. */
    image: string;
    uid: number;
    /** The database Service the backend uses. */
    host: string;
    /** The pod's resolver options: the backend's, so the writer looks the host up as the backend does. Default: the cluster's. */
    dnsConfig?: V1PodDNSConfig;
    port: number;
    database: string;
    user: string;
    /** Where the user's password is (the stack's credentials Secret). */
    passwordSecret: { name: string; key: string };
    /** The database pods' labels: the NetworkPolicies let the writer reach them (undefined: the namespace has no policies). */
    databaseLabels?: Record<string, string>;
    /** How long to write. */
    seconds: number;
    /** Pause between writes. Default 0.1 s. */
    intervalS?: number;
    /** Wait this long after the last write before reading back. Default 5 s. */
    readBackAfterS?: number;
    /** Longest a single write may take before it counts as failed. Default 5 s. */
    writeTimeoutS?: number;
    /** Nodes the writer must not run on (the one a drill is about to lose). Default: none. */
    avoidNodes?: string[];
}

/** The writer's Pod and, where the namespace denies by default, the NetworkPolicies that let it reach the database. */
export function writerObjects(o: WriterOptions): Record<string, unknown>[] {
    const table = `drill_writes_${o.name.replace(/[^a-zA-Z0-9]/g, "_")}`;
    const timeout = o.writeTimeoutS ?? 5;
    const client = `timeout ${timeout} mariadb --connect-timeout=2 --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" "$DB_NAME"`;
    const script = [
        "set -u",
        `until ${client} -e "CREATE TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY, written_at DATETIME(6) NOT NULL)"; do sleep 1; done`,
        `end=$(( $(date +%s) + ${o.seconds} )); n=0`,
        `while [ "$(date +%s)" -lt "$end" ]; do`,
        "  n=$((n + 1)); t=$(date +%s.%N)",
        `  if out=$(${client} -e "INSERT INTO ${table} VALUES ($n, NOW(6))" 2>&1); then echo "ok $n $t"; else echo "fail $n $t $(echo "$out" | tr '\\n' ' ' | cut -c1-160)"; fi`,
        `  sleep ${o.intervalS ?? 0.1}`,
        "done",
        `sleep ${o.readBackAfterS ?? 5}`,
        // Read back until a member answers (bounded), then drop the table.
        "i=0",
        `until rows=$(${client} --batch --skip-column-names -e "SELECT id FROM ${table} ORDER BY id"); do i=$((i + 1)); [ "$i" -lt 120 ] || { echo "readback-failed"; exit 1; }; sleep 1; done`,
        `echo "$rows" | sed -n 's/^\\([0-9][0-9]*\\)$/present \\1/p'`,
        `${client} -e "DROP TABLE ${table}" || :`,
        "echo done",
    ].join("\n");
    const pod = {
        apiVersion: "v1", kind: "Pod",
        metadata: { name: o.name, namespace: o.namespace, labels: { ...WRITER_LABEL } },
        spec: {
            restartPolicy: "Never",
            terminationGracePeriodSeconds: 1,
            affinity: o.avoidNodes?.length ? {
                nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: o.avoidNodes }] }] } },
            } : undefined,
            automountServiceAccountToken: false,
            dnsConfig: o.dnsConfig,
            securityContext: { runAsNonRoot: true, runAsUser: o.uid, runAsGroup: o.uid, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "writer", image: o.image, imagePullPolicy: "IfNotPresent",
                command: ["sh", "-c", script],
                env: [
                    { name: "DB_HOST", value: o.host }, { name: "DB_PORT", value: String(o.port) },
                    { name: "DB_NAME", value: o.database }, { name: "DB_USER", value: o.user },
                    // The client reads MYSQL_PWD: the password never appears in a command line.
                    { name: "MYSQL_PWD", valueFrom: { secretKeyRef: o.passwordSecret } },
                ],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "128Mi", "ephemeral-storage": "64Mi" } },
            }],
        },
    };
    if (!o.databaseLabels) {
        return [pod];
    }
    const port = [{ protocol: "TCP", port: o.port }];
    return [
        {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: `${o.name}-to-database`, namespace: o.namespace },
            spec: { podSelector: { matchLabels: WRITER_LABEL }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: o.databaseLabels } }], ports: port }] },
        },
        {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: `database-from-${o.name}`, namespace: o.namespace },
            spec: { podSelector: { matchLabels: o.databaseLabels }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: WRITER_LABEL } }], ports: port }] },
        },
        pod,
    ];
}

/** A Service's name as the search list completes it (`name.namespace.svc`), from its full name. */
export function searchListName(host: string): string {
    const m = /^([^.]+\.[^.]+\.svc)(\.|$)/.exec(host);
    if (!m) {
        throw new Error(`${host} is not a Service's name (<name>.<namespace>.svc…)`);
    }
    return m[1];
}

/** The one-pod database's user, schema and the keys of its Secret (`onePodDatabaseObjects`). */
export const ONE_POD_DATABASE = { database: "kubepolaris", user: "kubepolaris", passwordKey: "password", port: 3306, uid: 999 } as const;

/**
 * A database as a quick install has it: one MariaDB pod (the image's MySQL-compatible entrypoint)
 * on one volume behind a Service, in a namespace of its own, every object named `name`. The
 * negative control of the failover check and the naive rows of the database drills.
 */
export function onePodDatabaseObjects(o: { namespace: string; name: string; image: string; imagePullPolicy: "Never" | "IfNotPresent" }): Record<string, unknown>[] {
    const labels = { app: o.name };
    const d = ONE_POD_DATABASE;
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } },
        // Throwaway passwords of a throwaway database.
        { apiVersion: "v1", kind: "Secret", metadata: { name: o.name, namespace: o.namespace }, stringData: { [d.passwordKey]: `${o.name}-user-pw`, root: `${o.name}-root-pw` } },
        { apiVersion: "v1", kind: "Service", metadata: { name: o.name, namespace: o.namespace }, spec: { selector: labels, ports: [{ port: d.port, targetPort: d.port }] } },
        {
            apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: o.name, namespace: o.namespace },
            spec: {
                replicas: 1, serviceName: o.name, selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        securityContext: { runAsNonRoot: true, runAsUser: d.uid, runAsGroup: d.uid, fsGroup: d.uid, seccompProfile: { type: "RuntimeDefault" } },
                        terminationGracePeriodSeconds: 30,
                        containers: [{
                            name: "mariadb", image: o.image, imagePullPolicy: o.imagePullPolicy, args: ["--datadir=/var/lib/mysql/data"],
                            env: [
                                { name: "MYSQL_DATABASE", value: d.database }, { name: "MYSQL_USER", value: d.user },
                                { name: "MYSQL_PASSWORD", valueFrom: { secretKeyRef: { name: o.name, key: d.passwordKey } } },
                                { name: "MYSQL_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: o.name, key: "root" } } },
                            ],
                            ports: [{ containerPort: d.port }],
                            readinessProbe: { tcpSocket: { port: d.port }, periodSeconds: 2 },
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "data", mountPath: "/var/lib/mysql" }],
                        }],
                    },
                },
                volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
            },
        },
    ];
}

export interface WriteAttempt {
    id: number;
    /** When the attempt started, epoch seconds. */
    at: number;
    ok: boolean;
    error?: string;
}

export interface WriterLog {
    attempts: WriteAttempt[];
    /** Row numbers read back at the end (undefined: the read-back never happened). */
    present?: Set<number>;
}

export function parseWriterLog(text: string): WriterLog {
    const attempts: WriteAttempt[] = [];
    const present = new Set<number>();
    let done = false;
    for (const line of text.split("\n")) {
        const m = /^(ok|fail) (\d+) (\d+(?:\.\d+)?)(?: (.*))?$/.exec(line.trim());
        if (m) {
            attempts.push({ id: Number(m[2]), at: Number(m[3]), ok: m[1] === "ok", error: m[4]?.trim() || undefined });
            continue;
        }
        const p = /^present (\d+)$/.exec(line.trim());
        if (p) {
            present.add(Number(p[1]));
        }
        if (line.trim() === "done") {
            done = true;
        }
    }
    return { attempts, present: done ? present : undefined };
}

export interface WriteFigures {
    attempts: number;
    acknowledged: number;
    failed: number;
    /** The failures' messages, counted. */
    errors: Record<string, number>;
    /** Acknowledged writes missing at the end: committed and lost. */
    lost: number[];
    /** The longest time without an acknowledged write, seconds, and when it began (relative to `since`). */
    longestGapS: number;
    gapStartS: number;
    /** Acknowledged writes between `away.from` + 1 s and `away.to`: writes that did not need the lost member. */
    acknowledgedWhileAway?: number;
}

/** The figures of a writer's log; times relative to `since` (epoch s), gaps measured from `since` on. */
export function writeFigures(log: WriterLog, since: number, away?: { from: number; to: number }): WriteFigures {
    const acknowledged = log.attempts.filter((a) => a.ok);
    const errors: Record<string, number> = {};
    for (const a of log.attempts.filter((x) => !x.ok)) {
        const key = (a.error ?? "no message").replace(/\d+(\.\d+)?/g, "N").slice(0, 100);
        errors[key] = (errors[key] ?? 0) + 1;
    }
    let longestGapS = 0;
    let gapStartS = 0;
    const times = [since, ...acknowledged.map((a) => a.at).filter((t) => t >= since)];
    const last = log.attempts.length > 0 ? log.attempts[log.attempts.length - 1].at : since;
    times.push(Math.max(last, since));
    for (let i = 1; i < times.length; i++) {
        if (times[i] - times[i - 1] > longestGapS) {
            longestGapS = times[i] - times[i - 1];
            gapStartS = times[i - 1] - since;
        }
    }
    return {
        attempts: log.attempts.length,
        acknowledged: acknowledged.length,
        failed: log.attempts.length - acknowledged.length,
        errors,
        lost: log.present ? acknowledged.filter((a) => !log.present!.has(a.id)).map((a) => a.id) : [],
        longestGapS: Math.round(longestGapS * 10) / 10,
        gapStartS: Math.round(gapStartS * 10) / 10,
        acknowledgedWhileAway: away ? acknowledged.filter((a) => a.at > away.from + 1 && a.at < away.to).length : undefined,
    };
}

/** The longest a member loss may stop writes for the failover check (a graceful loss takes well under a second). */
export const MEMBER_LOSS_MAX_GAP_S = 5;

/** What a database drill demands of the writes. */
export interface WriteGoal {
    /** The longest writes may stop (undefined: no limit). */
    maxGapS?: number;
    /** Writes must be acknowledged while the lost pod is away. */
    whileAway: boolean;
    /** The goal in words, for the report. */
    text: string;
}

/** The failover check's goal (CI, `database-restart`): writes go on while a member is away and never stop for more than 5 s. */
export const MEMBER_LOSS_GOAL: WriteGoal = {
    maxGapS: MEMBER_LOSS_MAX_GAP_S, whileAway: true,
    text: `none lost, writes go on while it is away, never stopped more than ${MEMBER_LOSS_MAX_GAP_S} s`,
};

/**
 * What the writes met against `goal` (by default the failover check's): no acknowledged write
 * lost, writes went on while the member was away, and they never stopped for longer than allowed.
 * A database of one pod fails the failover check (nothing takes writes while its pod is away).
 * Empty: passed.
 */
export function memberLossProblems(f: WriteFigures, readBack: boolean, goal: WriteGoal = MEMBER_LOSS_GOAL): string[] {
    const problems: string[] = [];
    if (!readBack) {
        problems.push("the rows were never read back");
    }
    if (f.lost.length > 0) {
        problems.push(`${f.lost.length} acknowledged writes lost (${f.lost.slice(0, 10).join(", ")}${f.lost.length > 10 ? ", …" : ""})`);
    }
    if (goal.whileAway && !f.acknowledgedWhileAway) {
        problems.push("no write was acknowledged while the member was away");
    }
    if (goal.maxGapS !== undefined && f.longestGapS > goal.maxGapS) {
        problems.push(`writes stopped for ${f.longestGapS} s (from ${f.gapStartS} s), more than ${goal.maxGapS} s`);
    }
    if (f.acknowledged === 0) {
        problems.push("no write was acknowledged at all");
    }
    return problems;
}

/** The HA guide's recovery objectives (seed 000): RTO < 30 min, RPO < 1 h. */
export const RECOVERY_GOAL = { rtoS: 30 * 60, rpoS: 60 * 60 } as const;

/** What the recovery drill measured, and what missed the guide's objectives. */
export interface RecoveryFigures {
    rtoS: number;
    /** The loss minus the dump's start: what this drill's restore could not bring back. */
    drillRpoS: number;
    /** The worst a scheduled dump can do: one interval (the dump's own seconds come on top). */
    scheduleRpoS: number;
    acknowledgedBeforeDump: number;
    /** Acknowledged before the dump started, yet absent after the restore: must be none. */
    missingBeforeDump: number[];
    /** Acknowledged after the dump started and before the loss, absent after the restore: lost by design. */
    lostAfterDump: number;
    problems: string[];
}

/** Judges a recovery: nothing acknowledged before the dump missing, RTO and RPO inside the guide's objectives. */
export function recoveryFigures(log: WriterLog, at: { dumpStart: number; lost: number; rtoS: number; intervalMinutes: number }): RecoveryFigures {
    const acknowledged = log.attempts.filter((a) => a.ok);
    const before = acknowledged.filter((a) => a.at < at.dumpStart);
    const present = log.present ?? new Set<number>();
    const missingBeforeDump = before.filter((a) => !present.has(a.id)).map((a) => a.id);
    const lostAfterDump = acknowledged.filter((a) => a.at >= at.dumpStart && a.at < at.lost && !present.has(a.id)).length;
    const drillRpoS = Math.round((at.lost - at.dumpStart) * 10) / 10;
    const scheduleRpoS = at.intervalMinutes * 60;
    const problems: string[] = [];
    if (!log.present) {
        problems.push("the rows were never read back");
    }
    if (before.length === 0) {
        problems.push("no write was acknowledged before the dump");
    }
    if (missingBeforeDump.length > 0) {
        problems.push(`${missingBeforeDump.length} writes acknowledged before the dump are missing (${missingBeforeDump.slice(0, 10).join(", ")})`);
    }
    if (at.rtoS >= RECOVERY_GOAL.rtoS) {
        problems.push(`RTO ${Math.round(at.rtoS)} s, not under ${RECOVERY_GOAL.rtoS} s`);
    }
    if (scheduleRpoS >= RECOVERY_GOAL.rpoS || drillRpoS >= RECOVERY_GOAL.rpoS) {
        problems.push(`RPO ${Math.max(scheduleRpoS, drillRpoS)} s, not under ${RECOVERY_GOAL.rpoS} s`);
    }
    return {
        rtoS: Math.round(at.rtoS * 10) / 10, drillRpoS, scheduleRpoS, acknowledgedBeforeDump: before.length,
        missingBeforeDump, lostAfterDump, problems,
    };
}
