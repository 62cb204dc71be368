// The database section of the stack config, through the pure parseConfig: every bad value is
// refused before any resource exists, with the key, the value and what is allowed.
import { BACKEND } from "../app/kubepolaris";
import { ConfigError, RawConfig, parseConfig } from "../config";
import { DEFAULT_MYSQL_VERSION, MYSQL_MAJOR_VERSIONS } from "../config/rds";
import { loadStackConfig } from "../tools/stackConfig";
import { PROJECT_DIR } from "./support/program";

interface Patch {
    /** Keys merged into (or, when undefined, removed from) kubepolaris:database. */
    database?: Record<string, unknown>;
    /** Other kubepolaris keys to set (or remove, when undefined). */
    values?: Record<string, string | undefined>;
    /** Keys to mark secret in addition to the stack's; `without` removes some. */
    secrets?: { with?: string[]; without?: string[] };
    /** Override aws:region; null removes it. */
    awsRegion?: string | null;
}

/** The stack file as loadConfig would hand it to parseConfig, with a patch applied. */
function rawConfig(stack: string, patch: Patch = {}): RawConfig {
    const { config, secretKeys } = loadStackConfig(PROJECT_DIR, stack);
    const values: Record<string, string> = {};
    const secrets = new Set<string>();
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith("kubepolaris:")) {
            values[key.slice("kubepolaris:".length)] = value;
        }
    }
    for (const key of secretKeys) {
        if (key.startsWith("kubepolaris:")) {
            const short = key.slice("kubepolaris:".length);
            secrets.add(short);
            values[short] = "<secret>";
        }
    }
    for (const key of patch.secrets?.with ?? []) {
        secrets.add(key);
        values[key] = "<secret>";
    }
    for (const key of patch.secrets?.without ?? []) {
        secrets.delete(key);
        delete values[key];
    }
    for (const [key, value] of Object.entries(patch.values ?? {})) {
        if (value === undefined) {
            delete values[key];
        } else {
            values[key] = value;
        }
    }
    if (patch.database) {
        const database = { ...JSON.parse(values.database), ...patch.database };
        for (const [key, value] of Object.entries(patch.database)) {
            if (value === undefined) {
                delete database[key];
            }
        }
        values.database = JSON.stringify(database);
    }
    const awsRegion = patch.awsRegion === null ? undefined : patch.awsRegion ?? config["aws:region"];
    return { stack, values, secretKeys: secrets, awsRegion };
}

