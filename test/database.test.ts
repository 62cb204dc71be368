// The data tier as each stack registers it (index.ts under mocks, real Pulumi.<stack>.yaml):
// Multi-AZ RDS with replicas, backups, encryption, alarms and DR on dev/staging/prod; one
// restricted MySQL pod on the local stack, which must need no AWS and no random provider.
import { BACKEND } from "../app/kubepolaris";
import { ADMIN_JOB_RESOURCES } from "../components/adminPassword";
import { GALERA_PORTS, STANDING_PORT, galeraMaxUnavailable } from "../components/database/galeraCluster";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { TIER_PROFILES, Tier } from "../config";
import { cpuMillis, memoryBytes } from "../components/quantity";
import { RecordedResource, UNKNOWN, runUnderMocks } from "../tools/mockRun";
import { MOCK_SECRET_PREFIX, loadStackConfig } from "../tools/stackConfig";
import { MOCK_RANDOM_PASSWORD_PREFIX, PROJECT_DIR, Program, awsComputedState, peakPods, runStack } from "./support/program";
import { TYPES } from "./support/types";

const RDS_STACKS = ["dev", "staging", "prod"] as const;
const K8S_SECRET = "kubernetes:core/v1:Secret";
const GiB = 1024 ** 3;

interface StackDb {
    subnets: { id: string; az: string; cidr: string }[];
    allowedSecurityGroupIds?: string[];
    allowedCidrs?: string[];
    primaryAz?: string;
    backupRetentionDays: number;
    drRegion?: string;
}

/** The stack file as written (not through config/), to check the program against. */
function stackFile(stack: string): { tier: Tier; environment: string; region?: string; db: StackDb } {
    const { config } = loadStackConfig(PROJECT_DIR, stack);
    return {
        tier: config["kubepolaris:tier"] as Tier,
        environment: config["kubepolaris:environment"],
        region: config["aws:region"],
        db: JSON.parse(config["kubepolaris:database"]),
    };
}

const primaryOf = (p: Program) => p.one(TYPES.rds, (r) => r.inputs.replicateSourceDb === undefined);
/** In the stack's own region (the default provider); the DR region's resources have an explicit one. */
const inRegion = (r: RecordedResource) => r.provider === undefined;
/** In-region read replicas. */
const replicasOf = (p: Program) => p.ofType(TYPES.rds).filter((r) => r.inputs.replicateSourceDb !== undefined && inRegion(r));
const drReplicaOf = (p: Program) => p.ofType(TYPES.rds).filter((r) => r.inputs.replicateSourceDb !== undefined && !inRegion(r));
const dependsOn = (r: RecordedResource, property: string, target: RecordedResource) =>
    (r.propertyDependencies[property] ?? []).includes(target.urn);
const backendEnv = (p: Program): Record<string, any> => {
    const deployment = p.one("kubernetes:apps/v1:Deployment", (r) => r.name === "backend-deployment");
    const env: { name: string }[] = deployment.inputs.spec.template.spec.containers[0].env;
    return Object.fromEntries(env.map((e) => [e.name, e]));
};

/** Whether the input at `at` was sent as a secret (itself or inside a secret object). */
const secretAt = (r: RecordedResource, at: string) =>
    r.secretInputs.some((s) => at === s || at.startsWith(`${s}.`) || at.startsWith(`${s}[`));

/** Every place a plaintext value occurs in any resource's inputs or the stack outputs. */
function occurrences(p: Program, plaintext: string): { resource: string; path: string; secret: boolean }[] {
    const found: { resource: string; path: string; secret: boolean }[] = [];
    const walk = (value: unknown, at: string, visit: (at: string) => void) => {
        if (typeof value === "string" && value.includes(plaintext)) {
            visit(at);
        } else if (Array.isArray(value)) {
            value.forEach((v, i) => walk(v, `${at}[${i}]`, visit));
        } else if (value && typeof value === "object") {
            for (const [k, v] of Object.entries(value)) {
                walk(v, at ? `${at}.${k}` : k, visit);
            }
        }
    };
    for (const r of p.resources) {
        walk(r.inputs, "", (at) => found.push({
            resource: `${r.type}::${r.name}`,
            path: at,
            secret: secretAt(r, at),
        }));
    }
    for (const [key, output] of Object.entries(p.outputs)) {
        walk(output.value, key, (at) => found.push({ resource: "stack output", path: at, secret: output.secret }));
    }
    return found;
}

/** Minutes of the week a daily "hh:mm-hh:mm" or weekly "ddd:hh:mm-ddd:hh:mm" window covers. */
function windowMinutes(window: string): Set<number> {
    const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const minute = (part: string) => {
        const bits = part.split(":");
        const [hh, mm] = bits.slice(-2).map(Number);
        return (bits.length === 3 ? days.indexOf(bits[0]) * 1440 : 0) + hh * 60 + mm;
    };
    const [start, end] = window.split("-").map(minute);
    const weekly = window.split(":").length > 3;
    const period = weekly ? 7 * 1440 : 1440;
    const covered = new Set<number>();
    for (let day = 0; day < (weekly ? 1 : 7); day++) {
        for (let m = start; m !== end; m = (m + 1) % period) {
            covered.add(((weekly ? 0 : day * 1440) + m) % (7 * 1440));
        }
    }
    return covered;
}

