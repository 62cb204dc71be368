// Bad stack config fails before any resource is registered, with a message that names the key,
// the value and what is allowed. Each case starts from a real stack file and changes one thing.
import * as fs from "fs";
import * as path from "path";
import { parseConfig, TIER_PROFILES, TIERS } from "../config";
import { cpuMillis, memoryBytes } from "../components/quantity";
import { HA_MIN_REPLICAS, REPLICA_FLOORS } from "../policy/facts";
import { ProgramError } from "../tools/mockRun";
import { configProblems, PROJECT_DIR, runStack, STACKS, stackValues } from "./support/program";

const values = stackValues;

/** Merges `patch` into the stack file's object value at `key`. */
function withObject(stack: string, key: string, patch: Record<string, unknown>) {
    const current = JSON.parse(values(stack).values[key] ?? "{}");
    return values(stack, { [key]: { ...current, ...patch } });
}

const problems = configProblems;

test.each(STACKS)("the %s stack file is valid", (stack) => {
    const config = parseConfig(values(stack));
    expect(config.environment).toBe(stack);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.backend.resources.limits)).toBe(true);
});

test("stacks use the tier the design names for them", () => {
    expect(STACKS.map((s) => `${s}:${parseConfig(values(s)).tier}`)).toEqual(["local:small", "dev:small", "staging:medium", "prod:large"]);
});

test("every tier survives losing a pod, each larger tier is no smaller, so a tier change up never shrinks anything", () => {
    const components = ["backend", "frontend"] as const;
    for (const profile of Object.values(TIER_PROFILES)) {
        for (const c of components) {
            // Two pods at the HPA minimum, so a drain or a crash leaves one serving; the HPA can scale out.
            expect(profile[c].minReplicas).toBeGreaterThanOrEqual(HA_MIN_REPLICAS);
            expect(profile[c].maxReplicas).toBeGreaterThan(profile[c].minReplicas);
            for (const r of ["cpu", "memory"] as const) {
                const q = r === "cpu" ? cpuMillis : memoryBytes;
                expect(q(profile[c].resources.limits[r])).toBeGreaterThanOrEqual(q(profile[c].resources.requests[r]));
            }
        }
    }
    // The prod stack's tier meets prod's floor of three replicas.
    const prod = TIER_PROFILES[parseConfig(values("prod")).tier];
    components.forEach((c) => expect(prod[c].minReplicas).toBeGreaterThanOrEqual(REPLICA_FLOORS.prod));
    const tiers = [...TIERS].map((t) => TIER_PROFILES[t]);
    for (let i = 1; i < tiers.length; i++) {
        for (const c of components) {
            expect(tiers[i][c].minReplicas).toBeGreaterThanOrEqual(tiers[i - 1][c].minReplicas);
            expect(tiers[i][c].maxReplicas).toBeGreaterThanOrEqual(tiers[i - 1][c].maxReplicas);
            expect(cpuMillis(tiers[i][c].resources.requests.cpu)).toBeGreaterThanOrEqual(cpuMillis(tiers[i - 1][c].resources.requests.cpu));
        }
        expect(tiers[i].database.allocatedStorageGiB).toBeGreaterThanOrEqual(tiers[i - 1].database.allocatedStorageGiB);
    }
});