function problems(raw: RawConfig): string[] {
    try {
        parseConfig(raw);
        return [];
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
}

/** Exactly one problem for `key`, naming the value it got and what is allowed. */
function expectProblem(raw: RawConfig, key: string, got: string, ...allowed: string[]): string {
    const list = problems(raw);
    const mine = list.filter((line) => line.startsWith(`kubepolaris:${key}: got `));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toContain(`kubepolaris:${key}: got ${got}; allowed: `);
    for (const fragment of allowed) {
        expect(mine[0]).toContain(fragment);
    }
    return mine[0];
}

const SUBNET_A = { id: "subnet-0aaaaaaaaaaaaaaa1", az: "eu-west-1a", cidr: "10.1.0.0/24" };
const SUBNET_B = { id: "subnet-0bbbbbbbbbbbbbbb2", az: "eu-west-1b", cidr: "10.1.1.0/24" };

describe("the stack files parse", () => {
    test.each(["local", "dev", "staging", "prod"])("%s", (stack) => {
        expect(problems(rawConfig(stack))).toEqual([]);
    });

    test("prod: 14 days of backups, deletion protection, a final snapshot, replicas from the tier table, a DR region", () => {
        const { database } = parseConfig(rawConfig("prod"));
        expect(database.mode).toBe("rds");
        expect(database.rds).toMatchObject({
            backupRetentionDays: 14,
            deletionProtection: true,
            finalSnapshot: true,
            readReplicas: 0,
            engineVersion: "8.4",
            parameterGroupFamily: "mysql8.4",
            engineLifecycleSupport: "open-source-rds-extended-support-disabled",
            region: "eu-west-1",
            primaryAz: "eu-west-1a",
            dr: { region: "eu-central-1", backupRetentionDays: 14, replica: { vpcId: "vpc-0d4e5f60718293a4b", allowedSecurityGroupIds: ["sg-0c4d5e6f708192a3b"] } },
        });
        expect(new Set(database.rds!.subnets.map((s) => s.az)).size).toBe(3);
        expect(database.inCluster).toBeUndefined();
    });

    test("dev may be thrown away: no deletion protection, no final snapshot, still 7 days of backups", () => {
        const { database } = parseConfig(rawConfig("dev"));
        expect(database.rds).toMatchObject({ deletionProtection: false, finalSnapshot: false, backupRetentionDays: 7, readReplicas: 0 });
        expect(database.rds!.dr).toBeUndefined();
    });

    test("local: an in-cluster MySQL with both passwords as secrets, no RDS settings", () => {
        const config = parseConfig(rawConfig("local"));
        expect(config.database.mode).toBe("in-cluster");
        expect(config.database.rds).toBeUndefined();
        expect(config.database.inCluster).toMatchObject({ storageSize: "5Gi", image: expect.stringMatching(/^kubepolaris\.local\/mariadb:\d+\.\d+$/) });
        expect([...config.secretsSet].sort()).toEqual(["adminPassword", "databasePassword", "databaseRootPassword", "jwtSecret"]);
    });

    test("an in-cluster database is a three-member Galera cluster unless the stack asks for fewer; without database.image, MariaDB 10.11 LTS", () => {
        const local = parseConfig(rawConfig("local")).database.inCluster!;
        expect(local.members).toBe(3);
        const official = parseConfig(rawConfig("local", { database: { image: undefined } })).database.inCluster!;
        expect(official).toMatchObject({ members: 3, image: expect.stringMatching(/^docker\.io\/library\/mariadb:10\.11\.\d+$/) });
    });

    test("database.members must be 1 or an odd number from 3 to 7: an even count loses its majority in a split", () => {
        for (const members of [2, 4, 6]) {
            expectProblem(rawConfig("local", { database: { members } }), "database.members", String(members), "1 or an odd number from 3 to 7", "no majority");
        }
        for (const members of [0, 9, 2.5, "three"]) {
            expectProblem(rawConfig("local", { database: { members } }), "database.members", JSON.stringify(members), "an integer from 1 to 7");
        }
        expectProblem(rawConfig("dev", { database: { members: 3 } }), "database.members", "3", "nothing with database.mode \"rds\"");
        expect(parseConfig(rawConfig("local", { database: { members: 5 } })).database.inCluster!.members).toBe(5);
    });

    test("a one-pod in-cluster MySQL (members 1) without database.image runs the major RDS stacks default to, one still supported", () => {
        const image = parseConfig(rawConfig("local", { database: { image: undefined, members: 1 } })).database.inCluster!.image;
        const major = /^docker\.io\/library\/mysql:(\d+\.\d+)\.\d+$/.exec(image)?.[1];
        expect(major).toBe(DEFAULT_MYSQL_VERSION);
        expect(MYSQL_MAJOR_VERSIONS[major!].standardSupportEnded).toBe(false);
    });

    test("in-cluster backups: every 30 minutes kept for the environment's floor by default; only divisors of an hour up to 30 minutes", () => {
        expect(parseConfig(rawConfig("local")).database.inCluster!.backups).toEqual({ intervalMinutes: 30, retentionDays: 7, storageSize: "5Gi", storageClassName: undefined });
        for (const minutes of [7, 45, 60]) {
            expectProblem(rawConfig("local", { database: { backupIntervalMinutes: minutes } }), "database.backupIntervalMinutes", String(minutes),
                ...(minutes === 7 ? ["one of 5, 10, 15, 20, 30", "RPO < 1 h"] : ["an integer from 5 to 30"]));
        }
        expectProblem(rawConfig("local", { database: { backupIntervalMinutes: 0 } }), "database.backupIntervalMinutes", "0", "an integer from 5 to 30");
        expect(parseConfig(rawConfig("local", { database: { backupIntervalMinutes: 15, backupRetentionDays: 30, backupStorageSize: "20Gi", backupStorageClassName: "gp3" } }))
            .database.inCluster!.backups).toEqual({ intervalMinutes: 15, retentionDays: 30, storageSize: "20Gi", storageClassName: "gp3" });
        expectProblem(rawConfig("local", { database: { backupStorageSize: "5GB" } }), "database.backupStorageSize", "\"5GB\"", "a volume size such as 5Gi");
        // The retention key is one for both modes, with the same floor and the same refusal of 0.
        expectProblem(rawConfig("local", { database: { backupRetentionDays: 3 } }), "database.backupRetentionDays", "3", "an integer from 7 to 35");
        expectProblem(rawConfig("local", { database: { backupRetentionDays: 0 } }), "database.backupRetentionDays", "0", "turns off automated backups");
        // The dumps' keys mean nothing on RDS (RDS keeps its own backups).
        for (const key of ["backupIntervalMinutes", "backupStorageSize", "backupStorageClassName"]) {
            expectProblem(rawConfig("dev", { database: { [key]: key === "backupIntervalMinutes" ? 15 : "x" } }), `database.${key}`,
                key === "backupIntervalMinutes" ? "15" : "\"x\"", "nothing with database.mode \"rds\"");
        }
    });

    // That the server takes every pool at the peak is judged on each stack's program
    // (test/app-contract-program.test.ts); here: an operator raising the HPA maximum needs no second setting.
    test("raising the backend's HPA maximum raises max_connections by a full pool for each pod added", () => {
        const prod = parseConfig(rawConfig("prod"));
        const wider = parseConfig(rawConfig("prod", { values: { scaling: JSON.stringify({ backend: { maxReplicas: 30 } }) } }));
        expect(wider.database.maxConnections - prod.database.maxConnections)
            .toBeGreaterThanOrEqual(BACKEND.dbPool.maxOpenConns * (30 - prod.backend.maxReplicas));
    });
});

describe("backups", () => {
    test("a retention of 0 (no automated backups, no point-in-time restore) is refused", () => {
        expectProblem(rawConfig("dev", { database: { backupRetentionDays: 0 } }), "database.backupRetentionDays", "0",
            "an integer from 7 to 35 on environment dev", "0 turns off automated backups and point-in-time restore");
    });

    test("prod needs at least 14 days", () => {
        expectProblem(rawConfig("prod", { database: { backupRetentionDays: 7 } }), "database.backupRetentionDays", "7",
            "an integer from 14 to 35 on environment prod");
    });

    test("more than RDS keeps (35 days) is refused", () => {
        expectProblem(rawConfig("staging", { database: { backupRetentionDays: 90 } }), "database.backupRetentionDays", "90", "from 7 to 35");
    });

    test("a maintenance window that overlaps the daily backup window is refused", () => {
        expectProblem(rawConfig("prod", { database: { backupWindow: "03:00-04:00", maintenanceWindow: "sun:03:30-sun:04:30" } }),
            "database.maintenanceWindow", "\"sun:03:30-sun:04:30\"", "does not overlap the daily backup window 03:00-04:00");
        // Across midnight: the backup window 23:30-00:30 meets Monday 00:00.
        expectProblem(rawConfig("prod", { database: { backupWindow: "23:30-00:30", maintenanceWindow: "mon:00:00-mon:01:00" } }),
            "database.maintenanceWindow", "\"mon:00:00-mon:01:00\"", "does not overlap");
        expect(problems(rawConfig("prod", { database: { backupWindow: "23:00-23:30", maintenanceWindow: "mon:00:00-mon:01:00" } }))).toEqual([]);
    });

    test("malformed or shorter-than-30-minute windows are refused", () => {
        expectProblem(rawConfig("dev", { database: { backupWindow: "1am-2am" } }), "database.backupWindow", "\"1am-2am\"", "hh:mm-hh:mm");
        expectProblem(rawConfig("dev", { database: { backupWindow: "01:00-01:15" } }), "database.backupWindow", "\"01:00-01:15\"", "at least 30 minutes");
        expectProblem(rawConfig("dev", { database: { maintenanceWindow: "sunday:03:00-sunday:04:00" } }), "database.maintenanceWindow",
            "\"sunday:03:00-sunday:04:00\"", "ddd:hh:mm-ddd:hh:mm");
    });
});

describe("network placement", () => {
    test("a single subnet is refused", () => {
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A] } }), "database.subnets", JSON.stringify([SUBNET_A]),
            "at least 2 private subnets in distinct availability zones");
    });

    test("two subnets in one AZ are refused, naming the AZ", () => {
        const sameAz = { ...SUBNET_B, az: "eu-west-1a" };
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, sameAz] } }), "database.subnets", JSON.stringify([SUBNET_A, sameAz]),
            "distinct availability zones", "all 2 are in eu-west-1a");
    });

    test("a subnet in another region than aws:region is refused", () => {
        const elsewhere = { ...SUBNET_B, az: "eu-central-1b" };
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, elsewhere] } }), "database.subnets[1].az", "\"eu-central-1b\"",
            "an availability zone of the stack's region eu-west-1 (aws:region)");
    });

    test("malformed and repeated subnets are refused", () => {
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, { ...SUBNET_B, id: "subnet-xyz" }] } }),
            "database.subnets[1].id", "\"subnet-xyz\"", "a subnet id");
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, { ...SUBNET_B, cidr: "10.1.1.0" }] } }),
            "database.subnets[1].cidr", "\"10.1.1.0\"", "an IPv4 CIDR block");
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, SUBNET_B, { ...SUBNET_A, az: "eu-west-1c" }] } }),
            "database.subnets[2].id", JSON.stringify(SUBNET_A.id), "each subnet once");
        expectProblem(rawConfig("dev", { database: { subnets: [SUBNET_A, { ...SUBNET_B, routeTable: "rtb-1" }] } }),
            "database.subnets[1].routeTable", "\"rtb-1\"", "only the keys id, az, cidr");
    });

    test("a missing subnet list or VPC id is refused", () => {
        expectProblem(rawConfig("dev", { database: { subnets: undefined } }), "database.subnets", "nothing (the key is not set)",
            "at least 2 private subnets");
        expectProblem(rawConfig("dev", { database: { vpcId: "vpc_123" } }), "database.vpcId", "\"vpc_123\"", "a VPC id");
    });

    test("primaryAz must be one of the subnets' AZs", () => {
        expectProblem(rawConfig("prod", { database: { primaryAz: "eu-west-1d" } }), "database.primaryAz", "\"eu-west-1d\"",
            "eu-west-1a, eu-west-1b, eu-west-1c");
    });

    test("public access is refused", () => {
        expectProblem(rawConfig("prod", { database: { publiclyAccessible: true } }), "database.publiclyAccessible", "true",
            "false: the database gets no public address");
        expect(problems(rawConfig("prod", { database: { publiclyAccessible: false } }))).toEqual([]);
    });

    test("the database is never opened to the internet, and is opened to something", () => {
        expectProblem(rawConfig("dev", { database: { allowedCidrs: ["0.0.0.0/0"] } }), "database.allowedCidrs[0]", "\"0.0.0.0/0\"",
            "never opened to the internet");
        expectProblem(rawConfig("dev", { database: { allowedSecurityGroupIds: [] } }), "database.allowedSecurityGroupIds", "[]",
            "at least one security group id", "database.allowedCidrs");
        expect(problems(rawConfig("dev", { database: { allowedSecurityGroupIds: [], allowedCidrs: ["10.10.0.0/16"] } }))).toEqual([]);
        expectProblem(rawConfig("dev", { database: { allowedSecurityGroupIds: ["cluster-sg"] } }), "database.allowedSecurityGroupIds[0]",
            "\"cluster-sg\"", "a security group id");
    });
});