describe.each(RDS_STACKS)("RDS data tier on the %s stack", (stack) => {
    let p: Program;
    const file = stackFile(stack);
    const profile = TIER_PROFILES[file.tier];
    beforeAll(async () => {
        p = await runStack(stack);
    });

    test("a DB subnet group over the stack's private subnets in at least two AZs", () => {
        const group = p.one("aws:rds/subnetGroup:SubnetGroup", inRegion);
        expect(group.inputs.subnetIds).toEqual(file.db.subnets.map((s) => s.id));
        expect(new Set(file.db.subnets.map((s) => s.az)).size).toBeGreaterThanOrEqual(2);
        expect(dependsOn(primaryOf(p), "dbSubnetGroupName", group)).toBe(true);
    });

    test("port 3306 is open only to the cluster's security group (or configured CIDRs), and nothing is open outward", () => {
        const sg = p.one("aws:ec2/securityGroup:SecurityGroup", inRegion);
        expect(sg.inputs.vpcId).toMatch(/^vpc-/);
        expect(sg.inputs.ingress ?? []).toEqual([]);
        expect(sg.inputs.egress ?? []).toEqual([]);
        expect(p.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toHaveLength(0);
        const rules = p.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(inRegion);
        const allowedGroups = file.db.allowedSecurityGroupIds ?? [];
        const allowedCidrs = file.db.allowedCidrs ?? [];
        expect(rules).toHaveLength(allowedGroups.length + allowedCidrs.length);
        for (const rule of rules) {
            expect(rule.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 3306, toPort: 3306 });
            expect(dependsOn(rule, "securityGroupId", sg)).toBe(true);
            expect(rule.inputs.cidrIpv4).not.toBe("0.0.0.0/0");
        }
        expect(rules.map((r) => r.inputs.referencedSecurityGroupId).filter(Boolean).sort()).toEqual([...allowedGroups].sort());
        const primary = primaryOf(p);
        expect(primary.inputs.vpcSecurityGroupIds).toHaveLength(1);
        expect(dependsOn(primary, "vpcSecurityGroupIds", sg)).toBe(true);
    });

    test("MySQL 8.4 (in RDS standard support), Extended Support off, explicitly; a parameter group that says what it sets", () => {
        expect(primaryOf(p).inputs).toMatchObject({ engineVersion: "8.4", engineLifecycleSupport: "open-source-rds-extended-support-disabled" });
        for (const group of p.ofType("aws:rds/parameterGroup:ParameterGroup")) {
            expect(group.inputs.family).toBe("mysql8.4");
            const requireTls = group.inputs.parameters.find((x: { name: string }) => x.name === "require_secure_transport").value;
            expect(requireTls).toBe("0");
            expect(group.inputs.description).toContain("TLS optional");
            expect(group.inputs.description).not.toContain("TLS only");
        }
    });

    test("a MySQL 8.4 parameter group: utf8mb4, slow query log, TLS as the backend can do it, max_connections for every backend pool", () => {
        const group = p.one("aws:rds/parameterGroup:ParameterGroup", inRegion);
        expect(group.inputs.family).toBe("mysql8.4");
        const params = Object.fromEntries(group.inputs.parameters.map((x: { name: string; value: string }) => [x.name, x.value]));
        expect(params.character_set_server).toBe("utf8mb4");
        expect(params.collation_server).toMatch(/^utf8mb4_/);
        expect(params.slow_query_log).toBe("1");
        expect(params.log_output).toBe("FILE");
        // KubePolaris 1.0.5's backend cannot speak TLS to MySQL (test/app proves it against the real
        // binary): a server requiring TLS would lock it out, so this stays off until the app can.
        expect(BACKEND.supportsDatabaseTls).toBe(false);
        expect(params.require_secure_transport).toBe("0");
        // Every backend pod the program may run at once (HPA maximum plus rollout surge) with the app's full pool.
        expect(Number(params.max_connections)).toBeGreaterThanOrEqual(BACKEND.dbPool.maxOpenConns * peakPods(p, "backend"));
        expect(dependsOn(primaryOf(p), "parameterGroupName", group)).toBe(true);
    });

    test("the writer is Multi-AZ, private, encrypted with a KMS key, gp3 with storage autoscaling", () => {
        const { inputs } = primaryOf(p);
        expect(inputs).toMatchObject({
            engine: "mysql",
            multiAz: true,
            publiclyAccessible: false,
            storageType: "gp3",
            storageEncrypted: true,
            instanceClass: profile.database.instanceClass,
            allocatedStorage: profile.database.allocatedStorageGiB,
        });
        expect(inputs.engineVersion).toMatch(/^8\.4/);
        expect(inputs.maxAllocatedStorage).toBeGreaterThan(inputs.allocatedStorage);
        // RDS picks a Multi-AZ writer's AZ itself; the API refuses one.
        expect(inputs.availabilityZone).toBeUndefined();
        const key = p.one(TYPES.kmsKey, (r) => r.provider === undefined || !r.provider.includes("providers:aws::database-dr"));
        expect(key.inputs.enableKeyRotation).toBe(true);
        expect(dependsOn(primaryOf(p), "kmsKeyId", key)).toBe(true);
        expect(inputs.kmsKeyId).toBeTruthy();
    });

    test("backups: retention of at least 7 days (14 on prod), windows that do not overlap, tags copied to snapshots", () => {
        const { inputs } = primaryOf(p);
        expect(inputs.backupRetentionPeriod).toBe(file.db.backupRetentionDays);
        expect(inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(file.environment === "prod" ? 14 : 7);
        expect(inputs.copyTagsToSnapshot).toBe(true);
        const backup = windowMinutes(inputs.backupWindow);
        const maintenance = windowMinutes(inputs.maintenanceWindow);
        expect(backup.size).toBeGreaterThanOrEqual(7 * 30);
        expect(maintenance.size).toBeGreaterThanOrEqual(30);
        expect([...maintenance].filter((m) => backup.has(m))).toEqual([]);
    });

    test("deletion protection and a final snapshot everywhere but dev", () => {
        const { inputs } = primaryOf(p);
        if (stack === "dev") {
            expect(inputs.deletionProtection).toBe(false);
            expect(inputs.skipFinalSnapshot).toBe(true);
        } else {
            expect(inputs.deletionProtection).toBe(true);
            expect(inputs.skipFinalSnapshot).toBe(false);
            expect(inputs.finalSnapshotIdentifier).toMatch(/^[a-z][a-z0-9-]+$/);
            // Point-in-time restore stays possible after an accidental deletion.
            expect(inputs.deleteAutomatedBackups).toBe(false);
        }
    });

    test("Performance Insights, enhanced monitoring with its role, log exports, minor upgrades, no unused IAM database auth", () => {
        const primary = primaryOf(p);
        const { inputs } = primary;
        expect(inputs.performanceInsightsEnabled).toBe(true);
        expect(inputs.performanceInsightsRetentionPeriod).toBeGreaterThanOrEqual(7);
        expect(inputs.monitoringInterval).toBeGreaterThan(0);
        const role = p.one("aws:iam/role:Role");
        expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service).toBe("monitoring.rds.amazonaws.com");
        expect(dependsOn(primary, "monitoringRoleArn", role)).toBe(true);
        const attachment = p.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        expect(attachment.inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole");
        expect(primary.dependencies).toContain(attachment.urn);
        expect([...inputs.enabledCloudwatchLogsExports].sort()).toEqual(["error", "slowquery"]);
        expect(inputs.autoMinorVersionUpgrade).toBe(true);
        // The backend logs in with the password (its DSN has no IAM token): IAM auth would be an unused way in.
        for (const instance of p.ofType(TYPES.rds)) {
            expect(instance.inputs.iamDatabaseAuthenticationEnabled).toBe(false);
        }
        // The exported logs' groups exist first, with a retention.
        for (const log of ["error", "slowquery"]) {
            const group = p.one("aws:cloudwatch/logGroup:LogGroup", (r) => r.inputs.name === `/aws/rds/instance/${inputs.identifier}/${log}` && inRegion(r));
            expect(group.inputs.retentionInDays).toBeGreaterThan(0);
            expect(primary.dependencies).toContain(group.urn);
        }
    });

    test("no in-region read replica unless the stack asks for one: the backend sends every query to the writer", () => {
        const replicas = replicasOf(p);
        expect(BACKEND.readsFromReplicas).toBe(false);
        expect(replicas).toHaveLength(0);
        const primaryAz = file.db.primaryAz ?? file.db.subnets[0].az;
        const zones = replicas.map((r) => r.inputs.availabilityZone);
        for (const replica of replicas) {
            expect(replica.inputs.replicateSourceDb).toBe(primaryOf(p).inputs.identifier);
            expect(file.db.subnets.map((s) => s.az)).toContain(replica.inputs.availabilityZone);
            expect(replica.inputs.availabilityZone).not.toBe(primaryAz);
            expect(replica.inputs).toMatchObject({ publiclyAccessible: false, storageEncrypted: true });
            expect(replica.inputs.password).toBeUndefined();
            expect(replica.inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(7);
        }
        expect(new Set(zones).size).toBe(Math.min(replicas.length, new Set(file.db.subnets.map((s) => s.az)).size - 1));
        expect(p.outputs.databaseReaderEndpoints.value).toHaveLength(replicas.length);
        // The backend reads everything from the writer: no variable pretends otherwise.
        expect(backendEnv(p).DB_READ_HOSTS).toBeUndefined();
    });

    test("alarms on every instance of the region (CPU > 80 %, storage headroom, connections near the maximum, replica lag) to one SNS topic", () => {
        const instances = p.ofType(TYPES.rds).filter(inRegion);
        const alarms = p.ofType(TYPES.metricAlarm).filter(inRegion);
        const topicArn = (p.outputs.databaseRds.value as { alarmTopicArn: string }).alarmTopicArn;
        const maxConnections = Number(p.one("aws:rds/parameterGroup:ParameterGroup", inRegion).inputs.parameters
            .find((x: { name: string }) => x.name === "max_connections").value);
        const alarmFor = (instance: RecordedResource, metric: string) =>
            alarms.filter((a) => a.inputs.metricName === metric && a.inputs.dimensions.DBInstanceIdentifier === instance.inputs.identifier);
        for (const instance of instances) {
            const [cpu] = alarmFor(instance, "CPUUtilization");
            expect(cpu.inputs).toMatchObject({ namespace: "AWS/RDS", comparisonOperator: "GreaterThanThreshold", threshold: 80 });
            const [storage] = alarmFor(instance, "FreeStorageSpace");
            expect(storage.inputs.comparisonOperator).toBe("LessThanThreshold");
            // Below the point where storage autoscaling grows the volume (10 % of the allocation, never less than the
            // initial one): it pages only when growth has not kept up (at maxAllocatedStorage, or within RDS's
            // 6 hours between growths).
            expect(storage.inputs.threshold).toBeLessThan(0.1 * profile.database.allocatedStorageGiB * GiB);
            // There it pages while at least 1 % of the volume is free.
            expect(storage.inputs.threshold).toBeGreaterThanOrEqual(0.01 * profile.database.maxAllocatedStorageGiB * GiB);
            expect(storage.inputs.alarmDescription).toContain(`maxAllocatedStorage (${profile.database.maxAllocatedStorageGiB} GiB)`);
            const [connections] = alarmFor(instance, "DatabaseConnections");
            expect(connections.inputs.comparisonOperator).toBe("GreaterThanThreshold");
            expect(connections.inputs.threshold).toBeGreaterThanOrEqual(0.8 * maxConnections);
            expect(connections.inputs.threshold).toBeLessThan(maxConnections);
            // It pages before the backend's own pools at the HPA maximum (plus a surge pod) could take every
            // connection, and never while the backend runs at its minimum, even with every pool full.
            expect(connections.inputs.threshold).toBeLessThan(BACKEND.dbPool.maxOpenConns * (profile.backend.maxReplicas + 1));
            expect(connections.inputs.threshold).toBeGreaterThan(BACKEND.dbPool.maxOpenConns * profile.backend.minReplicas);
            expect(alarmFor(instance, "ReplicaLag")).toHaveLength(instance.inputs.replicateSourceDb ? 1 : 0);
        }
        expect(alarms).toHaveLength(3 * instances.length + replicasOf(p).length);
        for (const alarm of alarms) {
            expect(alarm.inputs.alarmActions).toEqual([topicArn]);
            expect(alarm.inputs.okActions).toEqual([topicArn]);
        }
        const topic = p.one("aws:sns/topic:Topic", inRegion);
        expect(topic.inputs.kmsMasterKeyId).toBeTruthy();
    });

    test("an RDS event subscription for failover and failure events of every instance (one per region)", () => {
        const subscription = p.one("aws:rds/eventSubscription:EventSubscription", inRegion);
        expect(subscription.inputs.sourceType).toBe("db-instance");
        expect(subscription.inputs.eventCategories).toEqual(expect.arrayContaining(["failover", "failure"]));
        expect([...subscription.inputs.sourceIds].sort()).toEqual(p.ofType(TYPES.rds).filter(inRegion).map((r) => r.inputs.identifier).sort());
        for (const replica of drReplicaOf(p)) {
            const drSubscription = p.one("aws:rds/eventSubscription:EventSubscription", (r) => !inRegion(r));
            expect(drSubscription.inputs.sourceIds).toEqual([replica.inputs.identifier]);
        }
        expect(subscription.inputs.snsTopic).toBe((p.outputs.databaseRds.value as { alarmTopicArn: string }).alarmTopicArn);
    });

    test("the master password is generated, secret in RDS, Secrets Manager and the Kubernetes Secret, and plaintext nowhere", () => {
        const generated = p.one("random:index/randomPassword:RandomPassword", (r) => r.name === "database-password");
        expect(generated.inputs.length).toBeGreaterThanOrEqual(32);
        expect(generated.inputs.length).toBeLessThanOrEqual(41); // RDS MySQL's limit
        const password = `${MOCK_RANDOM_PASSWORD_PREFIX}${generated.name}`;

        const primary = primaryOf(p);
        expect(primary.inputs.password).toBe(password);
        expect(primary.secretInputs).toContain("password");

        const secret = p.one("aws:secretsmanager/secret:Secret");
        expect(dependsOn(secret, "kmsKeyId", p.one(TYPES.kmsKey, (r) => r.name === "database-kms"))).toBe(true);
        const version = p.one("aws:secretsmanager/secretVersion:SecretVersion");
        expect(version.secretInputs).toContain("secretString");
        expect(JSON.parse(version.inputs.secretString)).toMatchObject({
            engine: "mysql", host: p.outputs.databaseWriterEndpoint.value, port: 3306, username: "kubepolaris", password,
        });

        const k8sSecret = p.one(K8S_SECRET, (r) => r.inputs.metadata.name === "kubepolaris-mysql-credentials");
        expect(k8sSecret.inputs.stringData["mysql-password"]).toBe(password);
        expect(secretAt(k8sSecret, "stringData.mysql-password")).toBe(true);

        const places = occurrences(p, password);
        expect(places.length).toBeGreaterThanOrEqual(3);
        expect(places.filter((place) => !place.secret)).toEqual([]);
        expect(places.filter((place) => place.resource === "stack output")).toEqual([]);
    });

    test("the backend gets the writer and the credentials by secretKeyRef, and no pool variable it would ignore", () => {
        const env = backendEnv(p);
        expect(env.DB_DRIVER.value).toBe("mysql");
        expect(env.DB_HOST.value).toBe(p.outputs.databaseWriterEndpoint.value);
        expect(env.DB_HOST.value).toMatch(/\.rds\.amazonaws\.com$/);
        expect(env.DB_PORT.value).toBe("3306");
        expect(env.DB_DATABASE.value).toBe("kubepolaris");
        expect(env.DB_USERNAME.value).toBe("kubepolaris");
        expect(env.DB_PASSWORD.value).toBeUndefined();
        expect(env.DB_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-password" });
        expect(Object.keys(env).filter((name) => name.startsWith("DB_MAX") || name === "DB_CONN_MAX_LIFETIME")).toEqual([]);
    });

    test("the backend's NetworkPolicy egress reaches exactly the DB subnets on 3306", () => {
        const policy = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-backend-to-database");
        const [rule] = policy.inputs.spec.egress;
        expect(rule.to.map((peer: { ipBlock: { cidr: string } }) => peer.ipBlock.cidr)).toEqual(file.db.subnets.map((s) => s.cidr));
        expect(rule.ports).toEqual([{ protocol: "TCP", port: 3306 }]);
    });

    test("outputs: writer and reader endpoints, secret ARN and friends, none of them secret", () => {
        expect(p.outputs.databaseMode.value).toBe("rds");
        expect(p.outputs.databaseWriterEndpoint.value).toMatch(/\.rds\.amazonaws\.com$/);
        const rds = p.outputs.databaseRds.value as Record<string, unknown>;
        expect(rds.instanceId).toBe(primaryOf(p).inputs.identifier);
        expect(rds.secretArn).toMatch(/^arn:/);
        expect(rds.kmsKeyArn).toMatch(/^arn:/);
        // What the restore runbook (docs/database.md) passes to restore-db-instance-to-point-in-time.
        expect(rds.subnetGroupName).toBe(p.one("aws:rds/subnetGroup:SubnetGroup", inRegion).inputs.name);
        expect(rds.securityGroupId).toBeTruthy();
        expect(rds.parameterGroupName).toBeTruthy();
        // The database outputs name things; the only secret output is the admin password.
        for (const [key, output] of Object.entries(p.outputs)) {
            expect([key, output.secret]).toEqual([key, key === "adminPassword"]);
        }
    });

    test("no AWS resource lands in a third region", () => {
        // Explicit providers: the image mirror's in the stack's region, the DR region's (database, image replicas).
        const regions = new Set(p.ofType("pulumi:providers:aws").map((r) => r.inputs.region));
        expect([...regions].sort()).toEqual([file.region, file.db.drRegion].filter(Boolean).sort());
    });
});

describe("prod: Multi-AZ, 14+ days of backups, deletion protection, a cross-region replica and a DR copy", () => {
    let p: Program;
    beforeAll(async () => {
        p = await runStack("prod");
    });

    test("the prod writer is Multi-AZ with 14+ days of backups, deletion protection and a final snapshot", () => {
        expect(primaryOf(p).inputs).toMatchObject({ multiAz: true, deletionProtection: true, skipFinalSnapshot: false });
        expect(primaryOf(p).inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(14);
        expect(primaryOf(p).inputs.finalSnapshotIdentifier).toBe("kubepolaris-prod-final");
    });

    test("no in-region read replicas; one cross-region read replica in eu-central-1, encrypted with a key there, promotable", () => {
        expect(replicasOf(p)).toHaveLength(0);
        const [replica] = drReplicaOf(p);
        expect(drReplicaOf(p)).toHaveLength(1);
        const drProvider = p.one("pulumi:providers:aws", (r) => r.name === "database-dr");
        expect(drProvider.inputs.region).toBe("eu-central-1");
        expect(replica.provider?.startsWith(`${drProvider.urn}::`)).toBe(true);
        // Across regions the source is its ARN; the DR region's own key encrypts it.
        expect(replica.inputs.replicateSourceDb).toMatch(/^arn:aws:rds:eu-west-1:/);
        expect(dependsOn(replica, "replicateSourceDb", primaryOf(p))).toBe(true);
        const drKey = p.one(TYPES.kmsKey, (r) => !inRegion(r));
        expect(dependsOn(replica, "kmsKeyId", drKey)).toBe(true);
        expect(replica.inputs).toMatchObject({
            identifier: "kubepolaris-prod-dr", storageEncrypted: true, publiclyAccessible: false, deletionProtection: true,
            instanceClass: primaryOf(p).inputs.instanceClass, iamDatabaseAuthenticationEnabled: false,
        });
        // Promotable into a writer with point-in-time restore from the start.
        expect(replica.inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(14);
        // Its own subnet group (the DR VPC's subnets) and a security group open to the DR cluster only.
        const subnetGroup = p.one("aws:rds/subnetGroup:SubnetGroup", (r) => !inRegion(r));
        expect(subnetGroup.inputs.subnetIds).toHaveLength(3);
        expect(dependsOn(replica, "dbSubnetGroupName", subnetGroup)).toBe(true);
        const drIngress = p.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => !inRegion(r));
        expect(drIngress.map((r) => r.inputs.referencedSecurityGroupId)).toEqual(["sg-0c4d5e6f708192a3b"]);
        // Its lag pages on-call through a topic of its own region.
        const lag = p.one(TYPES.metricAlarm, (a) => a.inputs.metricName === "ReplicaLag");
        expect(lag.inputs.dimensions.DBInstanceIdentifier).toBe("kubepolaris-prod-dr");
        const drTopic = p.one("aws:sns/topic:Topic", (r) => !inRegion(r));
        expect(dependsOn(lag, "alarmActions", drTopic)).toBe(true);
        expect(p.one("aws:sns/topicSubscription:TopicSubscription", (r) => !inRegion(r)).inputs.endpoint).toBe("oncall@example.com");
        expect((p.outputs.databaseRds.value as Record<string, unknown>).drReplicaIdentifier).toBe("kubepolaris-prod-dr");
    });

    test("the writer is never dropped before a replacement takes its identifier", () => {
        // The writer's fixed identifier makes a forced replacement fail loudly instead of
        // deleting the database first.
        expect(primaryOf(p).deleteBeforeReplace).toBe(false);
    });

    test("automated backups are replicated to eu-central-1 with a KMS key there", () => {
        const drProvider = p.one("pulumi:providers:aws", (r) => r.name === "database-dr");
        expect(drProvider.inputs.region).toBe("eu-central-1");
        const inDr = (r: RecordedResource) => r.provider?.startsWith(`${drProvider.urn}::`) ?? false;
        const drKey = p.one(TYPES.kmsKey, inDr);
        const replication = p.one("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
        expect(inDr(replication)).toBe(true);
        expect(replication.inputs.sourceDbInstanceArn).toMatch(/^arn:aws:rds:eu-west-1:/);
        expect(dependsOn(replication, "sourceDbInstanceArn", primaryOf(p))).toBe(true);
        expect(dependsOn(replication, "kmsKeyId", drKey)).toBe(true);
        expect(replication.inputs.retentionPeriod).toBeGreaterThanOrEqual(14);
        // The credentials are in the DR region too, for a restore there.
        const secret = p.one("aws:secretsmanager/secret:Secret");
        expect(secret.inputs.replicas).toEqual([expect.objectContaining({ region: "eu-central-1" })]);
        expect(dependsOn(secret, "replicas", drKey)).toBe(true);
        expect((p.outputs.databaseRds.value as Record<string, unknown>).drRegion).toBe("eu-central-1");
    });

    test("on-call is subscribed to the alarm topic", () => {
        const subscription = p.one("aws:sns/topicSubscription:TopicSubscription", inRegion);
        expect(subscription.inputs).toMatchObject({ protocol: "email", endpoint: "oncall@example.com" });
    });

    test("a given KMS key and alarm topic are used instead of new ones", async () => {
        const { config } = loadStackConfig(PROJECT_DIR, "prod");
        const db = JSON.parse(config["kubepolaris:database"]);
        const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
        const topicArn = "arn:aws:sns:eu-west-1:123456789012:oncall";
        const given = await runStack("prod", {
            "kubepolaris:database": JSON.stringify({ ...db, kmsKeyArn: keyArn, alarmTopicArn: topicArn }),
        });
        expect(given.ofType(TYPES.kmsKey).filter((r) => r.provider === undefined)).toHaveLength(0);
        expect(given.ofType("aws:sns/topic:Topic").filter(inRegion)).toHaveLength(0);
        expect(primaryOf(given).inputs.kmsKeyId).toBe(keyArn);
        expect(primaryOf(given).inputs.performanceInsightsKmsKeyId).toBe(keyArn);
        expect(given.one("aws:secretsmanager/secret:Secret").inputs.kmsKeyId).toBe(keyArn);
        expect(given.ofType(TYPES.metricAlarm).filter(inRegion).every((a) => a.inputs.alarmActions[0] === topicArn)).toBe(true);
        expect(given.one("aws:rds/eventSubscription:EventSubscription", inRegion).inputs.snsTopic).toBe(topicArn);
    });

    test("during preview the database egress is already known (it comes from config, not from AWS)", async () => {
        const preview = await runStack("prod", undefined, true);
        const policy = preview.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-backend-to-database");
        expect(JSON.stringify(policy.inputs.spec.egress)).not.toContain(UNKNOWN);
        expect(policy.inputs.spec.egress[0].to).toHaveLength(3);
    });
});

describe("dev and staging: no replicas and no DR copy", () => {
    test.each(["dev", "staging"])("%s has one Multi-AZ writer and nothing in another region", async (stack) => {
        const p = await runStack(stack);
        expect(p.ofType(TYPES.rds)).toHaveLength(1);
        expect(primaryOf(p).inputs.multiAz).toBe(true);
        expect(p.ofType("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).toHaveLength(0);
        // The only explicit provider is the image mirror's, in the stack's own region.
        expect(p.ofType("pulumi:providers:aws").map((r) => r.inputs.region)).toEqual(["eu-west-1"]);
    });
});

/** The local stack with its database as one pod (database.members 1): what the Galera cluster replaces. */
const ONE_POD_DATABASE = { "kubepolaris:database": JSON.stringify({ mode: "in-cluster", storageSize: "5Gi", image: "kubepolaris.local/mariadb:10.11", members: 1 }) };

describe("local with database.members 1: one MySQL pod in the namespace, no cloud", () => {
    let p: Program;
    beforeAll(async () => {
        p = await runStack("local", ONE_POD_DATABASE);
    });
    const statefulSet = () => p.one("kubernetes:apps/v1:StatefulSet");
    const mysqlContainer = () => statefulSet().inputs.spec.template.spec.containers[0];
    const mysqlLabels = { "app.kubernetes.io/name": "kubepolaris", "app.kubernetes.io/instance": "kubepolaris", "app.kubernetes.io/component": "mysql" };

    test("registers no aws: and no random: resource (nor their providers)", () => {
        const cloud = p.resources.filter((r) => /^(aws|random):|^pulumi:providers:(aws|random)$/.test(r.type));
        expect(cloud.map((r) => r.type)).toEqual([]);
        expect(p.ofType("kubepolaris:database:InClusterMysql")).toHaveLength(1);
        expect(p.ofType("kubepolaris:database:MultiAzMysql")).toHaveLength(0);
    });

    test("the passwords are secure: ciphertext in Pulumi.local.yaml", () => {
        const doc = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, any> };
        for (const key of ["kubepolaris:databasePassword", "kubepolaris:databaseRootPassword"]) {
            expect(Object.keys(doc.config[key])).toEqual(["secure"]);
            expect(doc.config[key].secure).toMatch(/^v1:/);
        }
    });

    test("a Secret with both passwords as secrets, plaintext nowhere else", () => {
        const secret = p.one(K8S_SECRET, (r) => r.inputs.metadata.name === "kubepolaris-mysql-credentials");
        expect(secret.inputs.stringData["mysql-password"]).toBe(`${MOCK_SECRET_PREFIX}kubepolaris:databasePassword`);
        expect(secret.inputs.stringData["mysql-root-password"]).toBe(`${MOCK_SECRET_PREFIX}kubepolaris:databaseRootPassword`);
        expect(secretAt(secret, "stringData.mysql-password")).toBe(true);
        expect(secretAt(secret, "stringData.mysql-root-password")).toBe(true);
        for (const key of ["databasePassword", "databaseRootPassword"]) {
            const places = occurrences(p, `${MOCK_SECRET_PREFIX}kubepolaris:${key}`);
            expect(places).toEqual([expect.objectContaining({ resource: `${K8S_SECRET}::database-credentials`, secret: true })]);
        }
        const env = Object.fromEntries(mysqlContainer().env.map((e: { name: string }) => [e.name, e]));
        expect(env.MYSQL_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-password" });
        expect(env.MYSQL_ROOT_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-root-password" });
        expect(env.MYSQL_ROOT_HOST.value).toBe("localhost");
    });

    test("a one-pod StatefulSet with a volume, selected by the mysql pod labels, behind a headless Service", () => {
        const sts = statefulSet();
        expect(sts.inputs.spec.replicas).toBe(1);
        expect(sts.inputs.spec.selector.matchLabels).toEqual(mysqlLabels);
        expect(sts.inputs.spec.template.metadata.labels).toMatchObject(mysqlLabels);
        expect(sts.inputs.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("5Gi");
        expect(sts.inputs.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
        const service = p.one("kubernetes:core/v1:Service", (r) => r.name === "database-service");
        expect(service.inputs.spec.clusterIP).toBe("None");
        expect(service.inputs.spec.selector).toEqual(mysqlLabels);
        expect(sts.inputs.spec.serviceName).toBe(service.inputs.metadata.name);
        // The MariaDB stand-in scripts/cluster/images.sh builds from the name the stack file gives it
        // (no registry serves kubepolaris.local/ images: the nodes have them loaded).
        expect(mysqlContainer().image).toMatch(/^kubepolaris\.local\/mariadb:\d+\.\d+$/);
    });

    test("a restricted security context with writable volumes only where mysqld writes", () => {
        const pod = statefulSet().inputs.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(pod.automountServiceAccountToken).toBe(false);
        const container = mysqlContainer();
        expect(container.securityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(container.securityContext.capabilities.add).toBeUndefined();
        const mounts = Object.fromEntries(container.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]));
        expect(mounts["/var/lib/mysql"]).toBe("data");
        expect(Object.keys(mounts)).toEqual(expect.arrayContaining(["/var/run/mysqld", "/tmp"]));
        const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
        expect(volumes[mounts["/var/run/mysqld"]].emptyDir).toBeDefined();
        expect(volumes[mounts["/tmp"]].emptyDir).toBeDefined();
        expect(container.args).toContain("--datadir=/var/lib/mysql/data");
    });

    test("liveness differs from readiness, a startup probe guards the first initialisation, requests and limits are set", () => {
        const container = mysqlContainer();
        expect(container.livenessProbe).toBeDefined();
        expect(container.readinessProbe).toBeDefined();
        expect(container.livenessProbe).not.toEqual(container.readinessProbe);
        // Readiness logs in as the application user; liveness only asks whether mysqld answers.
        expect(container.readinessProbe.exec.command.join(" ")).toContain("$MYSQL_USER");
        expect(container.livenessProbe.exec.command.join(" ")).not.toContain("PASSWORD");
        expect(container.startupProbe.failureThreshold * container.startupProbe.periodSeconds).toBeGreaterThanOrEqual(120);
        expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String), "ephemeral-storage": expect.any(String) });
        // Node disk: the limit covers its emptyDirs (socket, 1Gi tmp) plus logs.
        expect(memoryBytes(container.resources.limits["ephemeral-storage"])).toBeGreaterThan(memoryBytes("1Gi"));
        expect(cpuMillis(container.resources.limits.cpu)).toBeGreaterThanOrEqual(cpuMillis(container.resources.requests.cpu));
        expect(memoryBytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(memoryBytes(container.resources.requests.memory));
    });

    test("the MySQL pod counts in the namespace quota and fits the LimitRange", () => {
        const small = TIER_PROFILES.small;
        const container = mysqlContainer();
        const quota = p.one("kubernetes:core/v1:ResourceQuota", (q) => q.name === "kubepolaris-quota").inputs.spec.hard;
        const backendPods = peakPods(p, "backend");
        const frontendPods = peakPods(p, "frontend");
        // Besides MySQL, the admin-password Job's one pod.
        const job = ADMIN_JOB_RESOURCES;
        expect(Number(quota.pods)).toBeGreaterThanOrEqual(backendPods + frontendPods + 1 + 1);
        // Backend and frontend pods count at their largest size of any tier (a tier change rolls from one to another).
        const largest = (pick: (t: typeof small) => number) => Math.max(...Object.values(TIER_PROFILES).map(pick));
        expect(cpuMillis(quota["requests.cpu"])).toBeGreaterThanOrEqual(backendPods * largest((t) => cpuMillis(t.backend.resources.requests.cpu))
            + frontendPods * largest((t) => cpuMillis(t.frontend.resources.requests.cpu)) + cpuMillis(container.resources.requests.cpu) + cpuMillis(job.requests.cpu));
        expect(memoryBytes(quota["limits.memory"])).toBeGreaterThanOrEqual(backendPods * largest((t) => memoryBytes(t.backend.resources.limits.memory))
            + frontendPods * largest((t) => memoryBytes(t.frontend.resources.limits.memory)) + memoryBytes(container.resources.limits.memory) + memoryBytes(job.limits.memory));
        const max = p.one("kubernetes:core/v1:LimitRange").inputs.spec.limits[0].max;
        expect(cpuMillis(container.resources.limits.cpu)).toBeLessThanOrEqual(cpuMillis(max.cpu));
        expect(memoryBytes(container.resources.limits.memory)).toBeLessThanOrEqual(memoryBytes(max.memory));
    });

    test("NetworkPolicies: the backend may reach the MySQL pod on 3306, and only the backend may", () => {
        const backendLabels = { ...mysqlLabels, "app.kubernetes.io/component": "backend" };
        const egress = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-backend-to-database");
        expect(egress.inputs.spec.egress).toEqual([{ to: [{ podSelector: { matchLabels: mysqlLabels } }], ports: [{ protocol: "TCP", port: 3306 }] }]);
        const ingress = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-database-from-backend");
        expect(ingress.inputs.spec.podSelector.matchLabels).toEqual(mysqlLabels);
        expect(ingress.inputs.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: backendLabels } }], ports: [{ protocol: "TCP", port: 3306 }] }]);
    });

    test("the backend is configured the same way as on RDS, pointed at the headless Service", () => {
        const env = backendEnv(p);
        expect(env.DB_DRIVER.value).toBe("mysql");
        expect(env.DB_HOST.value).toBe("kubepolaris-mysql.kubepolaris.svc.cluster.local.");
        expect(env.DB_PORT.value).toBe("3306");
        expect(env.DB_DATABASE.value).toBe("kubepolaris");
        expect(env.DB_USERNAME.value).toBe("kubepolaris");
        expect(env.DB_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-password" });
        expect(env.DB_READ_HOSTS).toBeUndefined();
        const mysqlEnv = Object.fromEntries(mysqlContainer().env.map((e: { name: string; value?: string }) => [e.name, e.value]));
        expect(mysqlEnv.MYSQL_DATABASE).toBe(env.DB_DATABASE.value);
        expect(mysqlEnv.MYSQL_USER).toBe(env.DB_USERNAME.value);
        expect(p.outputs.databaseWriterEndpoint.value).toBe(env.DB_HOST.value);
        expect(p.outputs.databaseRds.value).toBeNull();
    });
});

describe("local: a three-member Galera cluster in the namespace, no cloud", () => {
    let p: Program;
    beforeAll(async () => {
        p = await runStack("local");
    });
    const statefulSet = () => p.one("kubernetes:apps/v1:StatefulSet");
    const pod = () => statefulSet().inputs.spec.template.spec;
    const container = () => pod().containers[0];
    const env = () => Object.fromEntries(container().env.map((e: { name: string }) => [e.name, e])) as Record<string, any>;
    const mysqlLabels = { "app.kubernetes.io/name": "kubepolaris", "app.kubernetes.io/instance": "kubepolaris", "app.kubernetes.io/component": "mysql" };

    test("registers the Galera cluster and no cloud resource", () => {
        expect(p.ofType("kubepolaris:database:GaleraCluster")).toHaveLength(1);
        expect(p.ofType("kubepolaris:database:InClusterMysql")).toHaveLength(0);
        expect(p.resources.filter((r) => /^(aws|random):/.test(r.type))).toEqual([]);
    });

    test("three members started together, one per node, spread over the zones so no zone holds a majority", () => {
        const spec = statefulSet().inputs.spec;
        expect(spec.replicas).toBe(3);
        expect(spec.podManagementPolicy).toBe("Parallel");
        expect(spec.selector.matchLabels).toEqual(mysqlLabels);
        expect(pod().affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution)
            .toEqual([{ labelSelector: { matchLabels: mysqlLabels }, topologyKey: "kubernetes.io/hostname" }]);
        expect(pod().topologySpreadConstraints).toEqual([expect.objectContaining({
            maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: mysqlLabels },
        })]);
        expect(spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("5Gi");
        expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    });

    test("a drain keeps the quorum: the PDB lets one member of three go at a time", () => {
        const pdb = p.one(TYPES.pdb, (r) => r.name === "database-pdb").inputs.spec;
        expect(pdb).toEqual({ maxUnavailable: 1, selector: { matchLabels: mysqlLabels } });
        expect(galeraMaxUnavailable(3)).toBe(1);
        expect(galeraMaxUnavailable(5)).toBe(2);
    });

    test("the backend connects through a ClusterIP Service of ready (synced) members; members find each other through a headless one that lists them before they are ready", () => {
        const service = p.one("kubernetes:core/v1:Service", (r) => r.name === "database-service").inputs;
        expect(service.spec.clusterIP).toBeUndefined();
        expect(service.spec.selector).toEqual(mysqlLabels);
        expect(backendEnv(p).DB_HOST.value).toBe(`${service.metadata.name}.kubepolaris.svc.cluster.local.`);
        const peers = p.one("kubernetes:core/v1:Service", (r) => r.name === "database-peers").inputs;
        expect(peers.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector: mysqlLabels });
        expect(statefulSet().inputs.spec.serviceName).toBe(peers.metadata.name);
        // The start script's member list names exactly the StatefulSet's pods through that Service, in ordinal order.
        const sts = statefulSet().inputs.metadata.name;
        expect(env().MEMBER_HOSTS.value.split(" ")).toEqual([0, 1, 2].map((i) => `${sts}-${i}.${peers.metadata.name}.kubepolaris.svc`));
        expect(peers.spec.ports.map((x: { port: number }) => x.port).sort()).toEqual([...Object.values(GALERA_PORTS), STANDING_PORT].sort());
    });

    test("ready means synced in the primary component (the script the pod mounts), alive means mariadbd answers", () => {
        const c = container();
        expect(c.command).toEqual(["sh", "/galera/start.sh"]);
        expect(c.readinessProbe.exec.command).toEqual(["sh", "/galera/ready.sh"]);
        expect(c.lifecycle.preStop.exec.command).toEqual(["sh", "/galera/drain.sh"]);
        expect(pod().terminationGracePeriodSeconds).toBeGreaterThan(10 + 30);
        expect(c.livenessProbe.exec.command.join(" ")).toContain("ping");
        expect(c.livenessProbe.exec.command.join(" ")).not.toContain("PASSWORD");
        expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(300);
        const scripts = p.one("kubernetes:core/v1:ConfigMap", (r) => r.name === "database-scripts").inputs.data;
        expect(scripts["ready.sh"]).toContain("Synced,ON");
        expect(scripts["start.sh"]).toContain("--wsrep-new-cluster");
        expect(scripts["start.sh"]).toContain("max_connections=$MAX_CONNECTIONS");
        expect(pod().volumes.find((v: any) => v.name === "scripts").configMap.name).toBe(p.one("kubernetes:core/v1:ConfigMap", (r) => r.name === "database-scripts").inputs.metadata.name);
    });

    test("the passwords reach the members only by reference, their settings stay in memory, the root filesystem is read-only", () => {
        expect(env().MYSQL_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-password" });
        expect(env().MYSQL_ROOT_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "kubepolaris-mysql-credentials", key: "mysql-root-password" });
        for (const key of ["databasePassword", "databaseRootPassword"]) {
            expect(occurrences(p, `${MOCK_SECRET_PREFIX}kubepolaris:${key}`)).toEqual([expect.objectContaining({ resource: `${K8S_SECRET}::database-credentials`, secret: true })]);
        }
        const run = pod().volumes.find((v: any) => v.name === "run");
        expect(run.emptyDir.medium).toBe("Memory");
        expect(container().securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        // Each member may have to take every backend pod's full pool alone.
        expect(Number(env().MAX_CONNECTIONS.value)).toBeGreaterThanOrEqual(BACKEND.dbPool.maxOpenConns * peakPods(p, "backend"));
    });

    test("NetworkPolicies: members reach each other on Galera's ports only; the backend reaches them on 3306", () => {
        const replication = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-database-replication").inputs.spec;
        const ports = [...Object.values(GALERA_PORTS), STANDING_PORT].map((port) => ({ protocol: "TCP", port }));
        expect(replication).toEqual({
            podSelector: { matchLabels: mysqlLabels }, policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ podSelector: { matchLabels: mysqlLabels } }], ports }],
            egress: [{ to: [{ podSelector: { matchLabels: mysqlLabels } }], ports }],
        });
        const egress = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-backend-to-database");
        expect(egress.inputs.spec.egress).toEqual([{ to: [{ podSelector: { matchLabels: mysqlLabels } }], ports: [{ protocol: "TCP", port: 3306 }] }]);
    });

    test("the quota has room for every member", () => {
        const quota = p.one("kubernetes:core/v1:ResourceQuota", (q) => q.name === "kubepolaris-quota").inputs.spec.hard;
        expect(Number(quota.pods)).toBeGreaterThanOrEqual(peakPods(p, "backend") + peakPods(p, "frontend") + 3 + 1);
    });
});

