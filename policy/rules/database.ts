// Amazon RDS: the HA guide's checklist items 数据库 HA 配置 (database HA) and 备份策略 (backups) —
// Multi-AZ, encrypted, point-in-time recovery, not deletable by accident, not on the internet,
// observable; the large tier splits reads onto replicas (the guide's recommended sizes, 推荐配置:
// large = 云 RDS + 读写分离, cloud RDS with a read/write split).
//
// A read replica (replicateSourceDb set) is exempt from Multi-AZ, backup retention and the
// explicit encryption flag: it inherits encryption from its source, and the source's backups and
// standby are what recovery relies on. A replica is recognised by replicateSourceDb being set or
// unknown (it is often another instance's output), never by reading the source's name.
import type { ResourceValidationArgs } from "@pulumi/policy";
import { TIERS } from "../facts";
import { has, Props, resourcePolicy, schema, setOrUnknown, stackPolicy } from "./common";

export const RDS_INSTANCE = "aws:rds/instance:Instance";

/** replicateSourceDb set (or unknown: it is usually the source instance's output). */
export function isReadReplica(props: Props): boolean {
    return setOrUnknown(props, "replicateSourceDb");
}

function rdsPolicy(def: Omit<Parameters<typeof resourcePolicy>[0], "types" | "validate"> & {
    replicas: "exempt" | "checked";
    validate(props: Props, args: ResourceValidationArgs, report: (message: string) => void): void;
}) {
    const { replicas, validate, ...meta } = def;
    return resourcePolicy({
        ...meta,
        types: [RDS_INSTANCE],
        validate(props, args, report) {
            if (replicas === "exempt" && isReadReplica(props)) {
                args.notApplicable("read replicas (replicateSourceDb) inherit this from their source instance");
            }
            validate(props, args, report);
        },
    });
}

export const rdsMultiAz = rdsPolicy({
    name: "rds-multi-az",
    description: "Every RDS instance that is not a read replica runs Multi-AZ (multiAz: true): a synchronous standby in "
        + "another zone takes over in about a minute when the primary's zone or host fails. Fix: multiAz: true.",
    enforcementLevel: "mandatory",
    severity: "critical",
    replicas: "exempt",
    validate(props, _args, report) {
        if (props.multiAz !== true) {
            report(`multiAz is ${has(props, "multiAz") ? props.multiAz : "unset (defaults to false)"}: a zone or host failure `
                + "takes the database down until AWS replaces it.");
        }
    },
});

export const rdsStorageEncrypted = rdsPolicy({
    name: "rds-storage-encrypted",
    description: "Every RDS instance encrypts its storage (storageEncrypted: true; read replicas inherit their "
        + "source's encryption but must not turn it off). Encryption can only be chosen at creation. Fix: "
        + "storageEncrypted: true (optionally kmsKeyId).",
    enforcementLevel: "mandatory",
    severity: "high",
    replicas: "checked",
    validate(props, _args, report) {
        if (isReadReplica(props)) {
            if (has(props, "storageEncrypted") && props.storageEncrypted === false) {
                report("storageEncrypted is false on a read replica.");
            }
            return;
        }
        if (props.storageEncrypted !== true) {
            report(`storageEncrypted is ${has(props, "storageEncrypted") ? props.storageEncrypted : "unset (defaults to false)"}.`);
        }
    },
});

export const rdsBackupRetention = rdsPolicy({
    name: "rds-backup-retention",
    description: "Every RDS instance that is not a read replica keeps automated backups for at least `minimumDays` "
        + "days (7 by default): backupRetentionPeriod 0 disables automated backups and point-in-time restore, and "
        + "when unset the API default is 1 day. Fix: backupRetentionPeriod ≥ 7.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: {
        properties: {
            minimumDays: schema.integer("Fewest days of automated backups.", 7, 1),
        },
    },
    replicas: "exempt",
    validate(props, args, report) {
        const { minimumDays } = args.getConfig<{ minimumDays: number }>();
        const days = has(props, "backupRetentionPeriod") ? props.backupRetentionPeriod : undefined;
        if (typeof days !== "number" || days < minimumDays) {
            report(`backupRetentionPeriod is ${days === undefined ? "unset (the API default is 1 day)" : days}`
                + `${days === 0 ? " (automated backups and point-in-time restore are off)" : ""}; at least ${minimumDays} days are required.`);
        }
    },
});

export const rdsDeletionProtection = rdsPolicy({
    name: "rds-deletion-protection",
    description: "RDS instances have deletionProtection: true, so neither a stray `pulumi destroy`/replacement nor the "
        + "console can delete them (mandatory in prod; a dev stack may disable the policy). Fix: deletionProtection: true.",
    enforcementLevel: "mandatory",
    severity: "high",
    replicas: "checked",
    validate(props, _args, report) {
        if (props.deletionProtection !== true) {
            report(`deletionProtection is ${has(props, "deletionProtection") ? props.deletionProtection : "unset (defaults to false)"}.`);
        }
    },
});

