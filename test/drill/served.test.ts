// The served-request side of the drills, without a cluster: how vegeta's results become figures
// (scripts/drill/traffic.ts), what naive takes out of our Deployments (configs.ts), the table the
// report prints, and the CLI's refusals. The drill itself runs in test/cluster/local-app.test.ts.
import type { V1Deployment } from "@kubernetes/client-node";
import { parse } from "../../scripts/drill/cli";
import { asSeedHa, configuration, withoutHaMeasures } from "../../scripts/drill/configs";
import { BACKEND } from "../../app/kubepolaris";
import { servedTable, socketSummary } from "../../scripts/drill/report";
import type { RunResult } from "../../scripts/drill/run";
import { kindOf, parseResults, perSecond, RequestRecord, trafficFigures } from "../../scripts/drill/traffic";
import { TYPES } from "../support/types";
import { runStack } from "../support/program";

const URL_BASE = "http://127.0.0.1:30080";
const line = (at: number, code: number, latencyMs: number, method = "GET", p = "/api/v1/auth/me", error = "") => JSON.stringify({
    attack: "", seq: 0, code, timestamp: new Date(1_000_000 + at * 1000).toISOString(), latency: latencyMs * 1e6,
    bytes_out: 0, bytes_in: 0, error, body: null, method, url: `${URL_BASE}${p}`, headers: null,
});

describe("vegeta's results as served-request figures", () => {
    const records: RequestRecord[] = parseResults([
        line(0.1, 200, 5), line(0.5, 200, 7, "POST", "/api/v1/auth/login"), line(0.9, 200, 4, "GET", "/"),
        line(1.2, 502, 2), line(1.4, 0, 10_000, "POST", "/api/v1/auth/login", "Post: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"),
        line(1.8, 0, 1, "GET", "/", "dial tcp 127.0.0.1:30080: connect: connection refused"),
        line(3.3, 200, 6), line(3.6, 503, 3),
    ].join("\n") + "\n", 1_000_000);

    test("each request keeps its second, its kind (login, API read, page) and its outcome", () => {
        expect(records.map((r) => [r.t, r.kind, r.code])).toEqual([
            [0.1, "api-read", 200], [0.5, "login", 200], [0.9, "ui", 200], [1.2, "api-read", 502], [1.4, "login", 0], [1.8, "ui", 0],
            [3.3, "api-read", 200], [3.6, "api-read", 503]]);
        expect(kindOf("GET", `${URL_BASE}/api/v1/auth/login`)).toBe("api-read");
    });

    test("per second: sent, failed by cause (status, timeout, connection), p50 and p99; a quiet second is a row of zeros", () => {
        expect(perSecond(records)).toEqual([
            { s: 0, sent: 3, failed: 0, byCause: {}, p50Ms: 5, p99Ms: 7 },
            { s: 1, sent: 3, failed: 3, byCause: { "502": 1, timeout: 1, connection: 1 }, p50Ms: 2, p99Ms: 10_000 },
            { s: 2, sent: 0, failed: 0, byCause: {}, p50Ms: 0, p99Ms: 0 },
            { s: 3, sent: 2, failed: 1, byCause: { "503": 1 }, p50Ms: 3, p99Ms: 6 },
        ]);
    });

    test("the run's figures: failures by cause and by kind, the seconds with failures and their window", () => {
        expect(trafficFigures(records)).toEqual({
            sent: 8, failed: 4,
            byCause: { "502": 1, "503": 1, timeout: 1, connection: 1 },
            byKind: { login: { sent: 2, failed: 1 }, "api-read": { sent: 4, failed: 2 }, ui: { sent: 2, failed: 1 } },
            p50Ms: 4, p99Ms: 10_000, maxMs: 10_000, secondsWithFailures: 2, failureWindowS: 2.4,
        });
        expect(trafficFigures(records.filter((r) => r.code === 200))).toMatchObject({ failed: 0, secondsWithFailures: 0, failureWindowS: 0 });
    });
});

