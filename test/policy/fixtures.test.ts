// Deliberately broken programs (test/fixtures/<name>/): each is the compliant baseline with one
// defect, run through the offline runner exactly as `npm run policy:check -- --stack ci
// --program test/fixtures/<name>/index.ts --policy-config policy/config/prod.json` runs it. Each
// must be rejected with exactly the expected policies (a defect may legitimately trip several:
// the list is the complete, reviewed set), and the untouched baseline must pass.
import * as path from "path";
import { policyCheck, PolicyCheckResult } from "../../tools/policyRunner/check";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");
const PROD = path.resolve(__dirname, "..", "..", "policy", "config", "prod.json");

const check = (fixture: string, preview = true): Promise<PolicyCheckResult> =>
    policyCheck({ stack: "ci", program: path.join(FIXTURES, fixture, "index.ts"), policyConfig: PROD, preview });

const policiesOf = (r: PolicyCheckResult) => [...new Set(r.violations.map((v) => v.policy))].sort();

const cases: [fixture: string, expected: string[]][] = [
    ["pdb-min-available-equals-replicas", ["hpa-min-above-pdb-floor", "pdb-allows-eviction"]],
    ["pdb-selector-label-missing", ["pdb-coverage"]],
    ["pdb-two-on-one-workload", ["pdb-coverage"]],
    ["pdb-other-namespace", ["pdb-coverage"]],
    ["pdb-match-expressions-notin", ["pdb-coverage"]],
    ["pdb-unknown-in-preview", ["hpa-min-above-pdb-floor", "pdb-allows-eviction", "rollout-respects-pdb"]],
    // minReplicas 1 also leaves the PDB (minAvailable 66%: 1 of 1) keeping every pod that runs at night.
    ["hpa-min-one", ["hpa-bounds", "hpa-min-above-pdb-floor", "pdb-allows-eviction", "workload-min-replicas"]],
    ["hpa-target-missing", ["hpa-target-exists"]],
    ["hpa-memory-without-request", ["hpa-utilization-requests", "workload-resources"]],
    ["hpa-fights-replicas", ["hpa-owns-replicas"]],
    // Identical checks are also the same endpoint.
    ["probes-identical", ["probe-endpoints", "workload-probes"]],
    // The quota limits limits.cpu/memory: the API server refuses a pod without limits there.
    ["container-without-limits", ["quota-fits-scale-out", "workload-resources"]],
    ["no-zone-spread", ["workload-zone-spread"]],
    ["no-anti-affinity", ["workload-hostname-anti-affinity"]],
    // :latest from the upstream registry: floating, and not the stack's own registry either.
    ["image-latest", ["image-from-stack-registry", "workload-immutable-image"]],
    ["image-from-upstream-registry", ["image-from-stack-registry"]],
    // A version tag passes workload-immutable-image; the stack's own registry still wants the digest.
    ["image-mirror-by-tag", ["image-from-stack-registry"]],
    ["privileged-container", ["workload-security-context"]],
    ["rollout-recreate", ["rollout-respects-pdb"]],
    ["rds-multi-az-false", ["rds-multi-az"]],
    ["rds-retention-zero", ["rds-backup-retention"]],
    ["ingress-without-tls", ["ingress-tls"]],
    ["nlb-without-cross-zone", ["service-nlb-cross-zone"]],
    ["no-prometheus-rule", ["prometheus-alerts"]],
    ["alerts-incomplete", ["prometheus-alerts"]],
    ["namespace-without-baseline", ["namespace-default-deny", "namespace-pod-security", "namespace-resource-quota"]],
    ["service-selector-mismatch", ["service-routes-to-pods"]],
    ["ingress-backend-missing", ["ingress-backends-exist"]],
    ["httproute-parent-missing", ["httproute-parents-exist"]],
    ["httproute-backend-port-missing", ["httproute-backends-exist"]],
    ["gateway-http-only", ["gateway-listener-tls"]],
    ["httproute-websocket-timeout", ["httproute-websocket-timeouts"]],
    ["probe-undeclared-port", ["probe-endpoints"]],
    ["prestop-exceeds-grace", ["termination-grace-covers-prestop"]],
    ["pinned-to-one-zone", ["placement-not-pinned"]],
    ["zone-spread-do-not-schedule", ["zone-spread-schedule-anyway"]],
    ["quota-too-small", ["quota-fits-scale-out"]],
    ["quota-unknown-in-preview", ["quota-fits-scale-out"]],
    ["netpol-blocks-ingress-controller", ["network-policy-reachability"]],
    ["netpol-blocks-gateway-controller", ["network-policy-reachability"]],
    ["literal-db-password", ["env-no-literal-credentials"]],
    ["promql-invalid", ["prometheus-rules-valid"]],
];

