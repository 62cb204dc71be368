// The RDS settings of the `database` section: network placement, backups and maintenance, keys,
// read replicas, alarms and the DR copy. What differs per environment (retention floor, deletion
// protection, final snapshot, monitoring, log retention) comes from environments.ts.
import type { DatabaseContext } from "./database";
import type { DatabaseDrConfig, DbSubnet, DrReplicaConfig, RdsConfig } from "./schema";
import { bool, cidr, integer, listOf, matching, object, orDefault, Problems } from "./validators";

export const RDS_KEYS = [
    "engineVersion", "vpcId", "subnets", "primaryAz", "allowedSecurityGroupIds", "allowedCidrs", "publiclyAccessible",
    "backupWindow", "maintenanceWindow", "kmsKeyArn", "readReplicas", "readReplicasReason", "alarmTopicArn",
    "alarmEmails", "drRegion", "drKmsKeyArn", "drBackupRetentionDays", "drReplica", "extendedSupportOptIn",
];

/**
 * The MySQL major versions RDS runs, and whether RDS standard support has ended for them (AWS,
 * "Supported MySQL major versions on Amazon RDS": 8.0's community end of life was April 2026 and
 * its RDS standard support ended on 2026-07-31; past that date an 8.0 instance runs in paid RDS
 * Extended Support). A retired major is refused unless the stack opts into Extended Support by
 * naming it (database.extendedSupportOptIn).
 */
export const MYSQL_MAJOR_VERSIONS: Readonly<Record<string, { standardSupportEnded: boolean }>> = Object.freeze({
    "8.0": { standardSupportEnded: true },
    "8.4": { standardSupportEnded: false },
});
/** The engine a stack gets when it names none: the newest major in RDS standard support. */
export const DEFAULT_MYSQL_VERSION = "8.4";

/** The most read replicas a stack may ask for (RDS allows 15; more would be a new design). */
export const MAX_READ_REPLICAS = 5;
/** RDS keeps automated backups for at most 35 days (the in-cluster dumps use the same limit). */
export const MAX_BACKUP_RETENTION_DAYS = 35;

const AWS_ID = (prefix: string) => new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const AZ_NAME = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+[a-z]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HH_MM = "([01]\\d|2[0-3]):([0-5]\\d)";
const BACKUP_WINDOW = new RegExp(`^${HH_MM}-${HH_MM}$`);
const MAINTENANCE_WINDOW = new RegExp(`^(${DAYS.join("|")}):${HH_MM}-(${DAYS.join("|")}):${HH_MM}$`);
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;

const vpcId = matching(AWS_ID("vpc"), "a VPC id such as vpc-0a1b2c3d4e5f67890");
const securityGroupIds = listOf(matching(AWS_ID("sg"), "a security group id such as sg-0a1b2c3d4e5f67890"),
    "a list, each a security group id such as sg-0a1b2c3d4e5f67890");
