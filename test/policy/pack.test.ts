// The pack's shape and the per-environment config files users pass to
// `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PACK_NAME, packArgs } from "../../policy/pack";
import { loadPolicyConfigFile, reconcilePolicyConfig, unknownPolicyKeys } from "../../tools/policyRunner/config";
import { isResourcePolicy, isStackPolicy } from "../../tools/policyRunner/engine";

const ROOT = path.resolve(__dirname, "..", "..");
const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;
const policies = packArgs.policies;
const names = policies.map((p) => p.name);

describe("the policy pack", () => {
    test("every policy has a unique kebab-case name, a fix-it description, a level and a severity", () => {
        expect(new Set(names).size).toBe(names.length);
        for (const p of policies) {
            expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
            expect(p.name).not.toBe("all");
            expect(p.description.length).toBeGreaterThan(80);
            expect(p.description).toMatch(/Fix:|fix/);
            expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
            expect(p.severity).toBeDefined();
            expect(isResourcePolicy(p) !== isStackPolicy(p)).toBe(true);
            // The analyzer refuses enforcementLevel inside a configSchema.
            expect(Object.keys(p.configSchema?.properties ?? {})).not.toContain("enforcementLevel");
        }
    });

    test("covers the checklist areas with the expected policies", () => {
        expect(names).toEqual([
            "workload-min-replicas", "workload-hostname-anti-affinity", "workload-zone-spread", "workload-probes", "workload-resources",
            "workload-security-context", "workload-immutable-image",
            "pdb-coverage", "pdb-allows-eviction",
            "hpa-bounds", "hpa-target-exists", "hpa-min-above-pdb-floor", "hpa-utilization-requests", "hpa-owns-replicas",
            "rollout-respects-pdb",
            "ingress-tls", "service-nlb-cross-zone", "ingress-no-websocket-services-annotation",
            "rds-multi-az", "rds-storage-encrypted", "rds-backup-retention", "rds-deletion-protection", "rds-not-public",
            "rds-performance-insights", "rds-enhanced-monitoring", "rds-large-tier-reader",
            "prometheus-alerts",
            "namespace-pod-security", "namespace-resource-quota", "namespace-default-deny",
            "service-routes-to-pods", "ingress-backends-exist", "probe-endpoints", "termination-grace-covers-prestop",
            "placement-not-pinned", "zone-spread-schedule-anyway", "quota-fits-scale-out", "network-policy-reachability",
            "env-no-literal-credentials", "prometheus-rules-valid",
        ]);
    });

    test("PulumiPolicy.yaml, package.json and tsconfig let the CLI load it from policy/", () => {
        const manifest = yaml.load(fs.readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
        expect(manifest.runtime).toBe("nodejs");
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
        // The same versions as the root install, which Node finds by walking up from policy/.
        expect(pkg.dependencies["@pulumi/policy"]).toBe(root.devDependencies["@pulumi/policy"] ?? root.dependencies["@pulumi/policy"]);
        expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
        expect(require.resolve("@pulumi/policy", { paths: [path.join(ROOT, "policy")] })).toContain(path.join(ROOT, "node_modules"));
        expect(PACK_NAME).toMatch(/^[a-zA-Z0-9-_.]{1,100}$/);
        // index.ts only constructs the pack.
        const index = fs.readFileSync(path.join(ROOT, "policy", "index.ts"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("//"));
        expect(index).toEqual([
            'import { PolicyPack } from "@pulumi/policy";',
            'import { PACK_NAME, packArgs } from "./pack";',
            "new PolicyPack(PACK_NAME, packArgs);",
        ]);
    });

    test("the pack does not import the program", () => {
        const files = fs.readdirSync(path.join(ROOT, "policy"), { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
        for (const file of files) {
            const text = fs.readFileSync(path.join(ROOT, "policy", file), "utf8");
            expect(text).not.toMatch(/from "\.\.\/(\.\.\/)?(config|index|components|tools)/);
        }
    });
});

describe.each(ENVIRONMENTS)("policy/config/%s.json", (env) => {
    const file = path.join(ROOT, "policy", "config", `${env}.json`);
    const given = loadPolicyConfigFile(file);
    const config = reconcilePolicyConfig(policies, packArgs.enforcementLevel ?? "advisory", given);

    test("names every policy, and nothing else, with a valid level and settings", () => {
        expect(unknownPolicyKeys(policies, given)).toEqual([]);
        expect(Object.keys(given).sort()).toEqual([...names].sort());
    });

    test("its tier is the stack's kubepolaris:tier", () => {
        const stack = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), "utf8")) as { config: Record<string, unknown> };
        expect(config.get("rds-large-tier-reader")!.properties.tier).toBe(stack.config["kubepolaris:tier"]);
    });

    test("levels follow the environment", () => {
        const levels = new Map([...config].map(([name, c]) => [name, c.enforcementLevel]));
        const advisoryEverywhere = ["ingress-no-websocket-services-annotation"];
        for (const name of names) {
            const level = levels.get(name);
            if (advisoryEverywhere.includes(name)) {
                expect(level).toBe("advisory");
            } else if (env === "prod") {
                expect([name, level]).toEqual([name, "mandatory"]);
            } else if (env === "staging") {
                // A hard zone spread is a prod concern: staging only warns.
                const advisoryInStaging = ["rds-deletion-protection", "zone-spread-schedule-anyway"];
                expect([name, level]).toEqual([name, advisoryInStaging.includes(name) ? "advisory" : "mandatory"]);
            } else {
                expect([name, level]).toEqual([name, name === "rds-deletion-protection" ? "disabled" : "advisory"]);
            }
        }
    });

    if (env === "prod") {
        test("prod requires 3 replicas", () => {
            expect(config.get("workload-min-replicas")!.properties.minReplicas).toBe(3);
            expect(config.get("hpa-bounds")!.properties.minReplicas).toBe(3);
        });
    }
});
