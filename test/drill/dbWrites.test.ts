// The database writer's record and the failover check's verdict, on logs shaped like the writer's.
import { memberLossProblems, parseWriterLog, recoveryFigures, searchListName, writeFigures, writerObjects } from "../../scripts/drill/dbWrites";

const T0 = 1_800_000_000;
/** A writer log: one attempt every 0.1 s from T0, failing where `fails(t)` says; rows read back unless `missing`. */
function log(seconds: number, fails: (t: number) => boolean, missing: number[] = []): string {
    const lines: string[] = [];
    const present: number[] = [];
    for (let i = 1; i <= seconds * 10; i++) {
        const t = T0 + i / 10;
        if (fails(t - T0)) {
            lines.push(`fail ${i} ${t.toFixed(3)} ERROR 2002 (HY000): Can't connect to server on 'kubepolaris-mysql' (115)`);
        } else {
            lines.push(`ok ${i} ${t.toFixed(3)}`);
            if (!missing.includes(i)) {
                present.push(i);
            }
        }
    }
    return [...lines, ...present.map((i) => `present ${i}`), "done"].join("\n");
}

test("a member loss that costs a few writes passes; the figures count them and find no gap", () => {
    const f = writeFigures(parseWriterLog(log(30, (t) => t > 10.05 && t < 10.25)), T0, { from: T0 + 10, to: T0 + 25 });
    expect(f).toMatchObject({ attempts: 300, failed: 2, acknowledged: 298, lost: [], acknowledgedWhileAway: 139 });
    expect(f.longestGapS).toBeLessThan(1);
    expect(Object.values(f.errors)).toEqual([2]);
    expect(memberLossProblems(f, true)).toEqual([]);
});

test("a database of one pod fails: nothing written while its pod was away, writes stopped for its restart", () => {
    const f = writeFigures(parseWriterLog(log(30, (t) => t > 10 && t < 19)), T0, { from: T0 + 10, to: T0 + 19 });
    expect(memberLossProblems(f, true)).toEqual([
        "no write was acknowledged while the member was away",
        expect.stringMatching(/^writes stopped for 9(\.\d)? s \(from 10(\.\d)? s\), more than 5 s$/),
    ]);
});

test("an acknowledged write missing at the end is a lost commit; a log without its read-back proves nothing", () => {
    const f = writeFigures(parseWriterLog(log(30, () => false, [57, 58])), T0, { from: T0 + 10, to: T0 + 20 });
    expect(f.lost).toEqual([57, 58]);
    expect(memberLossProblems(f, true)).toEqual(["2 acknowledged writes lost (57, 58)"]);
    const cut = parseWriterLog(log(30, () => false).replace(/\ndone$/, ""));
    expect(cut.present).toBeUndefined();
    expect(memberLossProblems(writeFigures(cut, T0, { from: T0 + 10, to: T0 + 20 }), false)).toEqual(["the rows were never read back"]);
});

test("the writer's pod runs restricted, reads the password from the Secret, and its policies admit it to the database pods only", () => {
    const objects = writerObjects({
        name: "w1", namespace: "kp", image: "img", uid: 999, host: "db.kp.svc", port: 3306, database: "kubepolaris", user: "kp",
        passwordSecret: { name: "creds", key: "mysql-password" }, databaseLabels: { app: "db" }, seconds: 10,
    }) as any[];
    expect(objects.map((o) => o.kind)).toEqual(["NetworkPolicy", "NetworkPolicy", "Pod"]);
    const pod = objects[2];
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.spec.containers[0].env.find((e: any) => e.name === "MYSQL_PWD").valueFrom.secretKeyRef).toEqual({ name: "creds", key: "mysql-password" });
    expect(JSON.stringify(pod)).not.toContain("password=");
    expect(objects[1].spec).toEqual({ podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: pod.metadata.labels } }], ports: [{ protocol: "TCP", port: 3306 }] }] });
    // Without resolver options it takes the cluster's; with the backend's it looks the host up as the backend does.
    expect(pod.spec.dnsConfig).toBeUndefined();
    const options = { options: [{ name: "timeout", value: "1" }] };
    const [, , resolving] = writerObjects({
        name: "w2", namespace: "kp", image: "img", uid: 999, host: "db.kp.svc.cluster.local.", port: 3306, database: "kubepolaris", user: "kp",
        passwordSecret: { name: "creds", key: "mysql-password" }, databaseLabels: { app: "db" }, seconds: 10, dnsConfig: options,
    }) as any[];
    expect(resolving.spec.dnsConfig).toEqual(options);
    expect(resolving.spec.containers[0].env.find((e: any) => e.name === "DB_HOST").value).toBe("db.kp.svc.cluster.local.");
});

