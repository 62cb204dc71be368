// MultiAzMysql alone: the writer survives an AZ, backups and deletion follow the args, replicas
// stay out of the writer's AZ, and every failure mode pages.
import { MultiAzMysql, MultiAzMysqlArgs } from "../../components/database/multiAzMysql";
import { recordRegistrations, Registered, secretInput, TYPES } from "../support/components";


const recorder = recordRegistrations((type, name) => {
    switch (type) {
        case TYPES.rds: return { address: `${name}.db.example` };
        case TYPES.randomPassword: return { result: `generated-${name}` };
        default: return {};
    }
});

function args(overrides: Partial<MultiAzMysqlArgs> = {}): MultiAzMysqlArgs {
    return {
        identifier: "kp-test",
        engine: { version: "8.4", parameterGroupFamily: "mysql8.4", lifecycleSupport: "open-source-rds-extended-support-disabled" },
        instance: { instanceClass: "db.t4g.medium", allocatedStorageGiB: 50, maxAllocatedStorageGiB: 200, readReplicas: 0 },
        network: {
            vpcId: "vpc-1",
            subnets: [{ id: "subnet-a", az: "eu-west-1a" }, { id: "subnet-b", az: "eu-west-1b" }, { id: "subnet-c", az: "eu-west-1c" }],
            primaryAz: "eu-west-1a",
            allowedSecurityGroupIds: ["sg-eks"],
            allowedCidrs: [],
        },
        backups: { retentionDays: 7, window: "02:00-03:00", maintenanceWindow: "sun:04:00-sun:05:00", deletionProtection: false, finalSnapshot: false },
        monitoring: { performanceInsightsRetentionDays: 7, intervalSeconds: 60, logRetentionDays: 30, alarmEmails: [] },
        databaseName: "kubepolaris",
        username: "kubepolaris",
        port: 3306,
        maxConnections: 200,
        requireTls: false,
        kubernetes: { namespace: "kp", secretName: "kp-mysql-credentials", labels: {} },
        tags: { Project: "kubepolaris" },
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<MultiAzMysqlArgs> = {}) {
    const database = new MultiAzMysql(name, args(overrides));
    await recorder.settle(database.writerEndpoint, database.readerEndpoints, database.secretArn, database.alarmTopicArn, database.drBackupsArn,
        database.kmsKeyArn, database.parameterGroupName);
    const of = (type: string) => recorder.ofType(type, `${name}-`);
    return { database, of, primary: recorder.one(TYPES.rds, `${name}-primary`).inputs };
}

test("the writer is Multi-AZ, encrypted, private, in the subnet group, with automated backups for point-in-time restore", async () => {
    const { primary } = await build("writer");
    expect(primary).toMatchObject({
        multiAz: true, storageEncrypted: true, publiclyAccessible: false, backupRetentionPeriod: 7,
        engine: "mysql", engineVersion: "8.4", engineLifecycleSupport: "open-source-rds-extended-support-disabled", instanceClass: "db.t4g.medium", allocatedStorage: 50, maxAllocatedStorage: 200,
    });
    expect(primary.availabilityZone).toBeUndefined();
});

test("deletion protection and a final snapshot follow the args; without a final snapshot the automated backups are dropped with it", async () => {
    const kept = (await build("keep", { backups: { ...args().backups, retentionDays: 14, deletionProtection: true, finalSnapshot: true } })).primary;
    expect(kept).toMatchObject({
        backupRetentionPeriod: 14, deletionProtection: true, skipFinalSnapshot: false,
        finalSnapshotIdentifier: "kp-test-final", deleteAutomatedBackups: false,
    });
    const scratch = (await build("scratch")).primary;
    expect(scratch).toMatchObject({ deletionProtection: false, skipFinalSnapshot: true, deleteAutomatedBackups: true });
    expect(scratch.finalSnapshotIdentifier).toBeUndefined();
});

test("read replicas follow the writer, outside the writer's AZ, one per other AZ before any AZ gets two", async () => {
    const { of, database } = await build("replicas", { instance: { ...args().instance, readReplicas: 3 } });
    const replicas = of(TYPES.rds).filter((r: Registered) => r.name.includes("-replica-")).map((r) => r.inputs);
    expect(replicas).toHaveLength(3);
    expect(replicas.map((r) => r.availabilityZone)).toEqual(["eu-west-1b", "eu-west-1c", "eu-west-1b"]);
    for (const replica of replicas) {
        expect(replica.replicateSourceDb).toBe("kp-test");
        expect(replica.multiAz).toBe(false);
        // A promoted replica has point-in-time restore from the start.
        expect(replica.backupRetentionPeriod).toBe(7);
    }
    expect(await new Promise((resolve) => database.readerEndpoints.apply(resolve))).toEqual([
        "replicas-replica-1.db.example", "replicas-replica-2.db.example", "replicas-replica-3.db.example",
    ]);
    // Replica lag pages only where there is a replica.
    const lagAlarms = of(TYPES.metricAlarm).filter((r) => r.inputs.metricName === "ReplicaLag").map((r) => r.inputs.dimensions.DBInstanceIdentifier);
    expect(lagAlarms.sort()).toEqual(["kp-test-replica-1", "kp-test-replica-2", "kp-test-replica-3"]);
});

test("only the allowed sources reach the database, on its port alone", async () => {
    const { of } = await build("network", {
        port: 3307,
        network: { ...args().network, allowedSecurityGroupIds: ["sg-eks", "sg-bastion"], allowedCidrs: ["10.2.0.0/16"] },
    });
    const rules = of(TYPES.securityGroupIngressRule).map((r) => r.inputs);
    expect(rules.map((r) => r.referencedSecurityGroupId ?? r.cidrIpv4).sort()).toEqual(["10.2.0.0/16", "sg-bastion", "sg-eks"]);
    for (const rule of rules) {
        expect([rule.ipProtocol, rule.fromPort, rule.toPort]).toEqual(["tcp", 3307, 3307]);
    }
    expect(of("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
});

test("a given KMS key is used for storage and Performance Insights; without one a rotating key is created", async () => {
    const given = await build("own-key", { kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/own" });
    expect(given.of(TYPES.kmsKey)).toEqual([]);
    expect(given.primary.kmsKeyId).toBe("arn:aws:kms:eu-west-1:123456789012:key/own");
    expect(given.primary.performanceInsightsKmsKeyId).toBe("arn:aws:kms:eu-west-1:123456789012:key/own");
    const created = await build("new-key");
    const [key] = created.of(TYPES.kmsKey);
    expect(key.inputs.enableKeyRotation).toBe(true);
});

test("the parameter group enforces utf8mb4 and the connection limit, and TLS only when asked", async () => {
    const params = async (name: string, requireTls: boolean) => {
        await build(name, { requireTls, maxConnections: 321 });
        const group = recorder.one("aws:rds/parameterGroup:ParameterGroup", `${name}-params`).inputs;
        return Object.fromEntries(group.parameters.map((p: any) => [p.name, p.value]));
    };
    const open = await params("params-open", false);
    expect(open).toMatchObject({ character_set_server: "utf8mb4", max_connections: "321", require_secure_transport: "0" });
    expect((await params("params-tls", true)).require_secure_transport).toBe("1");
    // The description says what the group sets (it used to say "TLS only" over require_secure_transport=0).
    expect(recorder.one("aws:rds/parameterGroup:ParameterGroup", "params-open-params").inputs.description).toContain("TLS optional");
    expect(recorder.one("aws:rds/parameterGroup:ParameterGroup", "params-tls-params").inputs.description).toContain("TLS required");
});

test("alarms page on CPU, storage and connections, at 90 % of max_connections, and on storage only when autoscaling has not kept up", async () => {
    const { of } = await build("alarms", { maxConnections: 500, instance: { ...args().instance, allocatedStorageGiB: 100 } });
    const alarms = Object.fromEntries(of(TYPES.metricAlarm).map((r) => [r.inputs.metricName, r.inputs]));
    expect(Object.keys(alarms).sort()).toEqual(["CPUUtilization", "DatabaseConnections", "FreeStorageSpace"]);
    expect(alarms.DatabaseConnections.threshold).toBe(450);
    // Storage autoscaling grows the volume once free space is at or below 10 % of its allocation,
    // which never shrinks below the initial 100 GiB: an alarm under 10 GiB free stays quiet while
    // the volume can still grow (normal growth never pages)...
    expect(alarms.FreeStorageSpace.threshold).toBeLessThan(0.1 * 100 * 1024 ** 3);
    // ...and once it cannot (at maxAllocatedStorage, 200 GiB here) it pages while at least 1 % of
    // the volume is still free, time to act before writes fail.
    expect(alarms.FreeStorageSpace.threshold).toBeGreaterThanOrEqual(0.01 * 200 * 1024 ** 3);
    expect(alarms.FreeStorageSpace.alarmDescription).toContain("maxAllocatedStorage (200 GiB)");
    // Growth also waits 6 hours after the last one: the page must not send on-call to a maximum that was not reached.
    expect(alarms.FreeStorageSpace.alarmDescription).toMatch(/once in 6 hours.*cooldown/);
    expect(alarms.FreeStorageSpace.alarmDescription.length).toBeLessThanOrEqual(1024);
    expect(of(TYPES.snsTopic)).toHaveLength(1);
});

test("an existing alarm topic is used as it is, and each on-call address subscribes to it", async () => {
    const topicArn = "arn:aws:sns:eu-west-1:123456789012:oncall";
    const { of, database } = await build("topic", { monitoring: { ...args().monitoring, alarmTopicArn: topicArn, alarmEmails: ["a@example.com", "b@example.com"] } });
    expect(of(TYPES.snsTopic)).toEqual([]);
    expect(of("aws:sns/topicSubscription:TopicSubscription").map((r) => [r.inputs.topic, r.inputs.endpoint])).toEqual([
        [topicArn, "a@example.com"], [topicArn, "b@example.com"],
    ]);
    expect(of(TYPES.metricAlarm).every((r) => r.inputs.alarmActions[0] === topicArn)).toBe(true);
    expect(await new Promise((resolve) => database.alarmTopicArn.apply(resolve))).toBe(topicArn);
});

test("with a DR region the automated backups and the master secret are replicated there; without, nothing is", async () => {
    const dr = await build("dr", { dr: { region: "eu-central-1", kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/dr", backupRetentionDays: 10 } });
    const [replication] = dr.of(TYPES.backupsReplication);
    expect(replication.inputs).toMatchObject({ retentionPeriod: 10, kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr" });
    const provider = recorder.one("pulumi:providers:aws", "dr-dr").inputs;
    expect(provider.region).toBe("eu-central-1");
    expect(dr.of(TYPES.secretsManagerSecret)[0].inputs.replicas).toEqual([{ region: "eu-central-1", kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr" }]);

    const none = await build("no-dr");
    expect(none.of(TYPES.backupsReplication)).toEqual([]);
    expect(none.of(TYPES.secretsManagerSecret)[0].inputs.replicas).toBeUndefined();
    expect(none.database.drBackupsArn).toBeUndefined();
});

test("the backend reads the password from a Secret in its namespace; a password is generated when none is given", async () => {
    const { of, database } = await build("password");
    const [generated] = of(TYPES.randomPassword);
    expect(generated.inputs).toMatchObject({ length: 40, special: false });
    const secret = recorder.one(TYPES.secret, "password-credentials").inputs;
    expect(secret.metadata).toMatchObject({ name: "kp-mysql-credentials", namespace: "kp" });
    const stringData = secretInput(secret.stringData);
    expect(stringData.secret).toBe(true);
    expect(stringData.value).toEqual({ [database.connection.passwordSecret.key]: "generated-password-password" });
    expect(secretInput(recorder.one(TYPES.rds, "password-primary").inputs.password)).toEqual({ secret: true, value: "generated-password-password" });
    expect(database.connection).toMatchObject({ port: 3306, database: "kubepolaris", username: "kubepolaris" });
});
