// Backups of the in-cluster database (Galera or the one MySQL pod; RDS stacks have RDS's own):
// logical dumps of the app's schema on a schedule, to a volume of their own, kept for the
// retention period. A lost cluster (every member and its volume) is rebuilt empty by the
// StatefulSet and loaded from the newest dump (`npm run db:restore -- latest`, docs/database.md).
//
//   CronJob <release>-mysql-backup          every `intervalMinutes`: backup/dumps.sh backup
//   PersistentVolumeClaim <release>-mysql-backups   the dumps, apart from the members' volumes
//   ConfigMap <release>-mysql-backup        the script; `npm run db:*` runs Jobs made from the CronJob
//
// The pods connect as the app user through the database's Service (the baseline's NetworkPolicies
// admit them: podLabels(release, "mysql-backup")), the password read from the credentials Secret
// mounted as a file.
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imageUserWaivers, pullPolicyWaivers, waiverAnnotations } from "../checkerWaivers";
import { CLIENT_DNS_CONFIG } from "../clusterDns";
import { withEphemeralStorage } from "../ephemeralStorage";
import { componentName, podLabels } from "../labels";
import { restrictedContainerSecurity, restrictedPodSecurity } from "../podSecurity";
import { ContainerResources, ImagePullPolicy, RunAs } from "../types";
import { DatabaseConnection } from "./connection";

/** The script every backup pod runs, with its verb: backup (the schedule), list, restore NAME. */
export const DUMPS_SCRIPT = fs.readFileSync(path.join(__dirname, "backup", "dumps.sh"), "utf8");
/** Where the pods mount things; `npm run db:*` (scripts/db/db.ts) runs the script at SCRIPT_PATH. */
export const BACKUP_MOUNTS = { dumps: "/backups", scripts: "/scripts", credentials: "/credentials", tmp: "/tmp" } as const;
export const DUMPS_SCRIPT_PATH = `${BACKUP_MOUNTS.scripts}/dumps.sh`;
/** The container's name in the CronJob's pods (scripts/db/db.ts replaces its command). */
export const BACKUP_CONTAINER = "dumps";
/** A dump streams through gzip; the client needs little. The quota counts each running pod. */
export const BACKUP_JOB_RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
/** Scratch space for the option file (the root filesystem is read-only). */
const TMP_SIZE_LIMIT = "16Mi";

export interface DatabaseBackupsArgs {
    /** The release: prefix of the object names and part of the pods' labels. Required. */
    release: string;
    /** The database's namespace. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** The database the backend uses: the dumps connect where it does, as its user. Required. */
    connection: DatabaseConnection;
    /** An image with sh, gzip, sha256sum and the MariaDB or MySQL client and dumper: the database's own. Required. */
    image: string;
    /** When a node fetches the image. Default: "Always". */
    imagePullPolicy?: ImagePullPolicy;
    /** The image's non-root user and group. Required. */
    runAs: RunAs;
    /** Minutes between dumps: a divisor of 60 (the schedule is "every N minutes"), at most 30. Required. */
    intervalMinutes: number;
    /** Days a dump is kept (by the time in its name). Required. */
    retentionDays: number;
    /** The dumps' volume size, e.g. "5Gi". Required. */
    storageSize: string;
    /** The dumps' StorageClass. Default: the cluster's default. */
    storageClassName?: string;
    /** PriorityClass of the pods. Default: none. */
    priorityClassName?: pulumi.Input<string>;
    /** Default: BACKUP_JOB_RESOURCES. */
    resources?: ContainerResources;
}

/** The schedule for dumps every `minutes` (a divisor of an hour, so the dumps are evenly spaced). */
export function backupSchedule(minutes: number): string {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 30 || 60 % minutes !== 0) {
        throw new Error(`backup interval is ${minutes} minutes; allowed: a divisor of 60 from 1 to 30`);
    }
    return `*/${minutes} * * * *`;
}