describe("naive on real nodes: our Deployment without its HA measures", () => {
    let ours: V1Deployment;
    beforeAll(async () => {
        const program = await runStack("local");
        ours = program.one(TYPES.deployment, (r) => r.inputs.metadata.name === "kubepolaris-backend").inputs as V1Deployment;
    });

    test("our backend has every measure naive takes out (so the comparison tests them)", () => {
        const pod = ours.spec!.template.spec!;
        expect(ours.spec!.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
        expect(ours.spec!.minReadySeconds).toBeGreaterThan(0);
        expect(pod.affinity?.podAntiAffinity).toBeDefined();
        expect(pod.topologySpreadConstraints?.length).toBeGreaterThan(0);
        expect(pod.tolerations?.length).toBeGreaterThan(0);
        expect(pod.containers[0].lifecycle?.preStop).toBeDefined();
        expect(pod.containers[0].readinessProbe).toBeDefined();
    });

    test("2 replicas, default rollout and grace, no preStop, probes, anti-affinity, spread or node-loss tolerations; app, image and config kept; input untouched", () => {
        const before = JSON.stringify(ours);
        const naive = withoutHaMeasures(ours);
        const pod = naive.spec!.template.spec!;
        expect(naive.spec!.replicas).toBe(2);
        expect([naive.spec!.strategy, naive.spec!.minReadySeconds, pod.terminationGracePeriodSeconds, pod.affinity, pod.topologySpreadConstraints, pod.tolerations])
            .toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
        for (const c of pod.containers) {
            expect([c.lifecycle, c.readinessProbe, c.startupProbe, c.livenessProbe]).toEqual([undefined, undefined, undefined, undefined]);
        }
        const [a, b] = [ours.spec!.template.spec!.containers[0], pod.containers[0]];
        expect([b.image, b.env, b.volumeMounts, b.securityContext, pod.volumes, naive.spec!.selector])
            .toEqual([a.image, a.env, a.volumeMounts, a.securityContext, ours.spec!.template.spec!.volumes, ours.spec!.selector]);
        expect(JSON.stringify(ours)).toBe(before);
    });

    test("seed-ha on real nodes: the guide's values in place of our measures, its probe timings on the app's real paths (the guide's paths are not routes of 1.0.5)", () => {
        const before = JSON.stringify(ours);
        const seed = asSeedHa(ours, "backend");
        const pod = seed.spec!.template.spec!;
        const c = pod.containers[0];
        expect(seed.spec!.replicas).toBe(3);
        expect([seed.spec!.strategy, seed.spec!.minReadySeconds, pod.terminationGracePeriodSeconds, c.lifecycle, c.startupProbe]).toEqual([undefined, undefined, undefined, undefined, undefined]);
        expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0].topologyKey).toBe("kubernetes.io/hostname");
        expect(pod.topologySpreadConstraints?.[0].whenUnsatisfiable).toBe("ScheduleAnyway");
        expect(c.resources).toEqual({ requests: { cpu: "1000m", memory: "1Gi" }, limits: { cpu: "4000m", memory: "4Gi" } });
        expect([c.livenessProbe?.httpGet?.path, c.livenessProbe?.initialDelaySeconds, c.readinessProbe?.httpGet?.path, c.readinessProbe?.initialDelaySeconds])
            .toEqual([BACKEND.livenessPath, 30, BACKEND.readinessPath, 10]);
        const frontend = asSeedHa(ours, "frontend").spec!.template.spec!;
        expect(frontend.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
        expect(frontend.topologySpreadConstraints).toBeUndefined();
        expect(JSON.stringify(ours)).toBe(before);
        expect(configuration("seed-ha", "real").name).toBe("seed-ha");
    });
});

describe("the served-request report and the CLI", () => {
    const traffic = (failed: number) => ({
        figures: {
            sent: 400, failed, byCause: failed ? { "502": failed } : {},
            byKind: { login: { sent: 80, failed: 0 }, "api-read": { sent: 240, failed }, ui: { sent: 80, failed: 0 } },
            p50Ms: 6, p99Ms: 120, maxMs: 900, secondsWithFailures: failed ? 2 : 0, failureWindowS: failed ? 1.5 : 0,
        },
        series: [], disruptionS: [3, 14] as [number, number],
        sockets: { sockets: 8, drops: failed ? [{ t: 4, how: "closed" as const, backAfterS: 0.4 }, { t: 5, how: "hung" as const, backAfterS: 2.1 }] : [] },
    });
    const result = (config: string, failed: number) => ({
        drill: "drain-one", title: "drain one node", config, wallS: 20, notes: [], samples: [], traffic: traffic(failed),
        figures: { backend: { full: 2, minReady: 1, zeroS: 0, recoveryS: 9, evictionsRefused: 0, pendingAtEnd: 0 },
            frontend: { full: 2, minReady: 2, zeroS: 0, recoveryS: 0, evictionsRefused: 0, pendingAtEnd: 0 } },
    });

    test("one row per drill and configuration: requests, failures by cause and kind, latency, ready pods", () => {
        const run = { nodes: "real", trafficRate: 20, results: [result("ours-small", 0), result("naive", 7)] } as unknown as RunResult;
        const table = servedTable(run);
        expect(table).toContain("| drain one node | ours-small | 400 | 0 | 0 | 0 | 0 / 0 / 0 | 6 / 120 / 900 | 0 | 1 (2) / 2 (2) |");
        expect(table).toContain("| drain one node | naive | 400 | 7 (502: 7) | 2 | 1.5 | 0 / 7 / 0 | 6 / 120 / 900 | 2 (1 hung), back within 0.4–2.1 s | 1 (2) / 2 (2) |");
        expect(table).toContain("WebSockets: 8 held open on the backend's terminal (`/ws/ssh/terminal`)");
        expect(servedTable({ ...run, results: [{ ...result("ours-small", 0), traffic: undefined }] } as unknown as RunResult)).toBe("");
    });

    test("a WebSocket that never came back is named as such", () => {
        expect(socketSummary({ sockets: 4, drops: [{ t: 1, how: "closed", backAfterS: null }] })).toBe("1, 1 never back");
        expect(socketSummary({ sockets: 4, drops: [{ t: 1, how: "hung", backAfterS: 3 }, { t: 2, how: "closed", backAfterS: null }] }))
            .toBe("2 (1 hung), back within 3–3 s, 1 never back");
    });

    test("--real --fast is a drain and a rollout on ours-small and naive; --rate needs --real and a sane number", () => {
        const { options } = parse(["--real", "--fast"]);
        expect([options.nodes, options.configs, options.drills, options.trafficRate]).toEqual(["real", ["ours-small", "naive"], ["drain-one", "rollout"], 40]);
        expect(parse(["--fast"]).options.nodes).toBe("kwok");
        expect(() => parse(["--rate", "20"])).toThrow("--rate: got '20'; allowed: with --real, a whole number of requests per second from 1 to 200");
        expect(() => parse(["--real", "--rate", "5000"])).toThrow("--rate: got '5000'");
        expect(parse(["--real", "--flood-rate", "10"]).options.timings.scaleOutLoginRate).toBe(10);
        expect(() => parse(["--flood-rate", "10"])).toThrow("--flood-rate: got '10'; allowed: with --real, a whole number of logins per second from 1 to 100");
    });
});