describe("replicas, encryption, alarms and DR", () => {
    test("in-region read replicas only when asked for with a reason: the backend reads nothing from them", () => {
        expectProblem(rawConfig("staging", { database: { readReplicas: 1 } }), "database.readReplicasReason", "nothing (the key is not set)",
            "what reads from the 1 in-region read replica(s)", "no read/write split", "database.drReplica");
        expectProblem(rawConfig("prod", { database: { readReplicas: 2 } }), "database.readReplicasReason", "nothing (the key is not set)", "sends every query to DB_HOST");
        expectProblem(rawConfig("prod", { database: { readReplicas: 9, readReplicasReason: "reporting from the BI tool" } }),
            "database.readReplicas", "9", "an integer from 0 to 5");
        expectProblem(rawConfig("prod", { database: { readReplicasReason: "reporting from the BI tool" } }),
            "database.readReplicasReason", "\"reporting from the BI tool\"", "nothing unless database.readReplicas is above 0");
        const asked = parseConfig(rawConfig("staging", { database: { readReplicas: 1, readReplicasReason: "reporting from the BI tool" } })).database.rds!;
        expect(asked).toMatchObject({ readReplicas: 1, readReplicasReason: "reporting from the BI tool" });
        expect(parseConfig(rawConfig("prod")).database.rds!.readReplicas).toBe(0);
    });

    test("MySQL 8.4 by default; a retired major (8.0: RDS standard support ended) is refused unless the stack opts into Extended Support by name", () => {
        expectProblem(rawConfig("prod", { database: { engineVersion: "8.0" } }), "database.engineVersion", "\"8.0\"",
            "a major version in RDS standard support (8.4)", "paid RDS Extended Support", "database.extendedSupportOptIn: \"8.0\"");
        expectProblem(rawConfig("prod", { database: { engineVersion: "8.0.40" } }), "database.engineVersion", "\"8.0.40\"", "RDS standard support for MySQL 8.0 has ended");
        const kept = parseConfig(rawConfig("prod", { database: { engineVersion: "8.0.40", extendedSupportOptIn: "8.0" } })).database.rds!;
        expect(kept).toMatchObject({ engineVersion: "8.0.40", parameterGroupFamily: "mysql8.0", engineLifecycleSupport: "open-source-rds-extended-support" });
        expectProblem(rawConfig("prod", { database: { engineVersion: "8.0", extendedSupportOptIn: "8.4" } }), "database.extendedSupportOptIn", "\"8.4\"",
            "\"8.0\" (the retired major of database.engineVersion 8.0)");
        expectProblem(rawConfig("prod", { database: { extendedSupportOptIn: "8.4" } }), "database.extendedSupportOptIn", "\"8.4\"",
            "8.4 is in RDS standard support");
        expect(parseConfig(rawConfig("dev", { database: { engineVersion: "8.4.3" } })).database.rds)
            .toMatchObject({ engineVersion: "8.4.3", parameterGroupFamily: "mysql8.4", engineLifecycleSupport: "open-source-rds-extended-support-disabled" });
        expectProblem(rawConfig("dev", { database: { engineVersion: "5.7" } }), "database.engineVersion", "\"5.7\"", "a MySQL 8.0 or 8.4 engine version");
    });

    test("the cross-region replica needs the DR region and its subnets there", () => {
        const replica = () => JSON.parse(rawConfig("prod").values.database).drReplica;
        expectProblem(rawConfig("prod", { database: { drRegion: undefined, drBackupRetentionDays: undefined } }), "database.drReplica", JSON.stringify(replica()),
            "nothing unless database.drRegion is set");
        const wrongRegion = replica();
        wrongRegion.subnets[0].az = "eu-west-1a";
        expectProblem(rawConfig("prod", { database: { drReplica: wrongRegion } }), "database.drReplica.subnets[0].az", "\"eu-west-1a\"",
            "an availability zone of the stack's region eu-central-1 (database.drRegion)");
        const oneSubnet = replica();
        oneSubnet.subnets = oneSubnet.subnets.slice(0, 1);
        expectProblem(rawConfig("prod", { database: { drReplica: oneSubnet } }), "database.drReplica.subnets", JSON.stringify(oneSubnet.subnets), "at least 2 private subnets");
    });

    test("a DR region equal to the primary region is refused", () => {
        expectProblem(rawConfig("prod", { database: { drRegion: "eu-west-1" } }), "database.drRegion", "\"eu-west-1\"",
            "a region other than the primary region eu-west-1");
    });

    test("without aws:region the subnets' region still counts as the primary region", () => {
        expectProblem(rawConfig("prod", { awsRegion: null, database: { drRegion: "eu-west-1" } }), "database.drRegion", "\"eu-west-1\"",
            "a region other than the primary region eu-west-1");
    });

    test("KMS keys must be in the region they encrypt in", () => {
        const frankfurtKey = "arn:aws:kms:eu-central-1:123456789012:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
        const irelandKey = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
        expectProblem(rawConfig("prod", { database: { kmsKeyArn: frankfurtKey } }), "database.kmsKeyArn", JSON.stringify(frankfurtKey),
            "a key in eu-west-1");
        expectProblem(rawConfig("prod", { database: { drKmsKeyArn: irelandKey } }), "database.drKmsKeyArn", JSON.stringify(irelandKey),
            "a key in eu-central-1");
        expectProblem(rawConfig("prod", { database: { kmsKeyArn: "alias/rds" } }), "database.kmsKeyArn", "\"alias/rds\"", "a KMS key ARN");
        expect(parseConfig(rawConfig("prod", { database: { kmsKeyArn: irelandKey, drKmsKeyArn: frankfurtKey } })).database.rds)
            .toMatchObject({ kmsKeyArn: irelandKey, dr: { kmsKeyArn: frankfurtKey } });
    });

    test("DR settings without a DR region are refused", () => {
        expectProblem(rawConfig("dev", { database: { drBackupRetentionDays: 7 } }), "database.drBackupRetentionDays", "7",
            "nothing unless database.drRegion is set");
    });

    test("the alarm topic must be a standard topic in the primary region", () => {
        const frankfurt = "arn:aws:sns:eu-central-1:123456789012:oncall";
        expectProblem(rawConfig("prod", { database: { alarmTopicArn: frankfurt } }), "database.alarmTopicArn", JSON.stringify(frankfurt),
            "a topic in eu-west-1");
        expectProblem(rawConfig("prod", { database: { alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:oncall.fifo" } }),
            "database.alarmTopicArn", "\"arn:aws:sns:eu-west-1:123456789012:oncall.fifo\"", "not FIFO");
        expectProblem(rawConfig("prod", { database: { alarmEmails: ["oncall"] } }), "database.alarmEmails[0]", "\"oncall\"", "an e-mail address");
    });

    test("only MySQL 8.0 or 8.4 engine versions", () => {
        expectProblem(rawConfig("dev", { database: { engineVersion: "5.7" } }), "database.engineVersion", "\"5.7\"", "8.0");
        expect(parseConfig(rawConfig("dev", { database: { engineVersion: "8.4" } })).database.rds!.parameterGroupFamily).toBe("mysql8.4");
        expect(parseConfig(rawConfig("dev", { database: { engineVersion: "8.0.40", extendedSupportOptIn: "8.0" } })).database.rds!.parameterGroupFamily).toBe("mysql8.0");
    });
});

describe("modes and passwords", () => {
    test("RDS settings on an in-cluster stack, and in-cluster settings on an RDS stack, are refused", () => {
        expectProblem(rawConfig("local", { database: { vpcId: "vpc-0d1a5e7b2c3f40618" } }), "database.vpcId", "\"vpc-0d1a5e7b2c3f40618\"",
            "nothing with database.mode \"in-cluster\"");
        expectProblem(rawConfig("dev", { database: { storageSize: "10Gi" } }), "database.storageSize", "\"10Gi\"", "nothing with database.mode \"rds\"");
    });

    test("the in-cluster MySQL needs both passwords as secrets (so the local stack needs no random provider)", () => {
        expectProblem(rawConfig("local", { secrets: { without: ["databasePassword"] } }), "databasePassword", "nothing (the key is not set)",
            "pulumi config set --secret databasePassword");
        expectProblem(rawConfig("local", { secrets: { without: ["databaseRootPassword"] } }), "databaseRootPassword",
            "nothing (the key is not set)", "--secret databaseRootPassword");
    });

    test("a password in plaintext is refused, and never echoed", () => {
        const raw = rawConfig("local", { secrets: { without: ["databasePassword"] }, values: { databasePassword: "hunter2hunter2" } });
        const list = problems(raw);
        expect(list).toContain("kubepolaris:databasePassword: got \"<plaintext>\"; allowed: a secret: set it with `pulumi config set --secret`");
        expect(list.join("\n")).not.toContain("hunter2");
    });

    test("a root password on an RDS stack is refused (RDS has one master user)", () => {
        expectProblem(rawConfig("dev", { secrets: { with: ["databaseRootPassword"] } }), "databaseRootPassword", "\"<secret>\"",
            "nothing with database.mode \"rds\"");
        expect(problems(rawConfig("dev", { secrets: { with: ["databasePassword"] } }))).toEqual([]);
    });

    test("in-cluster MySQL is refused on staging and prod", () => {
        expectProblem(rawConfig("staging", { database: { mode: "in-cluster" } }), "database.mode", "\"in-cluster\"", "\"rds\" on environment staging");
    });

    test("every problem is reported at once", () => {
        const list = problems(rawConfig("prod", {
            database: { backupRetentionDays: 0, subnets: [SUBNET_A], publiclyAccessible: true, drRegion: "eu-west-1" },
        }));
        const keys = list.map((line) => line.split(": got ")[0]);
        expect(keys).toEqual(expect.arrayContaining([
            "kubepolaris:database.backupRetentionDays",
            "kubepolaris:database.subnets",
            "kubepolaris:database.publiclyAccessible",
            "kubepolaris:database.drRegion",
        ]));
    });
});