const alarmEmails = listOf(matching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address"), "a list, each an e-mail address");
/** CIDRs that may reach the database: the cluster's own network, never the whole internet. */
const privateCidrs = listOf((p, key, value) => {
    const block = cidr("10.0.96.0/20")(p, key, value);
    if (block && Number(block.split("/")[1]) < 8) {
        p.add(key, value, "a CIDR block of /8 or narrower (the cluster's network): the database is never opened to the internet");
        return undefined;
    }
    return block;
}, "a list of IPv4 CIDR blocks such as 10.0.0.0/16");

/** `backupRetentionDays`: parsed once for both modes (database.ts, parseBackupRetentionDays). */
export function parseRds(p: Problems, db: Record<string, any>, ctx: DatabaseContext, backupRetentionDays: number): RdsConfig {
    const { engineVersion, engineLifecycleSupport } = parseEngine(p, db);

    const vpc = vpcId(p, "database.vpcId", db.vpcId);
    const subnets = dbSubnets(p, db.subnets, ctx.awsRegion);
    const region = ctx.awsRegion ?? (subnets.length > 0 ? regionOfAz(subnets[0].az) : "");
    const zones = [...new Set(subnets.map((s) => s.az))];
    if (db.primaryAz !== undefined && !zones.includes(db.primaryAz)) {
        p.add("database.primaryAz", db.primaryAz, `one of the subnets' availability zones: ${zones.join(", ") || "(no valid subnets)"}`);
    }

    const allowedSecurityGroupIds = orDefault(p, "database.allowedSecurityGroupIds", db.allowedSecurityGroupIds, [], securityGroupIds);
    const allowedCidrs = orDefault(p, "database.allowedCidrs", db.allowedCidrs, [], privateCidrs);
    const isEmpty = (list: unknown) => list === undefined || (Array.isArray(list) && list.length === 0);
    if (isEmpty(db.allowedSecurityGroupIds) && isEmpty(db.allowedCidrs)) {
        p.add("database.allowedSecurityGroupIds", db.allowedSecurityGroupIds,
            "at least one security group id (the EKS cluster security group of the nodes and pods) or a CIDR in database.allowedCidrs: "
            + "port 3306 is opened to nothing else");
    }
    if (db.publiclyAccessible !== undefined && bool(p, "database.publiclyAccessible", db.publiclyAccessible)) {
        p.add("database.publiclyAccessible", db.publiclyAccessible, "false: the database gets no public address and is reached only from inside the VPC");
    }

    const backupWindow = db.backupWindow ?? "01:00-02:00";
    const maintenanceWindow = db.maintenanceWindow ?? "sun:03:00-sun:04:00";
    const backup = windowMinutes(p, "database.backupWindow", backupWindow, BACKUP_WINDOW, DAY_MINUTES,
        `a daily UTC window "hh:mm-hh:mm" of at least 30 minutes, such as "01:00-02:00"`);
    const maintenance = windowMinutes(p, "database.maintenanceWindow", maintenanceWindow, MAINTENANCE_WINDOW, WEEK_MINUTES,
        `a weekly UTC window "ddd:hh:mm-ddd:hh:mm" of at least 30 minutes, such as "sun:03:00-sun:04:00"`);
    if (backup && maintenance) {
        const clash = DAYS.some((_, day) => circularOverlap(day * DAY_MINUTES + backup.start, backup.length, maintenance.start, maintenance.length, WEEK_MINUTES));
        if (clash) {
            p.add("database.maintenanceWindow", maintenanceWindow, `a window that does not overlap the daily backup window ${backupWindow} (database.backupWindow)`);
        }
    }

    const kmsKeyArn = kmsKey(p, "database.kmsKeyArn", db.kmsKeyArn, region);

    const { readReplicas, readReplicasReason } = parseReadReplicas(p, db);

    const alarmTopicArn = alarmTopic(p, db.alarmTopicArn, region);
    const emails = orDefault(p, "database.alarmEmails", db.alarmEmails, [], alarmEmails);
    const dr = parseDr(p, db, region, backupRetentionDays);

    const decisions = ctx.decisions;
    return {
        engineVersion,
        parameterGroupFamily: `mysql${majorOf(engineVersion)}`,
        engineLifecycleSupport,
        region,
        vpcId: vpc ?? "",
        subnets,
        primaryAz: db.primaryAz ?? subnets[0]?.az ?? "",
        allowedSecurityGroupIds,
        allowedCidrs,
        backupRetentionDays,
        backupWindow,
        maintenanceWindow,
        deletionProtection: decisions.deletionProtection,
        finalSnapshot: decisions.finalSnapshot,
        kmsKeyArn,
        readReplicas,
        readReplicasReason,
        performanceInsightsRetentionDays: 7,
        monitoringIntervalSeconds: decisions.monitoringIntervalSeconds,
        logRetentionDays: decisions.logRetentionDays,
        alarmTopicArn,
        alarmEmails: emails,
        dr,
    };
}

/** "8.4.3" → "8.4". */
function majorOf(version: string): string {
    return version.split(".").slice(0, 2).join(".");
}

/** The engine version, refusing a retired major unless the stack opted into paid Extended Support for it by name. */
function parseEngine(p: Problems, db: Record<string, any>): Pick<RdsConfig, "engineVersion" | "engineLifecycleSupport"> {
    const majors = Object.keys(MYSQL_MAJOR_VERSIONS);
    const engineVersion = orDefault(p, "database.engineVersion", db.engineVersion, DEFAULT_MYSQL_VERSION, matching(/^8\.(0|4)(\.\d{1,2})?$/,
        `a MySQL ${majors.join(" or ")} engine version: "${DEFAULT_MYSQL_VERSION}" (the newest minor, upgraded automatically) or a full one such as "8.4.3"`));
    const major = majorOf(engineVersion);
    const retired = MYSQL_MAJOR_VERSIONS[major]?.standardSupportEnded ?? false;
    const optIn = db.extendedSupportOptIn;
    if (optIn !== undefined && (!retired || optIn !== major)) {
        p.add("database.extendedSupportOptIn", optIn, retired
            ? `"${major}" (the retired major of database.engineVersion ${engineVersion}), or nothing`
            : `nothing with database.engineVersion ${engineVersion}: ${major} is in RDS standard support, there is no Extended Support to opt into`);
    } else if (retired && optIn === undefined) {
        p.add("database.engineVersion", engineVersion, `a major version in RDS standard support (${majors.filter((m) => !MYSQL_MAJOR_VERSIONS[m].standardSupportEnded).join(", ")}): `
            + `RDS standard support for MySQL ${major} has ended, so the instance would run in paid RDS Extended Support. `
            + `To keep ${major} anyway (and pay for it), set database.extendedSupportOptIn: "${major}"`);
    }
    return {
        engineVersion,
        engineLifecycleSupport: retired && optIn === major ? "open-source-rds-extended-support" : "open-source-rds-extended-support-disabled",
    };
}

/** In-region read replicas: none unless asked for, with the reason (the backend never reads from them). */
function parseReadReplicas(p: Problems, db: Record<string, any>): Pick<RdsConfig, "readReplicas" | "readReplicasReason"> {
    const readReplicas = orDefault(p, "database.readReplicas", db.readReplicas, 0, integer(0, MAX_READ_REPLICAS));
    const reason = db.readReplicasReason;
    if (readReplicas > 0 && (typeof reason !== "string" || reason.trim().length < 10)) {
        p.add("database.readReplicasReason", reason, `a sentence saying what reads from the ${readReplicas} in-region read replica(s) `
            + "(database.readReplicas): KubePolaris 1.0.5 sends every query to DB_HOST (no read/write split; its pool and DSN are "
            + "fixed in code) and Multi-AZ already covers a zone, so a replica takes none of its load; for a region loss use database.drReplica");
    } else if (readReplicas === 0 && reason !== undefined) {
        p.add("database.readReplicasReason", reason, "nothing unless database.readReplicas is above 0");
    }
    return { readReplicas, readReplicasReason: readReplicas > 0 ? reason : undefined };
}

function alarmTopic(p: Problems, raw: unknown, region: string): string | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const arn = matching(SNS_TOPIC_ARN, "a standard (not FIFO) SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:oncall")(
        p, "database.alarmTopicArn", raw);
    const topicRegion = arn ? SNS_TOPIC_ARN.exec(arn)![1] : undefined;
    if (topicRegion && region && topicRegion !== region) {
        p.add("database.alarmTopicArn", arn, `a topic in ${region}: CloudWatch alarms and RDS events publish only to topics of their own region`);
    }
    return arn;
}