describe("in-cluster backups: dumps on a schedule to a volume of their own; none on RDS stacks", () => {
    let p: Program;
    beforeAll(async () => {
        p = await runStack("local");
    });
    const backupLabels = { "app.kubernetes.io/name": "kubepolaris", "app.kubernetes.io/instance": "kubepolaris", "app.kubernetes.io/component": "mysql-backup" };
    const mysqlLabels = { ...backupLabels, "app.kubernetes.io/component": "mysql" };
    const cronJob = () => p.one(TYPES.cronJob).inputs;
    const pod = () => cronJob().spec.jobTemplate.spec.template.spec;

    test("every 30 minutes, one run at a time, a late run skipped after half an interval, a run stopped after a whole one", () => {
        expect(p.ofType("kubepolaris:database:DatabaseBackups")).toHaveLength(1);
        expect(cronJob().spec).toMatchObject({ schedule: "*/30 * * * *", concurrencyPolicy: "Forbid", startingDeadlineSeconds: 900 });
        expect(cronJob().spec.jobTemplate.spec.activeDeadlineSeconds).toBe(1800);
        expect(pod().containers[0].command).toEqual(["sh", "/scripts/dumps.sh", "backup"]);
        expect(pod().containers[0].env.find((e: any) => e.name === "RETENTION_DAYS").value).toBe("7");
    });

    test("the dumps go to a claim of their own, never a member's volume", () => {
        const claim = p.one("kubernetes:core/v1:PersistentVolumeClaim").inputs;
        expect(claim.metadata.name).toBe("kubepolaris-mysql-backups");
        expect(claim.spec.resources.requests.storage).toBe("5Gi");
        const volumes = pod().volumes;
        expect(volumes.find((v: any) => v.name === "dumps").persistentVolumeClaim.claimName).toBe(claim.metadata.name);
        const members = p.one("kubernetes:apps/v1:StatefulSet").inputs.spec.volumeClaimTemplates.map((t: any) => t.metadata.name);
        expect(members).not.toContain(claim.metadata.name);
    });

    test("the password is a mounted file of the one key, never an environment value or an argument; restricted pod security", () => {
        const credentials = pod().volumes.find((v: any) => v.secret).secret;
        expect(credentials).toMatchObject({ secretName: "kubepolaris-mysql-credentials", items: [{ key: "mysql-password", path: "password" }] });
        const container = pod().containers[0];
        expect(JSON.stringify(container.env)).not.toMatch(/secretKeyRef|MOCK/);
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(pod().securityContext).toMatchObject({ runAsNonRoot: true });
    });

    test("the backup pods reach the database port and nothing else; the database admits them", () => {
        const egress = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-backups-to-database").inputs.spec;
        expect(egress).toEqual({ podSelector: { matchLabels: backupLabels }, policyTypes: ["Egress"],
            egress: [{ to: [{ podSelector: { matchLabels: mysqlLabels } }], ports: [{ protocol: "TCP", port: 3306 }] }] });
        const ingress = p.one(TYPES.networkPolicy, (r) => r.inputs.metadata.name === "allow-database-from-backups").inputs.spec;
        expect(ingress).toEqual({ podSelector: { matchLabels: mysqlLabels }, policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: backupLabels } }], ports: [{ protocol: "TCP", port: 3306 }] }] });
        expect(pod().containers[0].env.find((e: any) => e.name === "DB_HOST").value).toBe("kubepolaris-mysql.kubepolaris.svc.cluster.local.");
    });

    test.each(RDS_STACKS)("%s (RDS) has no dumps of its own and no policy for them", async (stack) => {
        const rds = await runStack(stack);
        expect(rds.ofType(TYPES.cronJob)).toEqual([]);
        expect(rds.ofType(TYPES.networkPolicy).map((r) => r.inputs.metadata.name)).not.toContain("allow-backups-to-database");
    });
});

