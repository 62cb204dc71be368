// RDS policies. Read replicas (replicateSourceDb) are exempt from Multi-AZ, backup retention and
// the explicit encryption flag; their presence is checked without reading the (often unknown) value.
import {
    rdsBackupRetention,
    rdsDeletionProtection,
    rdsEnhancedMonitoring,
    rdsLargeTierReader,
    rdsMultiAz,
    rdsNotPublic,
    rdsPerformanceInsights,
    rdsStorageEncrypted,
} from "../../policy/rules/database";
import { defaultSpec } from "../fixtures/_lib/spec";
import { policyCases, specResources, UNKNOWN, violationsOf } from "./support";

policyCases(rdsMultiAz, [
    { title: "multiAz false", mutate: (s) => { s.database.primary.multiAz = false; }, expected: ["db-primary: multiAz is false"] },
    { title: "multiAz unset", mutate: (s) => { delete s.database.primary.multiAz; }, expected: ["db-primary: multiAz is unset (defaults to false)"] },
    { title: "a read replica whose source is unknown during preview is still exempt", mutate: (s) => { s.database.replicas[0].replicateSourceDb = UNKNOWN; }, expected: [] },
    { title: "multiAz unknown during preview", mutate: (s) => { s.database.primary.multiAz = UNKNOWN; }, expected: ["db-primary: multiAz is unknown during preview; cannot verify"] },
    {
        title: "an empty replicateSourceDb (as in a primary's outputs) is no replica",
        mutate: (s) => { s.database.primary.replicateSourceDb = ""; s.database.primary.multiAz = false; },
        expected: ["db-primary: multiAz is false"],
    },
]);

policyCases(rdsStorageEncrypted, [
    { title: "unencrypted", mutate: (s) => { s.database.primary.storageEncrypted = false; }, expected: ["db-primary: storageEncrypted is false."] },
    { title: "unset", mutate: (s) => { delete s.database.primary.storageEncrypted; }, expected: ["db-primary: storageEncrypted is unset (defaults to false)."] },
    { title: "a replica that inherits encryption passes", mutate: (s) => { delete s.database.replicas[0].storageEncrypted; }, expected: [] },
    { title: "a replica that turns encryption off", mutate: (s) => { s.database.replicas[0].storageEncrypted = false; }, expected: ["db-replica-1: storageEncrypted is false on a read replica."] },
]);

policyCases(rdsBackupRetention, [
    { title: "retention 0", mutate: (s) => { s.database.primary.backupRetentionPeriod = 0; }, expected: ["db-primary: backupRetentionPeriod is 0 (automated backups and point-in-time restore are off); at least 7 days are required."] },
    { title: "retention unset (the API default is 1)", mutate: (s) => { delete s.database.primary.backupRetentionPeriod; }, expected: ["db-primary: backupRetentionPeriod is unset (the API default is 1 day)"] },
    { title: "7 days where 14 are configured", mutate: () => undefined, config: { properties: { minimumDays: 14 } }, expected: ["db-primary: backupRetentionPeriod is 7; at least 14 days are required."] },
    { title: "a read replica without backups passes (the baseline's replica has 0)", mutate: () => undefined, expected: [] },
]);

policyCases(rdsDeletionProtection, [
    { title: "off on the primary", mutate: (s) => { s.database.primary.deletionProtection = false; }, expected: ["db-primary: deletionProtection is false."] },
    { title: "unset on a replica", mutate: (s) => { delete s.database.replicas[0].deletionProtection; }, expected: ["db-replica-1: deletionProtection is unset (defaults to false)."] },
]);

policyCases(rdsNotPublic, [
    { title: "publicly accessible", mutate: (s) => { s.database.primary.publiclyAccessible = true; }, expected: ["db-primary: publiclyAccessible is true"] },
    { title: "unset passes (private by default in a VPC)", mutate: (s) => { delete s.database.primary.publiclyAccessible; }, expected: [] },
]);