export const rdsNotPublic = rdsPolicy({
    name: "rds-not-public",
    description: "RDS instances are not publicly accessible (publiclyAccessible false or unset): the database is "
        + "reached from the cluster's VPC only. Fix: publiclyAccessible: false and private DB subnets.",
    enforcementLevel: "mandatory",
    severity: "critical",
    replicas: "checked",
    validate(props, _args, report) {
        if (has(props, "publiclyAccessible") && props.publiclyAccessible !== false) {
            report(`publiclyAccessible is ${props.publiclyAccessible}: the instance gets a public DNS name and address.`);
        }
    },
});

export const rdsPerformanceInsights = rdsPolicy({
    name: "rds-performance-insights",
    description: "RDS instances have Performance Insights on (performanceInsightsEnabled: true), to find the query "
        + "behind a latency alert. Fix: performanceInsightsEnabled: true.",
    enforcementLevel: "mandatory",
    severity: "medium",
    replicas: "checked",
    validate(props, _args, report) {
        if (props.performanceInsightsEnabled !== true) {
            report(`performanceInsightsEnabled is ${has(props, "performanceInsightsEnabled") ? props.performanceInsightsEnabled : "unset (defaults to false)"}.`);
        }
    },
});

export const rdsEnhancedMonitoring = rdsPolicy({
    name: "rds-enhanced-monitoring",
    description: "RDS instances have Enhanced Monitoring (monitoringInterval > 0, at most `maxIntervalSeconds`, with "
        + "a monitoringRoleArn): OS-level metrics for the database host. Fix: monitoringInterval: 60 and a role with "
        + "AmazonRDSEnhancedMonitoringRole.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: {
        properties: {
            maxIntervalSeconds: { type: "integer", enum: [1, 5, 10, 15, 30, 60], default: 60, description: "Coarsest monitoringInterval accepted." },
        },
    },
    replicas: "checked",
    validate(props, args, report) {
        const { maxIntervalSeconds } = args.getConfig<{ maxIntervalSeconds: number }>();
        const interval = has(props, "monitoringInterval") ? props.monitoringInterval : 0;
        if (typeof interval !== "number" || interval <= 0) {
            report(`monitoringInterval is ${has(props, "monitoringInterval") ? interval : "unset (0: Enhanced Monitoring off)"}.`);
            return;
        }
        if (interval > maxIntervalSeconds) {
            report(`monitoringInterval is ${interval}s; at most ${maxIntervalSeconds}s is allowed.`);
        }
        // Usually another resource's output: check that it is set, not its (possibly unknown) value.
        if (!setOrUnknown(props, "monitoringRoleArn")) {
            report("monitoringInterval is set without a monitoringRoleArn; RDS rejects it.");
        }
    },
});

export const rdsLargeTierReader = stackPolicy({
    name: "rds-large-tier-reader",
    description: "On the large tier (policy config `tier`, set per environment file to the stack's kubepolaris:tier) "
        + "the stack runs at least `minReaders` RDS read replica(s) (an aws.rds.Instance with replicateSourceDb) for "
        + "read/write splitting. Fix: add read replicas of the primary, or correct `tier` in policy/config/<env>.json. "
        + "Applies where the stack has an RDS instance, or everywhere with `requireInstance`.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            tier: { type: "string", enum: [...TIERS], description: "The stack's size tier." },
            minReaders: schema.integer("Read replicas the large tier needs.", 1, 1),
            requireInstance: { type: "boolean", default: false, description: "On the large tier, demand an RDS instance from a stack that has none." },
        },
    },
    validate(resources, args, report) {
        const { tier, minReaders, requireInstance } = args.getConfig<{ tier?: string; minReaders: number; requireInstance: boolean }>();
        if (tier === undefined) {
            args.notApplicable("no tier in the policy config");
        }
        if (tier !== "large") {
            args.notApplicable(`tier ${tier} needs no read replicas`);
        }
        const instances = resources.filter((r) => r.type === RDS_INSTANCE);
        const primaries = instances.filter((r) => !isReadReplica(r.props));
        const readers = instances.filter((r) => isReadReplica(r.props));
        if (primaries.length === 0 && !requireInstance) {
            args.notApplicable("the stack has no RDS instance");
        }
        if (primaries.length === 0) {
            report("the tier is large but the stack has no RDS instance: the large tier runs on RDS with read replicas.");
        } else if (readers.length < minReaders) {
            report(`the tier is large but the stack has ${readers.length} RDS read replica(s); at least ${minReaders} are required `
                + "to split reads from the writer.", primaries[0].urn);
        }
    },
});

export const databasePolicies = [
    rdsMultiAz,
    rdsStorageEncrypted,
    rdsBackupRetention,
    rdsDeletionProtection,
    rdsNotPublic,
    rdsPerformanceInsights,
    rdsEnhancedMonitoring,
    rdsLargeTierReader,
];
