// Capacity: a ResourceQuota is checked at pod creation. If it has no room for every workload at its
// autoscaler's maximum plus the pods a rollout surges, the HPA's scale-up and the next rollout stall
// (pods refused with "exceeded quota") exactly under load. Container values that are unset take the
// namespace's LimitRange defaults, as the API server fills them in.
import type { PolicyResource } from "@pulumi/policy";
import { tryRead, Props, stackPolicy, unknownMessage } from "./common";
import { containersOf, HPA_TYPES, POD_WORKLOADS, scaleIntOrPercent, TYPES } from "./k8s";
import { displayName, StackModel, WorkloadRef } from "./model";
import { inNamespace } from "./namespace";
import { formatQuantity, parseQuantity } from "../facts";

const RESOURCES = ["cpu", "memory"] as const;
type Usage = Record<string, number>; // "pods", "requests.cpu", "limits.memory", ...

interface LimitDefaults {
    default: Props;
    defaultRequest: Props;
}

/** The Container defaults of a namespace's LimitRanges (a LimitRange's defaultRequest defaults to its default). */
function limitDefaults(ranges: PolicyResource[]): LimitDefaults {
    const out: LimitDefaults = { default: {}, defaultRequest: {} };
    for (const r of ranges) {
        const limits: Props[] = Array.isArray(r.props.spec?.limits) ? r.props.spec.limits : [];
        for (const item of limits.filter((l) => l?.type === "Container")) {
            Object.assign(out.default, item.default ?? {});
            Object.assign(out.defaultRequest, item.default ?? {}, item.defaultRequest ?? {});
        }
    }
    return out;
}

/** One container's effective requests and limits: its own, else request = its limit, else the LimitRange default. */
interface Missing {
    /** "requests.cpu" */
    key: string;
    text: string;
}

function containerUsage(container: Props, defaults: LimitDefaults, missing: Missing[], where: string): Usage {
    const usage: Usage = {};
    for (const r of RESOURCES) {
        const limit = container.resources?.limits?.[r] ?? defaults.default[r];
        const request = container.resources?.requests?.[r] ?? container.resources?.limits?.[r] ?? defaults.defaultRequest[r];
        for (const [kind, value] of [["limits", limit], ["requests", request]] as const) {
            const parsed = parseQuantity(value);
            if (parsed === undefined) {
                missing.push({ key: `${kind}.${r}`, text: `${where} has no ${kind}.${r}${value === undefined ? "" : ` it can use (${JSON.stringify(value)})`}` });
            } else {
                usage[`${kind}.${r}`] = parsed;
            }
        }
    }
    return usage;
}

/** A pod's usage: its containers summed, or its largest init container where that is more. */
function podUsage(podSpec: Props, defaults: LimitDefaults, missing: Missing[]): Usage {
    const sum: Usage = {};
    const initMax: Usage = {};
    for (const { where, init, container } of containersOf(podSpec)) {
        const usage = containerUsage(container, defaults, missing, where);
        for (const [key, value] of Object.entries(usage)) {
            if (init) {
                initMax[key] = Math.max(initMax[key] ?? 0, value);
            } else {
                sum[key] = (sum[key] ?? 0) + value;
            }
        }
    }
    const keys = new Set([...Object.keys(sum), ...Object.keys(initMax)]);
    return Object.fromEntries([...keys].map((k) => [k, Math.max(sum[k] ?? 0, initMax[k] ?? 0)]));
}

/** Most pods a workload runs at once: HPA max (else replicas) plus a Deployment's rollout surge. */
function peakPods(model: StackModel, w: WorkloadRef): { pods: number; how: string } | { unknown: string } | undefined {
    const spec: Props = w.resource.props.spec ?? {};
    switch (w.resource.type) {
        case TYPES.pod:
            return { pods: 1, how: "1 pod" };
        case TYPES.job:
            return { pods: spec.parallelism ?? 1, how: `parallelism ${spec.parallelism ?? 1}` };
        case TYPES.cronJob: {
            const parallelism = spec.jobTemplate?.spec?.parallelism ?? 1;
            return { pods: parallelism, how: `parallelism ${parallelism}` };
        }
        case TYPES.daemonSet:
            return undefined; // one pod per node: the node count is not in the program
    }
    const floor = model.replicaFloor(w);
    if (!floor.ok) {
        return { unknown: floor.unknown };
    }
    const max = floor.value.max;
    let surge = 0;
    if (w.resource.type === TYPES.deployment && (spec.strategy?.type ?? "RollingUpdate") === "RollingUpdate") {
        const scaled = scaleIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge ?? "25%", max, true);
        surge = scaled.ok ? scaled.value : 0;
    }
    const source = floor.value.hpa ? `HPA ${floor.value.hpa.resource.name} maxReplicas ${max}` : `replicas ${max}`;
    return { pods: max + surge, how: `${source}${surge > 0 ? ` + ${surge} surge` : ""}` };
}