policyCases(rdsPerformanceInsights, [
    { title: "off", mutate: (s) => { s.database.primary.performanceInsightsEnabled = false; }, expected: ["db-primary: performanceInsightsEnabled is false."] },
    { title: "unset on a replica", mutate: (s) => { delete s.database.replicas[0].performanceInsightsEnabled; }, expected: ["db-replica-1: performanceInsightsEnabled is unset"] },
]);

policyCases(rdsEnhancedMonitoring, [
    { title: "interval 0", mutate: (s) => { s.database.primary.monitoringInterval = 0; }, expected: ["db-primary: monitoringInterval is 0."] },
    { title: "unset", mutate: (s) => { delete s.database.primary.monitoringInterval; }, expected: ["db-primary: monitoringInterval is unset (0: Enhanced Monitoring off)."] },
    { title: "an empty role ARN (as in outputs) is no role", mutate: (s) => { s.database.primary.monitoringRoleArn = ""; }, expected: ["db-primary: monitoringInterval is set without a monitoringRoleArn"] },
    { title: "coarser than configured", mutate: () => undefined, config: { properties: { maxIntervalSeconds: 30 } }, expected: ["db-primary: monitoringInterval is 60s; at most 30s", "db-replica-1: monitoringInterval is 60s"] },
]);

test("rds-enhanced-monitoring: an interval without a role fails", async () => {
    const resources = specResources(defaultSpec()).map((r) => {
        if (r.name === "db-primary") {
            const { monitoringRoleArn: _role, ...rest } = r.inputs;
            return { ...r, inputs: rest };
        }
        return r;
    });
    expect(await violationsOf(rdsEnhancedMonitoring, resources)).toEqual([expect.stringContaining("db-primary: monitoringInterval is set without a monitoringRoleArn")]);
});

describe("rds-large-tier-reader", () => {
    const large = { properties: { tier: "large" } };
    test("outputs carry replicateSourceDb \"\" on the primary: still one primary and one replica", async () => {
        const spec = defaultSpec();
        spec.database.primary.replicateSourceDb = "";
        expect(await violationsOf(rdsLargeTierReader, specResources(spec), large)).toEqual([]);
        spec.database.replicas = [];
        expect(await violationsOf(rdsLargeTierReader, specResources(spec), large)).toEqual([expect.stringContaining("db-primary: the tier is large but the stack has 0")]);
    });
    test("the large tier with a replica passes", async () => {
        expect(await violationsOf(rdsLargeTierReader, specResources(defaultSpec()), large)).toEqual([]);
    });
    test("the large tier without a replica fails on the primary", async () => {
        const spec = defaultSpec();
        spec.database.replicas = [];
        expect(await violationsOf(rdsLargeTierReader, specResources(spec), large)).toEqual([
            expect.stringContaining("db-primary: the tier is large but the stack has 0 RDS read replica(s); at least 1"),
        ]);
    });
    test("two readers required, one present", async () => {
        expect(await violationsOf(rdsLargeTierReader, specResources(defaultSpec()), { properties: { tier: "large", minReaders: 2 } }))
            .toEqual([expect.stringContaining("has 1 RDS read replica(s); at least 2")]);
    });
    test("a stack without any RDS instance is not judged (no database to read from), unless requireInstance says it must have one", async () => {
        const resources = specResources(defaultSpec()).filter((r) => r.type !== "aws:rds/instance:Instance");
        expect(await violationsOf(rdsLargeTierReader, resources, large)).toEqual([]);
        expect(await violationsOf(rdsLargeTierReader, resources, { properties: { tier: "large", requireInstance: true } }))
            .toEqual([expect.stringContaining("stack: the tier is large but the stack has no RDS instance")]);
    });
    test.each([["medium"], [undefined]])("tier %p needs no reader", async (tier) => {
        const spec = defaultSpec();
        spec.database.replicas = [];
        expect(await violationsOf(rdsLargeTierReader, specResources(spec), tier ? { properties: { tier } } : undefined)).toEqual([]);
    });
});
