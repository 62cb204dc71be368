// The pack's shape and the per-environment config files users pass to
// `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PACK_NAME, packArgs } from "../../policy/pack";
import { loadPolicyConfigFile, reconcilePolicyConfig, unknownPolicyKeys } from "../../tools/policyRunner/config";
import type { Policy } from "@pulumi/policy";
import { isResourcePolicy, isStackPolicy } from "../../tools/policyRunner/engine";

const ROOT = path.resolve(__dirname, "..", "..");
const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;
const policies = packArgs.policies;
const names = policies.map((p) => p.name);

function isPolicy(value: unknown): value is Policy {
    const p = value as Policy | undefined;
    return typeof p?.name === "string" && (isResourcePolicy(p) || isStackPolicy(p));
}

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

    test("every policy written in policy/rules is in the pack, once (a rule left out protects nothing)", () => {
        const written = new Set<Policy>();
        for (const file of fs.readdirSync(path.join(ROOT, "policy", "rules")).filter((f) => f.endsWith(".ts"))) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            for (const exported of Object.values(require(path.join(ROOT, "policy", "rules", file)) as Record<string, unknown>)) {
                for (const candidate of Array.isArray(exported) ? exported : [exported]) {
                    if (isPolicy(candidate)) {
                        written.add(candidate);
                    }
                }
            }
        }
        expect(written.size).toBeGreaterThan(0);
        expect([...written].filter((p) => !policies.includes(p)).map((p) => p.name)).toEqual([]);
        expect(policies.filter((p) => !written.has(p)).map((p) => p.name)).toEqual([]);
        expect(new Set(policies).size).toBe(policies.length);
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
        // That policy/index.ts serves exactly this pack is proven by running it: packServer.test.ts.
    });

    test("policy/ loads on its own, as `pulumi policy publish` takes it (it imports nothing of the program)", () => {
        // A copy of policy/ with nothing of the program beside it: an import of ../config,
        // ../components or ../tools cannot resolve there. Packages still resolve from node_modules.
        const alone = fs.mkdtempSync(path.join(ROOT, "test", ".policy-alone-"));
        try {
            fs.cpSync(path.join(ROOT, "policy"), path.join(alone, "policy"), {
                recursive: true,
                filter: (src) => path.basename(src) !== "node_modules",
            });
            let copy: typeof import("../../policy/pack") | undefined;
            jest.isolateModules(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                copy = require(path.join(alone, "policy", "pack"));
            });
            expect(copy!.PACK_NAME).toBe(PACK_NAME);
            expect(copy!.packArgs.policies.map((p) => p.name)).toEqual(names);
        } finally {
            fs.rmSync(alone, { recursive: true, force: true });
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

    test("levels follow the environment", () => {
        const levels = new Map([...config].map(([name, c]) => [name, c.enforcementLevel]));
        // A retired controller is a warning unless an operator makes it mandatory for a stack.
        const advisoryEverywhere = ["ingress-no-websocket-services-annotation", "ingress-retired-controller"];
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
                // The local stack serves plain HTTP: it has no certificate.
                const disabled = ["rds-deletion-protection", ...(env === "local" ? ["gateway-listener-tls"] : [])];
                expect([name, level]).toEqual([name, disabled.includes(name) ? "disabled" : "advisory"]);
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