/** Automated backups copied to a second region, when database.drRegion is set. */
function parseDr(p: Problems, db: Record<string, any>, region: string, backupRetentionDays: number): DatabaseDrConfig | undefined {
    if (db.drRegion === undefined) {
        for (const key of ["drKmsKeyArn", "drBackupRetentionDays", "drReplica"]) {
            if (key in db) {
                p.add(`database.${key}`, db[key], "nothing unless database.drRegion is set");
            }
        }
        return undefined;
    }
    const drRegion = matching(REGION, "an AWS region name such as eu-central-1")(p, "database.drRegion", db.drRegion);
    if (drRegion && drRegion === region) {
        p.add("database.drRegion", drRegion, `a region other than the primary region ${region} (aws:region): a copy in the same region does not survive a regional outage`);
    }
    return {
        region: drRegion ?? "",
        kmsKeyArn: kmsKey(p, "database.drKmsKeyArn", db.drKmsKeyArn, drRegion),
        backupRetentionDays: orDefault(p, "database.drBackupRetentionDays", db.drBackupRetentionDays, backupRetentionDays,
            integer(7, MAX_BACKUP_RETENTION_DAYS)),
        replica: db.drReplica === undefined ? undefined : parseDrReplica(p, db.drReplica, drRegion),
    };
}

/** The cross-region read replica's network in the DR region. */
function parseDrReplica(p: Problems, raw: unknown, drRegion: string | undefined): DrReplicaConfig {
    const r = object(p, "database.drReplica", raw, ["vpcId", "subnets", "allowedSecurityGroupIds", "allowedCidrs"], true);
    return {
        vpcId: vpcId(p, "database.drReplica.vpcId", r.vpcId) ?? "",
        subnets: dbSubnets(p, r.subnets, drRegion, "database.drReplica.subnets"),
        allowedSecurityGroupIds: orDefault(p, "database.drReplica.allowedSecurityGroupIds", r.allowedSecurityGroupIds, [], securityGroupIds),
        allowedCidrs: orDefault(p, "database.drReplica.allowedCidrs", r.allowedCidrs, [], privateCidrs),
    };
}

