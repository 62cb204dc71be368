// Evaluates policies on hand-built resources through the offline runner's engine (the same
// argument shapes, proxies, config reconciliation and levels as policy:check), so a unit test
// sees exactly what the pack sees under `pulumi preview`.
import type { Policy } from "@pulumi/policy";
import { packArgs } from "../../policy/pack";
import { TYPES } from "../support/types";
import { RecordedResource } from "../../tools/mockRun";
import { PolicyConfigEntry, reconcilePolicyConfig } from "../../tools/policyRunner/config";
import { evaluatePolicies, Evaluation, Violation } from "../../tools/policyRunner/engine";
import { Obj, Spec } from "../fixtures/_lib/spec";

import { UNKNOWN } from "../../tools/mockRun";
import { defaultSpec } from "../fixtures/_lib/spec";

export { UNKNOWN };

export const STACK_URN = "urn:pulumi:test::policy-test::pulumi:pulumi:Stack::policy-test-test";

export interface FakeResource {
    type: string;
    name: string;
    inputs: Obj;
    ignoreChanges?: string[];
    parent?: string;
    custom?: boolean;
    /** "<provider urn>::<id>" of an explicit provider. */
    provider?: string;
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::policy-test::${type}::${name}`;
}

function record(r: FakeResource): RecordedResource {
    return {
        urn: urnOf(r.type, r.name),
        type: r.type,
        name: r.name,
        custom: r.custom ?? true,
        inputs: JSON.parse(JSON.stringify(r.inputs)),
        secretInputs: [],
        parent: r.parent ?? STACK_URN,
        provider: r.provider,
        dependencies: [],
        propertyDependencies: {},
        protect: false,
        ignoreChanges: r.ignoreChanges ?? [],
        deleteBeforeReplace: false,
        retainOnDelete: false,
        additionalSecretOutputs: [],
        aliases: [],
    };
}

/** Runs `policies` (default: the whole pack) over `resources`, with an optional policy config. */
export async function evaluate(resources: FakeResource[], options: { policies?: Policy[]; config?: Record<string, PolicyConfigEntry> } = {}): Promise<Evaluation> {
    const policies = options.policies ?? packArgs.policies;
    const root: RecordedResource = { ...record({ type: "pulumi:pulumi:Stack", name: "policy-test-test", inputs: {}, custom: false }), urn: STACK_URN, parent: undefined };
    return evaluatePolicies({
        packName: "kubepolaris-ha",
        packVersion: "0.0.0-test",
        packArgs: { ...packArgs, policies },
        config: reconcilePolicyConfig(policies, packArgs.enforcementLevel ?? "advisory", options.config ?? {}),
        resources: [root, ...resources.map(record)],
        stackUrn: STACK_URN,
    });
}

/** Violations of one policy, as "<resource name>: <message>" (stack-level: "stack: …"). */
export async function violationsOf(policy: Policy, resources: FakeResource[], config?: PolicyConfigEntry): Promise<string[]> {
    const result = await evaluate(resources, { policies: [policy], config: config ? { [policy.name]: config } : {} });
    return result.violations.map(describeViolation);
}

export function describeViolation(v: Violation): string {
    const name = v.urn === STACK_URN ? "stack" : v.urn.slice(v.urn.lastIndexOf("::") + 2);
    return `${name}: ${v.message}`;
}

export { TYPES };

/** The fixture spec as the resources baseline.ts registers (same types and names). */
export function specResources(spec: Spec): FakeResource[] {
    const registry = "pulumi:providers:aws";
    const out: FakeResource[] = [
        // As the engine passes provider inputs: lists JSON-encoded.
        { type: registry, name: "registry", inputs: { region: spec.registry.region, allowedAccountIds: JSON.stringify([spec.registry.account]) } },
        ...spec.registry.repositories.map((name) => ({
            type: "aws:ecr/repository:Repository", name: `repo-${name.replace(/\//g, "-")}`, provider: `${urnOf(registry, "registry")}::id`,
            inputs: { name, imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } },
        })),
        { type: TYPES.namespace, name: "namespace", inputs: { apiVersion: "v1", kind: "Namespace", ...spec.namespace } },
    ];
    if (spec.quota) {
        out.push({ type: TYPES.resourceQuota, name: "quota", inputs: spec.quota });
    }
    spec.networkPolicies.forEach((np, i) => out.push({ type: TYPES.networkPolicy, name: `netpol-${i}`, inputs: np }));
    for (const [name, t] of Object.entries(spec.tiers)) {
        out.push({ type: TYPES.deployment, name: `${name}-deployment`, inputs: t.deployment, ignoreChanges: t.deploymentOptions.ignoreChanges });
        t.pdbs.forEach((pdb, i) => out.push({ type: TYPES.pdb, name: `${name}-pdb${i === 0 ? "" : `-${i}`}`, inputs: pdb }));
        if (t.hpa) {
            out.push({ type: TYPES.hpa, name: `${name}-hpa`, inputs: t.hpa });
        }
        out.push({ type: TYPES.service, name: `${name}-service`, inputs: t.service });
    }
    out.push({ type: TYPES.ingress, name: "ingress", inputs: spec.ingress });
    if (spec.gateway) {
        out.push({ type: TYPES.gateway, name: "gateway", inputs: { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", ...spec.gateway } });
    }
    spec.httpRoutes.forEach((route, i) =>
        out.push({ type: TYPES.httpRoute, name: `httproute-${i}`, inputs: { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", ...route } }));
    out.push({ type: TYPES.service, name: "nlb", inputs: spec.loadBalancer });
    // As baseline.ts: the monitoring role's ARN where Enhanced Monitoring is on (unknown in a real
    // preview; presence is what the policy checks).
    const withRole = (args: Obj) => (args.monitoringInterval > 0 ? { monitoringRoleArn: UNKNOWN, ...args } : args);
    out.push({ type: TYPES.rds, name: "db-primary", inputs: withRole(spec.database.primary) });
    spec.database.replicas.forEach((r, i) => out.push({ type: TYPES.rds, name: `db-replica-${i + 1}`, inputs: withRole(r) }));
    if (spec.alerts) {
        out.push({ type: TYPES.prometheusRule, name: "alerts", inputs: { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", ...spec.alerts } });
    }
    return out;
}

/** Just the named resources of a spec (for resource-policy tests). */
export function only(spec: Spec, ...names: string[]): FakeResource[] {
    return specResources(spec).filter((r) => names.includes(r.name));
}

export interface PolicyCase {
    /** What is broken (or, for a passing variant, what is allowed). */
    title: string;
    mutate(spec: Spec): void;
    /** Expected violations in order, each matched against "<resource name>: <message>". Empty: passes. */
    expected: (string | RegExp)[];
    config?: PolicyConfigEntry;
}

/**
 * The awsguard pattern: the baseline passes `policy`; each case changes one thing and must yield
 * exactly the expected violations (no more, no fewer).
 */
export function policyCases(policy: Policy, cases: PolicyCase[]): void {
    describe(policy.name, () => {
        test("the baseline passes", async () => {
            expect(await violationsOf(policy, specResources(defaultSpec()))).toEqual([]);
        });
        test.each(cases.map((c) => [c.title, c] as const))("%s", async (_title, c) => {
            const spec = defaultSpec();
            c.mutate(spec);
            const got = await violationsOf(policy, specResources(spec), c.config);
            expect(got).toEqual(c.expected.map((e) => (typeof e === "string" ? expect.stringContaining(e) : expect.stringMatching(e))));
        });
    });
}