export class DatabaseBackups extends pulumi.ComponentResource {
    public readonly cronJobName: pulumi.Output<string>;
    public readonly claimName: pulumi.Output<string>;
    /** The pods' labels: the baseline lets them reach the database. */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: DatabaseBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:database:DatabaseBackups", name, {}, opts);
        if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1) {
            throw new Error(`DatabaseBackups ${name}: retentionDays is ${args.retentionDays}; allowed: a whole number of at least 1`);
        }
        const schedule = backupSchedule(args.intervalMinutes);
        const selector = podLabels(args.release, "mysql-backup");
        const baseName = componentName(args.release, "mysql-backup");
        const labels = { ...args.labels, ...selector };
        const metadata = { name: baseName, namespace: args.namespace, labels };

        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, { metadata, data: { "dumps.sh": DUMPS_SCRIPT } }, { parent: this });
        const claim = new k8s.core.v1.PersistentVolumeClaim(`${name}-claim`, {
            metadata: { ...metadata, name: `${baseName}s` },
            spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storageClassName,
                resources: { requests: { storage: args.storageSize } },
            },
        }, { parent: this });

        const intervalSeconds = args.intervalMinutes * 60;
        const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, {
            metadata: {
                ...metadata,
                annotations: waiverAnnotations(imageUserWaivers(args.runAs), pullPolicyWaivers(args.imagePullPolicy, args.image)),
            },
            spec: {
                schedule,
                timeZone: "Etc/UTC",
                // One dump at a time; a run that could not start within half an interval is skipped
                // (the next one is closer), and a run lasting a whole interval is stopped.
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: intervalSeconds / 2,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: {
                    metadata: { labels },
                    spec: {
                        backoffLimit: 1,
                        activeDeadlineSeconds: intervalSeconds,
                        template: {
                            metadata: { labels },
                            spec: backupPodSpec(args, {
                                scriptsName: scripts.metadata.name,
                                claimName: claim.metadata.name,
                                secretName: args.connection.passwordSecret.name,
                                passwordKey: args.connection.passwordSecret.key,
                            }),
                        },
                    },
                },
            },
        }, { parent: this });

        this.cronJobName = cronJob.metadata.name;
        this.claimName = claim.metadata.name;
        this.podLabels = selector;
        this.registerOutputs({ cronJobName: this.cronJobName, claimName: this.claimName });
    }
}

interface PodRefs {
    scriptsName: pulumi.Input<string>;
    claimName: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    passwordKey: string;
}

function backupPodSpec(args: DatabaseBackupsArgs, refs: PodRefs): k8s.types.input.core.v1.PodSpec {
    return {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        priorityClassName: args.priorityClassName,
        securityContext: restrictedPodSecurity(args.runAs, { fsGroupChangePolicy: "OnRootMismatch" }),
        // Resolves the database's name as the backend does (clusterDns.ts).
        dnsConfig: CLIENT_DNS_CONFIG,
        containers: [{
            name: BACKUP_CONTAINER,
            image: args.image,
            imagePullPolicy: args.imagePullPolicy ?? "Always",
            command: ["sh", DUMPS_SCRIPT_PATH, "backup"],
            env: [
                { name: "DB_HOST", value: args.connection.host },
                { name: "DB_PORT", value: String(args.connection.port) },
                { name: "DB_NAME", value: args.connection.database },
                { name: "DB_USER", value: args.connection.username },
                { name: "DB_PASSWORD_FILE", value: `${BACKUP_MOUNTS.credentials}/password` },
                { name: "BACKUP_DIR", value: BACKUP_MOUNTS.dumps },
                { name: "RETENTION_DAYS", value: String(args.retentionDays) },
            ],
            resources: withEphemeralStorage(args.resources ?? BACKUP_JOB_RESOURCES, [TMP_SIZE_LIMIT]),
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                { name: "dumps", mountPath: BACKUP_MOUNTS.dumps },
                { name: "scripts", mountPath: BACKUP_MOUNTS.scripts, readOnly: true },
                { name: "credentials", mountPath: BACKUP_MOUNTS.credentials, readOnly: true },
                { name: "tmp", mountPath: BACKUP_MOUNTS.tmp },
            ],
        }],
        volumes: [
            { name: "dumps", persistentVolumeClaim: { claimName: refs.claimName } },
            { name: "scripts", configMap: { name: refs.scriptsName, defaultMode: 0o555 } },
            // Only the app user's password, readable by the pod's group alone.
            { name: "credentials", secret: { secretName: refs.secretName, items: [{ key: refs.passwordKey, path: "password" }], defaultMode: 0o440 } },
            { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
        ],
    };
}