describe("rejected with key, value and what is allowed", () => {
    test("an unknown tier", () => {
        expect(problems(values("dev", { tier: "huge" }))).toEqual([
            'kubepolaris:tier: got "huge"; allowed: one of "small", "medium", "large"',
        ]);
    });

    test("an unknown environment", () => {
        expect(problems(values("dev", { environment: "qa" }))[0]).toBe(
            'kubepolaris:environment: got "qa"; allowed: one of "local", "dev", "staging", "prod"');
    });

    test("replicas below 2 outside local", () => {
        expect(problems(values("dev", { scaling: { backend: { minReplicas: 1 } } }))).toEqual([
            "kubepolaris:scaling.backend.minReplicas: got 1; allowed: an integer ≥ 2 on environment dev",
        ]);
    });

    test("fewer than 3 replicas in prod", () => {
        expect(problems(values("prod", { scaling: { frontend: { minReplicas: 2 } } }))).toEqual([
            "kubepolaris:scaling.frontend.minReplicas: got 2; allowed: an integer ≥ 3 on environment prod",
        ]);
    });

    test("but local may run a single replica", () => {
        const config = parseConfig(values("local", { scaling: { backend: { minReplicas: 1 } } }));
        expect(config.backend.minReplicas).toBe(1);
    });

    test("HPA max below min", () => {
        expect(problems(values("staging", { scaling: { backend: { minReplicas: 4, maxReplicas: 3 } } }))).toEqual([
            "kubepolaris:scaling.backend.maxReplicas: got 3; allowed: an integer ≥ scaling.backend.minReplicas (4)",
        ]);
    });

    test.each([
        ["https://kubepolaris.example.com"],
        ["kubepolaris.example.com:443"],
        ["KubePolaris.example.com"],
        ["localhost"],
        ["*.example.com"],
        ["kube_polaris.example.com"],
    ])("a host that is not a DNS name: %s", (host) => {
        expect(problems(values("dev", { host }))).toEqual([
            `kubepolaris:host: got "${host}"; allowed: a fully qualified DNS name such as kubepolaris.example.com (lowercase, no wildcard, no scheme or port)`,
        ]);
    });

    test.each([
        ["registry.example.com/kubepolaris-backend:latest"],
        ["registry.example.com/kubepolaris-backend"],
        ["registry.example.com:5000/kubepolaris-backend"],
        ["kubepolaris-backend:stable"],
    ])("a backend image that is not pinned: %s", (image) => {
        const [problem] = problems(withObject("prod", "images", { backend: image }));
        expect(problem).toMatch(new RegExp(`^kubepolaris:images\\.backend: got "${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"; allowed: an image pinned by digest`));
    });

    test("a :canary image (a floating tag the policy pack refuses) is refused before anything is registered", () => {
        expect(problems(withObject("prod", "images", { frontend: "registry.example.com/kubepolaris-frontend:canary" }))).toEqual([
            'kubepolaris:images.frontend: got "registry.example.com/kubepolaris-frontend:canary"; allowed: an image pinned by digest'
            + " (repo@sha256:…) or by a version tag (repo:v1.2.3), not untagged or tagged"
            + " latest/stable/main/master/edge/nightly/dev/develop/head/canary/current",
        ]);
    });

    test("a digest that is not a sha256 of 64 hex digits is refused", () => {
        const [problem] = problems(withObject("prod", "images", { backend: `registry.example.com/kp@sha256:${"A".repeat(64)}` }));
        expect(problem).toMatch(/^kubepolaris:images\.backend: got .*; allowed: an image pinned by digest/);
    });

    test("upstream images pinned by digest or by a version tag are fine: the mirror copies them, pods run the mirror's digest", () => {
        const digest = `registry.example.com:5000/kubepolaris-frontend@sha256:${"a".repeat(64)}`;
        const config = parseConfig(withObject("prod", "images", { frontend: digest, backend: "registry.example.com:5000/kp:v1.2.3" }));
        expect(config.imageMirror!.images.map((i) => i.source)).toEqual(["registry.example.com:5000/kp:v1.2.3", digest]);
        expect(config.frontend.image).toMatch(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/kubepolaris-prod\/frontend@sha256:[a-f0-9]{64}$/);
        // The local stack has no mirror: it runs what it names.
        const local = parseConfig(withObject("local", "images", { frontend: digest }));
        expect(local.frontend.image).toBe(digest);
    });

    test("images.pullPolicy: IfNotPresent for digests (the mirror), Always for a tag, unless set; an unknown policy is refused", () => {
        expect(parseConfig(values("prod")).imagePullPolicy).toBe("IfNotPresent");
        expect(parseConfig(values("local", { images: { backend: "kubepolaris.local/b:v1", frontend: "kubepolaris.local/f:v1" } })).imagePullPolicy).toBe("Always");
        expect(parseConfig(withObject("dev", "images", { pullPolicy: "Always" })).imagePullPolicy).toBe("Always");
        expect(problems(withObject("dev", "images", { pullPolicy: "Sometimes" }))).toEqual([
            'kubepolaris:images.pullPolicy: got "Sometimes"; allowed: one of "Always", "IfNotPresent", "Never"',
        ]);
    });

    test("an edge kind other than gateway or ingress, and a class name that is not a Kubernetes name", () => {
        expect(problems(withObject("prod", "edge", { kind: "nginx", className: "Traefik_1" }))).toEqual([
            'kubepolaris:edge.kind: got "nginx"; allowed: one of "gateway", "ingress"',
            'kubepolaris:edge.className: got "Traefik_1"; allowed: a DNS-1123 name (lowercase letters, digits, \'-\' and \'.\')',
        ]);
    });

    test("an unknown key in a structured object", () => {
        expect(problems(withObject("dev", "edge", { shceme: "internal" }))).toEqual([
            'kubepolaris:edge.shceme: got "internal"; allowed: only the keys kind, className, serviceType, scheme, sourceRanges, controllerNamespace, controllerLabels, awaitLoadBalancer, controller under edge',
        ]);
    });

    test("an unknown top-level key (a typo would otherwise be ignored silently)", () => {
        const [problem] = problems(values("dev", { teir: "large" }));
        expect(problem).toMatch(/^kubepolaris:teir: got "large"; allowed: one of the known keys: environment, tier,/);
    });

    test("a secret key set in plaintext", () => {
        const raw = values("dev", { jwtSecret: "hunter2hunter2" });
        expect(problems(raw)).toEqual([
            'kubepolaris:jwtSecret: got "<plaintext>"; allowed: a secret: set it with `pulumi config set --secret`',
        ]);
    });

    test("an edge scheme that is neither internal nor internet-facing", () => {
        expect(problems(withObject("prod", "edge", { scheme: "public" }))).toEqual([
            'kubepolaris:edge.scheme: got "public"; allowed: one of "internal", "internet-facing"',
        ]);
    });

    test("a source range that is not a CIDR block", () => {
        expect(problems(withObject("prod", "edge", { sourceRanges: ["10.0.0.0/8", "10.0.0.300/8"] }))).toEqual([
            'kubepolaris:edge.sourceRanges[1]: got "10.0.0.300/8"; allowed: an IPv4 CIDR block such as 10.0.0.0/8',
        ]);
    });

    test("NodePort outside local", () => {
        expect(problems(withObject("prod", "edge", { serviceType: "NodePort" }))).toEqual([
            'kubepolaris:edge.serviceType: got "NodePort"; allowed: "LoadBalancer" on environment prod ("NodePort" is for local only)',
        ]);
    });

    test("an in-cluster database in staging or prod", () => {
        expect(problems(withObject("prod", "database", { mode: "in-cluster" }))).toContain(
            'kubepolaris:database.mode: got "in-cluster"; allowed: "rds" on environment prod ("in-cluster" is for local and dev only)');
    });

    test("rendering manifests (plaintext Secrets) outside local", () => {
        expect(problems(values("prod", { kubernetes: { renderYamlToDirectory: "/tmp/out" } }))).toEqual([
            'kubepolaris:kubernetes.renderYamlToDirectory: got "/tmp/out"; allowed: nothing on environment prod (rendering writes Secrets in plaintext; it is for local only)',
        ]);
        expect(parseConfig(values("local", { kubernetes: { renderYamlToDirectory: "/tmp/out" } })).kubernetes.renderYamlToDirectory).toBe("/tmp/out");
    });

    test("a missing required key", () => {
        expect(problems(values("dev", { host: undefined }))).toEqual([
            "kubepolaris:host: got nothing (the key is not set); allowed: a fully qualified DNS name such as kubepolaris.example.com (lowercase, no wildcard, no scheme or port)",
        ]);
    });

    test("every problem is reported at once", () => {
        expect(problems(values("dev", { tier: "xl", host: "not a host", namespace: "Kube_Polaris" }))).toHaveLength(3);
    });
});

