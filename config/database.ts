// The `database` section: its mode (Amazon RDS, or a MySQL in the cluster for local and dev), the
// settings both modes share, and the in-cluster MySQL; rds.ts parses the RDS settings. Keys of one
// mode are refused in the other, so a stack cannot carry settings that silently do nothing.
import { BACKEND } from "../app/kubepolaris";
import { environmentsWhere, type EnvironmentDecisions } from "./environments";
import { MAX_BACKUP_RETENTION_DAYS, parseRds, RDS_KEYS } from "./rds";
import type { DatabaseConfig, Environment, InClusterBackupsConfig, InClusterMysqlConfig, ResourceSpec, Tier, TierProfile } from "./schema";
import { bool, dnsName, identifier, image, integer, matching, object, oneOf, orDefault, port, Problems } from "./validators";

// "pool" is known only to be refused with a reason (the backend fixes its pool in code).
const COMMON_KEYS = ["mode", "name", "user", "port", "requireTls", "pool", "backupRetentionDays"];
const IN_CLUSTER_KEYS = ["members", "image", "storageSize", "storageClassName", "backupIntervalMinutes", "backupStorageSize", "backupStorageClassName"];
const MODES = ["rds", "in-cluster"] as const;

/** Connections kept out of the backend pools' reach: operators, monitoring, replication. */
export const DB_RESERVED_CONNECTIONS = 20;
/** MySQL 8.4 LTS, for `database.members: 1`: the major RDS stacks default to (rds.ts); 8.0 reached its community end of life in April 2026. */
export const IN_CLUSTER_MYSQL_IMAGE = "docker.io/library/mysql:8.4.7";
/**
 * MariaDB 10.11 LTS (community support to February 2028), for a Galera cluster: the official image
 * carries Galera 4, mariadb-backup and socat (components/database/galeraCluster.ts). The same
 * release as Debian bookworm's, which the local stack's image is built from.
 */
export const IN_CLUSTER_GALERA_IMAGE = "docker.io/library/mariadb:10.11.19";
/** Galera members by default: the fewest that keep a majority after losing one (node or zone). */
export const DEFAULT_DATABASE_MEMBERS = 3;
/** The most members: every commit waits for all of them, so more only slows writes. */
const MAX_DATABASE_MEMBERS = 7;
/**
 * How often the in-cluster database is dumped, in minutes: divisors of an hour, so the schedule
 * (every N minutes) is evenly spaced, and at most 30, so a lost cluster loses under an hour of
 * writes even counting the dump's own time (the HA guide's RPO < 1 h).
 */
export const BACKUP_INTERVALS_MINUTES = [5, 10, 15, 20, 30] as const;
export const DEFAULT_BACKUP_INTERVAL_MINUTES = 30;
const IN_CLUSTER_MYSQL_RESOURCES: ResourceSpec = {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
};

export interface DatabaseContext {
    environment: Environment | undefined;
    tier: Tier | undefined;
    profile: TierProfile;
    decisions: EnvironmentDecisions;
    /** Keys the stack sets as secrets. */
    secretKeys: ReadonlySet<string>;
    awsRegion: string | undefined;
    /** Backend pods that may run at once: the HPA maximum plus a rollout surge. */
    backendMaxPods: number;
}

export function parseDatabase(p: Problems, raw: unknown, ctx: DatabaseContext): DatabaseConfig {
    const db = object(p, "database", raw, [...COMMON_KEYS, ...RDS_KEYS, ...IN_CLUSTER_KEYS], true);
    const mode = oneOf(MODES)(p, "database.mode", db.mode);
    if (mode && ctx.environment && !ctx.decisions.databaseModes.includes(mode)) {
        p.add("database.mode", mode, `${ctx.decisions.databaseModes.map((m) => `"${m}"`).join(", ")} on environment ${ctx.environment}`
            + ` ("${mode}" is for ${environmentsWhere((d) => d.databaseModes.includes(mode))} only)`);
    }
    if (mode) {
        const other = mode === "rds" ? "in-cluster" : "rds";
        for (const key of mode === "rds" ? IN_CLUSTER_KEYS : RDS_KEYS) {
            if (key in db) {
                p.add(`database.${key}`, db[key], `nothing with database.mode "${mode}" (the key is for mode "${other}")`);
            }
        }
    }

    // The backend hard-codes its pool and reads no DB_MAX_* variable: a pool setting would lie.
    if ("pool" in db) {
        p.add("database.pool", db.pool, `nothing: the backend's pool is fixed in its code (${BACKEND.dbPool.maxOpenConns} open,`
            + ` ${BACKEND.dbPool.maxIdleConns} idle, ${BACKEND.dbPool.connMaxLifetimeSeconds} s lifetime) and max_connections is sized from it`);
    }
    const requireTls = orDefault(p, "database.requireTls", db.requireTls, BACKEND.supportsDatabaseTls, bool);
    if (requireTls && !BACKEND.supportsDatabaseTls) {
        p.add("database.requireTls", requireTls, "false: the backend's MySQL DSN has no TLS option, so with TLS required"
            + " it cannot connect and exits at start-up (see docs/how-it-works.md, \"What the app really does\")");
    }

    // Passwords: RDS generates its master password unless databasePassword is set; the in-cluster
    // MySQL takes both from stack config, so the local stack needs no random provider.
    if (mode === "in-cluster") {
        for (const key of ["databasePassword", "databaseRootPassword"]) {
            if (!ctx.secretKeys.has(key)) {
                p.add(key, undefined, `a secret (\`pulumi config set --secret ${key} …\`): database.mode "in-cluster" takes its passwords from stack config`);
            }
        }
    } else if (mode === "rds" && ctx.secretKeys.has("databaseRootPassword")) {
        p.add("databaseRootPassword", "<secret>", `nothing with database.mode "rds" (RDS has one master user, its password is databasePassword)`);
    }

    const backupRetentionDays = parseBackupRetentionDays(p, db, ctx);
    return {
        mode: mode ?? "rds",
        name: orDefault(p, "database.name", db.name, "kubepolaris", identifier),
        user: orDefault(p, "database.user", db.user, "kubepolaris", identifier),
        port: orDefault(p, "database.port", db.port, 3306, port),
        sizing: ctx.profile.database,
        maxConnections: BACKEND.dbPool.maxOpenConns * ctx.backendMaxPods + DB_RESERVED_CONNECTIONS,
        requireTls,
        rds: mode === "rds" ? parseRds(p, db, ctx, backupRetentionDays) : undefined,
        inCluster: mode === "in-cluster" ? parseInCluster(p, db, backupRetentionDays) : undefined,
    };
}