test("the plain client of the machine-loss drill uses the name the search list completes", () => {
    expect(searchListName("kubepolaris-mysql.kubepolaris.svc.cluster.local.")).toBe("kubepolaris-mysql.kubepolaris.svc");
    expect(searchListName("db.kp.svc.corp.internal.")).toBe("db.kp.svc");
    expect(searchListName("db.kp.svc")).toBe("db.kp.svc");
    expect(() => searchListName("mysql.example.com")).toThrow(/not a Service's name/);
});

test("a drill's own goal: a machine loss may stop writes up to 30 s, a full restart needs no writes while away", () => {
    const f = writeFigures(parseWriterLog(log(60, (t) => t > 10 && t < 30)), T0, { from: T0 + 10, to: T0 + 50 });
    expect(memberLossProblems(f, true, { maxGapS: 30, whileAway: true, text: "" })).toEqual([]);
    expect(memberLossProblems(f, true, { maxGapS: 10, whileAway: true, text: "" })).toEqual([expect.stringMatching(/^writes stopped for 20(\.\d)? s/)]);
    const restart = writeFigures(parseWriterLog(log(60, (t) => t > 10 && t < 22)), T0, { from: T0 + 10, to: T0 + 22 });
    expect(memberLossProblems(restart, true, { whileAway: false, text: "" })).toEqual([]);
});


describe("the recovery drill's verdict (a dump at 10 s, every member lost at 30 s, restored by 100 s)", () => {
    // Writes fail while the database is gone; rows written between the dump and the loss are not in the dump.
    const down = (t: number) => t > 30 && t < 100;
    const afterDump = (from: number, to: number) => Array.from({ length: (to - from) * 10 }, (_, i) => from * 10 + i + 1);
    const at = { dumpStart: T0 + 10, lost: T0 + 30, rtoS: 75, intervalMinutes: 30 };

    test("nothing written before the dump missing, RTO and RPO inside the guide's objectives: met", () => {
        const f = recoveryFigures(parseWriterLog(log(120, down, afterDump(10, 30))), at);
        expect(f).toMatchObject({ rtoS: 75, drillRpoS: 20, scheduleRpoS: 1800, acknowledgedBeforeDump: 99, missingBeforeDump: [], lostAfterDump: 199, problems: [] });
    });

    test("a restore that misses rows written before the dump fails", () => {
        const f = recoveryFigures(parseWriterLog(log(120, down, [5, 6, ...afterDump(10, 30)])), at);
        expect(f.missingBeforeDump).toEqual([5, 6]);
        expect(f.problems).toEqual(["2 writes acknowledged before the dump are missing (5, 6)"]);
    });

    test("a restore that brought nothing back fails; so do an RTO of 30 min, an hourly schedule and no read-back", () => {
        const nothing = recoveryFigures(parseWriterLog(log(120, down, afterDump(0, 120))), at);
        expect(nothing.missingBeforeDump).toHaveLength(99);
        const slow = recoveryFigures(parseWriterLog(log(120, down, afterDump(10, 30))), { ...at, rtoS: 1800, intervalMinutes: 60 });
        expect(slow.problems).toEqual(["RTO 1800 s, not under 1800 s", "RPO 3600 s, not under 3600 s"]);
        const unread = recoveryFigures(parseWriterLog(log(120, down).replace(/\ndone$/, "")), at);
        expect(unread.problems).toContain("the rows were never read back");
    });
});