describe("the components keep a password secret whatever the caller passes", () => {
    test("plain (non-secret) passwords handed to MultiAzMysql and InClusterMysql end up only in secret inputs", async () => {
        const run = await runUnderMocks({
            program: path.join(__dirname, "support", "databasePlaintextCaller.ts"),
            projectDir: PROJECT_DIR,
            stack: "dev",
            computedState: awsComputedState,
        });
        const p: Program = {
            ...run,
            ofType: (type) => run.resources.filter((r) => r.type === type),
            one: (type) => run.resources.filter((r) => r.type === type)[0],
        };
        // Values of test/support/databasePlaintextCaller.ts (importing it would run it here).
        for (const plaintext of ["plaintext-password-from-a-careless-caller", "plaintext-root-password-from-a-careless-caller"]) {
            const places = occurrences(p, plaintext);
            expect(places.length).toBeGreaterThan(0);
            expect(places.filter((place) => !place.secret)).toEqual([]);
        }
        const rdsPlaces = occurrences(p, "plaintext-password-from-a-careless-caller").map((place) => place.resource);
        expect(rdsPlaces).toEqual(expect.arrayContaining([
            `${TYPES.rds}::careless-rds-primary`,
            "aws:secretsmanager/secretVersion:SecretVersion::careless-rds-master",
            `${K8S_SECRET}::careless-rds-credentials`,
            `${K8S_SECRET}::careless-local-credentials`,
        ]));
        expect(Object.values(run.outputs).every((output) => !output.secret)).toBe(true);
    });
});