function dbSubnets(p: Problems, raw: unknown, awsRegion: string | undefined, listKey = "database.subnets"): DbSubnet[] {
    const allowed = "a list of at least 2 private subnets in distinct availability zones, each {id: subnet-…, az: eu-west-1a, cidr: 10.0.96.0/20}";
    if (!Array.isArray(raw)) {
        p.add(listKey, raw, allowed);
        return [];
    }
    const subnets: DbSubnet[] = [];
    raw.forEach((entry, i) => {
        const key = `${listKey}[${i}]`;
        const s = object(p, key, entry, ["id", "az", "cidr"], true);
        const id = matching(AWS_ID("subnet"), "a subnet id such as subnet-0a1b2c3d4e5f67890")(p, `${key}.id`, s.id);
        const az = matching(AZ_NAME, "an availability zone name such as eu-west-1a")(p, `${key}.az`, s.az);
        const block = cidr("10.0.96.0/20")(p, `${key}.cidr`, s.cidr);
        if (az && awsRegion && regionOfAz(az) !== awsRegion) {
            p.add(`${key}.az`, az, `an availability zone of the stack's region ${awsRegion} (${listKey === "database.subnets" ? "aws:region" : "database.drRegion"})`);
        }
        if (id && subnets.some((other) => other.id === id)) {
            p.add(`${key}.id`, id, "a subnet not listed before (each subnet once)");
        } else if (id && az && block) {
            subnets.push({ id, az, cidr: block });
        }
    });
    const zones = new Set(subnets.map((s) => s.az));
    const regions = new Set(subnets.map((s) => regionOfAz(s.az)));
    if (raw.length < 2) {
        p.add(listKey, raw, `${allowed}: a DB subnet group spans at least 2 AZs, and Multi-AZ keeps its standby in another AZ than the writer`);
    } else if (subnets.length === raw.length && zones.size < 2) {
        p.add(listKey, raw, `${allowed}: all ${raw.length} are in ${[...zones].join(", ")}, so losing that one AZ takes the writer and its standby down together`);
    } else if (!awsRegion && regions.size > 1) {
        p.add(listKey, raw, `${allowed}, all in one region (found ${[...regions].join(", ")})`);
    }
    return subnets;
}

/** "eu-west-1a" → "eu-west-1". */
function regionOfAz(az: string): string {
    return az.replace(/[a-z]$/, "");
}

function kmsKey(p: Problems, key: string, value: unknown, region: string | undefined): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    const arn = matching(KMS_KEY_ARN, "a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<uuid> (an alias is not enough)")(p, key, value);
    const keyRegion = arn ? KMS_KEY_ARN.exec(arn)![1] : undefined;
    if (keyRegion && region && keyRegion !== region) {
        p.add(key, value, `a key in ${region}: a KMS key encrypts only in its own region`);
        return undefined;
    }
    return arn;
}

/** Start (minutes into the day or week) and length of an RDS window; undefined when invalid. */
function windowMinutes(p: Problems, key: string, value: unknown, pattern: RegExp, period: number, allowed: string):
    { start: number; length: number } | undefined {
    const m = typeof value === "string" ? pattern.exec(value) : null;
    if (!m) {
        p.add(key, value, allowed);
        return undefined;
    }
    const parts = m.slice(1);
    const at = (day: string | undefined, hh: string, mm: string) => (day ? DAYS.indexOf(day) * DAY_MINUTES : 0) + Number(hh) * 60 + Number(mm);
    const [start, end] = period === DAY_MINUTES
        ? [at(undefined, parts[0], parts[1]), at(undefined, parts[2], parts[3])]
        : [at(parts[0], parts[1], parts[2]), at(parts[3], parts[4], parts[5])];
    const length = (end - start + period) % period;
    if (length < 30) {
        p.add(key, value, allowed);
        return undefined;
    }
    return { start, length };
}

/** Whether [a, a+aLength) and [b, b+bLength) meet on a circle of `period` minutes. */
function circularOverlap(a: number, aLength: number, b: number, bLength: number, period: number): boolean {
    const mod = (x: number) => ((x % period) + period) % period;
    return mod(b - a) < aLength || mod(a - b) < bLength;
}