/**
 * How many days backups are kept, in either mode (RDS's automated backups, or the in-cluster dumps):
 * at least the environment's floor. 0 is refused by name: on RDS it turns backups and
 * point-in-time restore off.
 */
function parseBackupRetentionDays(p: Problems, db: Record<string, any>, ctx: DatabaseContext): number {
    const minRetention = ctx.decisions.minBackupRetentionDays;
    const onEnvironment = ctx.environment ? `environment ${ctx.environment}` : undefined;
    if (db.backupRetentionDays === 0 || db.backupRetentionDays === "0") {
        p.add("database.backupRetentionDays", db.backupRetentionDays, `an integer from ${minRetention} to ${MAX_BACKUP_RETENTION_DAYS}`
            + `${onEnvironment ? ` on ${onEnvironment}` : ""} (0 turns off automated backups and point-in-time restore)`);
        return minRetention;
    }
    return orDefault(p, "database.backupRetentionDays", db.backupRetentionDays, minRetention,
        integer(minRetention, MAX_BACKUP_RETENTION_DAYS, onEnvironment));
}

function parseInCluster(p: Problems, db: Record<string, any>, backupRetentionDays: number): InClusterMysqlConfig {
    const members = orDefault(p, "database.members", db.members, DEFAULT_DATABASE_MEMBERS, integer(1, MAX_DATABASE_MEMBERS));
    if (members > 1 && members % 2 === 0) {
        p.add("database.members", db.members, `1 or an odd number from 3 to ${MAX_DATABASE_MEMBERS}: with ${members} members`
            + ` a split into two halves leaves no majority, and the cluster stops taking writes on both sides`);
    }
    return {
        members,
        image: orDefault(p, "database.image", db.image, members === 1 ? IN_CLUSTER_MYSQL_IMAGE : IN_CLUSTER_GALERA_IMAGE, image),
        storageSize: orDefault(p, "database.storageSize", db.storageSize, "10Gi", matching(/^[1-9]\d*(Mi|Gi|Ti)$/, "a volume size such as 10Gi")),
        storageClassName: db.storageClassName === undefined ? undefined : dnsName(1)(p, "database.storageClassName", db.storageClassName),
        resources: IN_CLUSTER_MYSQL_RESOURCES,
        backups: parseInClusterBackups(p, db, backupRetentionDays),
    };
}

function parseInClusterBackups(p: Problems, db: Record<string, any>, retentionDays: number): InClusterBackupsConfig {
    const intervalMinutes = orDefault(p, "database.backupIntervalMinutes", db.backupIntervalMinutes, DEFAULT_BACKUP_INTERVAL_MINUTES,
        integer(BACKUP_INTERVALS_MINUTES[0], BACKUP_INTERVALS_MINUTES[BACKUP_INTERVALS_MINUTES.length - 1]));
    if (!(BACKUP_INTERVALS_MINUTES as readonly number[]).includes(intervalMinutes)) {
        p.add("database.backupIntervalMinutes", db.backupIntervalMinutes, `one of ${BACKUP_INTERVALS_MINUTES.join(", ")}: a divisor of an hour`
            + " (evenly spaced dumps) of at most 30, so a lost cluster loses under an hour of writes (RPO < 1 h)");
    }
    return {
        intervalMinutes,
        retentionDays,
        storageSize: orDefault(p, "database.backupStorageSize", db.backupStorageSize, "5Gi", matching(/^[1-9]\d*(Mi|Gi|Ti)$/, "a volume size such as 5Gi")),
        storageClassName: db.backupStorageClassName === undefined ? undefined
            : dnsName(1)(p, "database.backupStorageClassName", db.backupStorageClassName),
    };
}