test("the baseline fixture passes every policy", async () => {
    const result = await check("good");
    expect(result.violations).toEqual([]);
    expect(result.resourceCount).toBeGreaterThan(15);
    expect(result.notes).toEqual([expect.stringContaining("Pulumi.ci.yaml does not exist: running stack \"ci\" with no stack config")]);
});

test.each(cases)("%s is rejected by %p", async (fixture, expected) => {
    const result = await check(fixture);
    expect(policiesOf(result)).toEqual(expected);
    expect(result.mandatory).toBeGreaterThan(0); // policy:check exits 1
    for (const v of result.violations) {
        expect(v.urn).toMatch(new RegExp(`^urn:pulumi:ci::fixture-${fixture}::`));
    }
});

test("a stack on the retired ingress-nginx class gets a warning naming the retirement, not a refusal", async () => {
    const result = await check("ingress-retired-nginx");
    expect(result.violations.map((v) => [v.policy, v.level])).toEqual([["ingress-retired-controller", "advisory"]]);
    expect(result.violations[0].message).toContain("March 2026");
    expect(result.mandatory).toBe(0);
});

test("a fixture's stack config is read from its Pulumi.ci.yaml", async () => {
    const result = await check("hpa-min-one");
    expect(result.notes).toEqual([]);
    expect(result.violations.find((v) => v.policy === "hpa-bounds")?.message).toContain("minReplicas is 1;");
});

test("the websocket-services annotation is reported as advisory and does not fail the check", async () => {
    const result = await check("ingress-websocket-services");
    expect(result.violations.map((v) => [v.policy, v.level])).toEqual([["ingress-no-websocket-services-annotation", "advisory"]]);
    expect(result.mandatory).toBe(0); // policy:check exits 0
});

test("a value unknown during preview is reported as a mandatory violation, and known at `up` it passes", async () => {
    const preview = await check("pdb-unknown-in-preview");
    expect(preview.violations.length).toBeGreaterThan(0);
    expect(preview.violations.every((v) => v.level === "mandatory" && v.message.includes("spec.minAvailable is unknown during preview; cannot verify"))).toBe(true);
    // Under `up` the mock provider answers (the random floor is 2 of the api tier's 3 pods) and it passes.
    const up = await check("pdb-unknown-in-preview", false);
    expect(up.violations).toEqual([]);
});

test("a quota unknown during preview is a mandatory \"cannot verify\", and known at `up` it passes", async () => {
    const preview = await check("quota-unknown-in-preview");
    expect(preview.violations.map((v) => [v.policy, v.level])).toEqual([["quota-fits-scale-out", "mandatory"]]);
    expect(preview.violations[0].message).toContain("spec.hard.pods is unknown during preview; cannot verify");
    expect((await check("quota-unknown-in-preview", false)).violations).toEqual([]);
});

test("violations point at the resource to fix", async () => {
    const result = await check("pdb-selector-label-missing");
    expect(result.violations.map((v) => v.urn.split("::").pop())).toEqual(["api-deployment", "api-pdb"]);
});