test("the program registers nothing when the config is bad", async () => {
    const err = await runStack("prod", { "kubepolaris:tier": "huge" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramError);
    expect((err as ProgramError).message).toContain('kubepolaris:tier: got "huge"');
    // Only the root stack resource exists: not even the Kubernetes provider was created.
    expect((err as ProgramError).registered.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
});

describe("NetworkPolicy enforcement and the backend's egress", () => {
    test("staging and prod must name the NetworkPolicy enforcer their cluster runs: without one the default-deny policies isolate nothing", () => {
        for (const stack of ["staging", "prod"]) {
            const [problem] = problems(withObject(stack, "network", { policyEnforcer: "none" }));
            expect(problem).toMatch(/^kubepolaris:network\.policyEnforcer: got "none"; allowed: the NetworkPolicy enforcer the cluster runs \(vpc-cni-network-policy-agent, calico/);
            expect(problem).toContain("enableNetworkPolicy");
            expect(problems(withObject(stack, "network", { policyEnforcer: undefined }))).toEqual([
                expect.stringMatching(/^kubepolaris:network\.policyEnforcer: got nothing \(the key is not set\); allowed: the NetworkPolicy enforcer/),
            ]);
        }
        expect(problems(withObject("prod", "network", { policyEnforcer: "weave" }))).toEqual([
            expect.stringMatching(/^kubepolaris:network\.policyEnforcer: got "weave"; allowed: one of/),
        ]);
        // The local cluster's real nodes run kube-router's firewall (Pulumi.local.yaml says so).
        expect(parseConfig(values("local")).network.policyEnforcer).toBe("kube-router");
        expect(parseConfig(values("prod")).network.policyEnforcer).toBe("vpc-cni-network-policy-agent");
    });

    test("the backend's API-server egress defaults to the private ranges, not the whole internet", () => {
        for (const stack of STACKS) {
            const { apiServerEgressCidrs } = parseConfig(values(stack)).network;
            expect(apiServerEgressCidrs).not.toContain("0.0.0.0/0");
            expect(apiServerEgressCidrs).toEqual(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
        }
    });
});

test("docs/configuration.md names every edge setting the parser accepts", () => {
    // The parser lists what it accepts when given a key it does not know, at every level.
    const local = JSON.parse(values("local").values.edge);
    const probe = withObject("local", "edge", { unknown: 1, controller: { ...local.controller, unknown: 1, apiServer: { ...local.controller.apiServer, unknown: 1 } } });
    const accepted = problems(probe).flatMap((line) => {
        const m = /allowed: only the keys (.+) under (\S+)$/.exec(line);
        return m ? m[1].split(", ").map((key) => `${m[2]}.${key}`) : [];
    });
    expect(accepted).toEqual(expect.arrayContaining(["edge.kind", "edge.controller", "edge.controller.image", "edge.controller.apiServer.ports"]));
    const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "configuration.md"), "utf8");
    expect(accepted.filter((key) => !doc.includes(`\`${key}\``) && !doc.includes(`\`${key}.`))).toEqual([]);
});
