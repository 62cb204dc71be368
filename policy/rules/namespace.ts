// The namespace baseline for every namespace that runs workloads: Pod Security "restricted"
// enforced, a ResourceQuota, and a default-deny NetworkPolicy (every flow then allowed
// explicitly). Checked on the stack: the namespace, its quota and its policies are separate
// resources that must agree on the namespace name.
import type { PolicyResource } from "@pulumi/policy";
import { tryRead, Props, stackPolicy, StackReport, unknownMessage } from "./common";
import { nameOf, namespaceOf, POD_WORKLOADS, TYPES } from "./k8s";
import { displayName } from "./model";

export const PSS_ENFORCE = "pod-security.kubernetes.io/enforce";

interface NamespaceUse {
    /** The first workload in the namespace (violations about the namespace point at it if the stack has no Namespace). */
    firstWorkload: PolicyResource;
    workloads: number;
}

/** Namespaces that run workloads, from each pod controller's namespace. Unknown namespaces are reported. */
function workloadNamespaces(resources: PolicyResource[], report: StackReport): Map<string, NamespaceUse> {
    const used = new Map<string, NamespaceUse>();
    for (const r of resources.filter((x) => POD_WORKLOADS.includes(x.type))) {
        const ns = tryRead(() => namespaceOf(r.props, r.provider));
        if (!ns.ok) {
            report(unknownMessage(ns.unknown, displayName(r)), r.urn);
            continue;
        }
        const entry = used.get(ns.value);
        if (entry) {
            entry.workloads++;
        } else {
            used.set(ns.value, { firstWorkload: r, workloads: 1 });
        }
    }
    return used;
}

/** Resources of `type` in namespace `ns` (namespaced objects), unknown namespaces reported. */
export function inNamespace(resources: PolicyResource[], type: string, report: StackReport): Map<string, PolicyResource[]> {
    const byNamespace = new Map<string, PolicyResource[]>();
    for (const r of resources.filter((x) => x.type === type)) {
        const ns = tryRead(() => namespaceOf(r.props, r.provider));
        if (!ns.ok) {
            report(unknownMessage(ns.unknown, displayName(r)), r.urn);
            continue;
        }
        byNamespace.set(ns.value, [...(byNamespace.get(ns.value) ?? []), r]);
    }
    return byNamespace;
}

export const namespacePodSecurity = stackPolicy({
    name: "namespace-pod-security",
    description: "Every namespace that runs workloads is a Namespace of this stack labelled "
        + `${PSS_ENFORCE}: restricted, so the API server itself rejects privileged or root pods. Fix: create the `
        + "namespace in the program with that label (plus audit/warn = restricted).",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const used = workloadNamespaces(resources, report);
        const namespaces = new Map<string, PolicyResource>();
        for (const r of resources.filter((x) => x.type === TYPES.namespace)) {
            const name = tryRead(() => nameOf(r.props));
            if (!name.ok) {
                report(unknownMessage(name.unknown, displayName(r)), r.urn);
            } else if (name.value !== undefined) {
                namespaces.set(name.value, r);
            }
        }
        for (const [ns, use] of used) {
            const namespace = namespaces.get(ns);
            if (!namespace) {
                report(`namespace ${ns} runs ${use.workloads} workload(s) but is not a Namespace of this stack, so its Pod Security `
                    + "labels cannot be verified. Create it in the program with the restricted labels.", use.firstWorkload.urn);
                continue;
            }
            const enforce = tryRead(() => (namespace.props.metadata?.labels ?? {})[PSS_ENFORCE]);
            if (!enforce.ok) {
                report(unknownMessage(enforce.unknown, displayName(namespace)), namespace.urn);
            } else if (enforce.value !== "restricted") {
                report(`Namespace ${ns} has ${PSS_ENFORCE}=${enforce.value ?? "<unset>"}; it must be "restricted".`, namespace.urn);
            }
        }
    },
});

/**
 * In every namespace that runs workloads, one object of `type` must pass `check`; else `missing`
 * is reported on the namespace's first workload. An object whose value is unknown is reported as
 * such, and counts as passing (the namespace is not also called missing).
 */
function requireInEachNamespace(resources: PolicyResource[], report: StackReport, type: string,
    check: (props: Props) => boolean, missing: (ns: string, workloads: number) => string): void {
    const used = workloadNamespaces(resources, report);
    const objects = inNamespace(resources, type, report);
    for (const [ns, use] of used) {
        const passing = (objects.get(ns) ?? []).filter((o) => {
            const verdict = tryRead(() => check(o.props));
            if (!verdict.ok) {
                report(unknownMessage(verdict.unknown, displayName(o)), o.urn);
                return true;
            }
            return verdict.value;
        });
        if (passing.length === 0) {
            report(missing(ns, use.workloads), use.firstWorkload.urn);
        }
    }
}

export const namespaceResourceQuota = stackPolicy({
    name: "namespace-resource-quota",
    description: "Every namespace that runs workloads has a ResourceQuota with hard limits, so a runaway rollout or "
        + "autoscaler cannot starve the cluster (and every pod must then declare its resources). Fix: add a "
        + "ResourceQuota in the namespace sized for every workload at its HPA maximum plus a rollout surge.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validate(resources, _args, report) {
        requireInEachNamespace(resources, report, TYPES.resourceQuota, (props) => Object.keys(props.spec?.hard ?? {}).length > 0,
            (ns, workloads) => `namespace ${ns} runs ${workloads} workload(s) without a ResourceQuota (with spec.hard).`);
    },
});

/** A NetworkPolicy that selects every pod and denies all ingress and egress. */
export function isDefaultDeny(props: Props): boolean {
    const spec: Props = props.spec ?? {};
    const selector: Props | undefined = spec.podSelector;
    const selectsAll = selector !== undefined && selector !== null
        && Object.keys(selector.matchLabels ?? {}).length === 0
        && (selector.matchExpressions ?? []).length === 0;
    const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
    const noRules = (rules: unknown) => rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0);
    return selectsAll && types.includes("Ingress") && types.includes("Egress") && noRules(spec.ingress) && noRules(spec.egress);
}

export const namespaceDefaultDeny = stackPolicy({
    name: "namespace-default-deny",
    description: "Every namespace that runs workloads has a default-deny NetworkPolicy: podSelector {} (every pod), "
        + "policyTypes [Ingress, Egress], no ingress or egress rules; the flows the workloads need are then allowed "
        + "by narrower policies. Fix: add that policy to the namespace.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        requireInEachNamespace(resources, report, TYPES.networkPolicy, isDefaultDeny,
            (ns, workloads) => `namespace ${ns} runs ${workloads} workload(s) without a default-deny NetworkPolicy (podSelector {}, `
                + "policyTypes Ingress and Egress, no rules): every pod accepts and opens any connection.");
    },
});

export const namespacePolicies = [namespacePodSecurity, namespaceResourceQuota, namespaceDefaultDeny];