const QUOTA_KEYS: Record<string, string> = {
    pods: "pods", cpu: "requests.cpu", memory: "requests.memory", "requests.cpu": "requests.cpu",
    "requests.memory": "requests.memory", "limits.cpu": "limits.cpu", "limits.memory": "limits.memory",
};

export const quotaFitsScaleOut = stackPolicy({
    name: "quota-fits-scale-out",
    description: "Each namespace's ResourceQuota (without scopes) has room for every workload at its peak: the HPA's "
        + "maxReplicas (else spec.replicas) plus the Deployment's rollout maxSurge (25 % when unset), a Job's "
        + "parallelism, for pods, requests.cpu/memory (or cpu/memory) and limits.cpu/memory. A container that sets no "
        + "value takes the namespace's LimitRange default (a request defaults to its own limit first); one with neither "
        + "is refused by a quota on that resource. DaemonSets are not counted (one pod per node). Fix: raise the "
        + "quota's spec.hard to the sum of every workload's peak, or lower the HPA maxima.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources, POD_WORKLOADS);
        model.reportUnknown(report, [...POD_WORKLOADS, ...HPA_TYPES]);
        const ranges = inNamespace(resources, TYPES.limitRange, report);
        for (const [ns, quotas] of inNamespace(resources, TYPES.resourceQuota, report)) {
            const need = tryRead(() => {
                const defaults = limitDefaults(ranges.get(ns) ?? []);
                const total: Usage = {};
                const parts: string[] = [];
                const missing: Missing[] = [];
                const unknown: string[] = [];
                for (const w of model.workloads.filter((x) => x.namespace === ns)) {
                    const peak = peakPods(model, w);
                    if (!peak) {
                        continue;
                    }
                    if ("unknown" in peak) {
                        unknown.push(unknownMessage(peak.unknown, displayName(w.resource)));
                        continue;
                    }
                    const own: Missing[] = [];
                    const usage = { ...podUsage(w.podSpec, defaults, own), pods: 1 };
                    missing.push(...own.map((m) => ({ key: m.key, text: `${w.kind} ${w.name ?? w.resource.name} ${m.text}` })));
                    for (const [key, value] of Object.entries(usage)) {
                        total[key] = (total[key] ?? 0) + peak.pods * value;
                    }
                    parts.push(`${w.kind} ${w.name ?? w.resource.name}: ${peak.pods} pods (${peak.how})`);
                }
                return { total, parts, missing, unknown };
            });
            for (const q of quotas) {
                const checked = tryRead(() => {
                    const spec: Props = q.props.spec ?? {};
                    if (spec.scopes?.length > 0 || spec.scopeSelector) {
                        return [];
                    }
                    if (!need.ok) {
                        return [unknownMessage(need.unknown, `the workloads of namespace ${ns}`)];
                    }
                    if (need.value.unknown.length > 0) {
                        return need.value.unknown;
                    }
                    const problems: string[] = [];
                    for (const [hardKey, hardValue] of Object.entries<unknown>(spec.hard ?? {})) {
                        const key = QUOTA_KEYS[hardKey];
                        const hard = parseQuantity(hardValue);
                        if (!key || hard === undefined) {
                            continue;
                        }
                        const lacking = need.value.missing.filter((m) => m.key === key);
                        if (lacking.length > 0) {
                            problems.push(`quotas ${hardKey}, but ${lacking.map((m) => m.text).join("; ")} and no LimitRange default: such pods are refused`);
                        }
                        const needed = need.value.total[key] ?? 0;
                        if (needed > hard + 1e-9) {
                            problems.push(`${hardKey} ${hardValue} is less than the ${formatQuantity(key, needed)} the workloads need at their peak`);
                        }
                    }
                    return problems;
                });
                const problems = checked.ok ? checked.value : [unknownMessage(checked.unknown, displayName(q))];
                for (const problem of problems) {
                    report(`ResourceQuota ${q.props.metadata?.name ?? q.name} (namespace ${ns}): ${problem}`
                        + (need.ok && need.value.parts.length > 0 ? ` (${need.value.parts.join("; ")}).` : "."), q.urn);
                }
            }
        }
    },
});

export const capacityPolicies = [quotaFitsScaleOut];
