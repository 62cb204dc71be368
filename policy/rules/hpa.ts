// HorizontalPodAutoscalers: they own the replica count of the HA workloads, so they must point at a
// real workload, keep at least two pods, stay above the PDB floor, measure utilization only
// against requests that exist, and not be fought by a fixed spec.replicas on every `pulumi up`.
import { HA_MIN_REPLICAS, REPLICA_FLOORS } from "../facts";
import { tryRead, has, Props, resourcePolicy, schema, stackPolicy, unknownMessage } from "./common";
import { containersOf, disruptionBudget, HPA_TYPES, PDB_TYPES, REPLICATED_WORKLOADS } from "./k8s";
import { HpaRef, displayName, StackModel } from "./model";

function hpaName(h: HpaRef): string {
    return h.name ?? h.resource.name;
}

export const hpaBounds = resourcePolicy({
    name: "hpa-bounds",
    description: `An HPA keeps at least \`minReplicas\` pods (${HA_MIN_REPLICAS}; ${REPLICA_FLOORS.prod} in prod; minReplicas defaults to 1 when unset) and `
        + `its maxReplicas is at least its minReplicas. Fix: set spec.minReplicas ≥ ${HA_MIN_REPLICAS} and spec.maxReplicas ≥ minReplicas.`,
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            minReplicas: schema.integer("Lowest minReplicas accepted.", HA_MIN_REPLICAS, 1),
        },
    },
    types: HPA_TYPES,
    validate(props, args, report) {
        const { minReplicas } = args.getConfig<{ minReplicas: number }>();
        const spec: Props = props.spec ?? {};
        const min = has(spec, "minReplicas") ? spec.minReplicas : 1;
        if (typeof min !== "number" || min < minReplicas) {
            report(`minReplicas is ${has(spec, "minReplicas") ? min : "unset (defaults to 1)"}; at least ${minReplicas} are required `
                + "so one pod can fail or be evicted while another serves.");
        }
        if (typeof spec.maxReplicas !== "number") {
            report("maxReplicas is not set.");
        } else if (typeof min === "number" && spec.maxReplicas < min) {
            report(`maxReplicas ${spec.maxReplicas} is below minReplicas ${min}.`);
        }
    },
});

export const hpaTargetExists = stackPolicy({
    name: "hpa-target-exists",
    description: "Every HPA's scaleTargetRef names a Deployment or StatefulSet of this stack in the HPA's namespace "
        + "(same kind, name and API group), and no workload is scaled by two HPAs (they would fight). Fix: point "
        + "scaleTargetRef at the workload's metadata.name (pass the Deployment's output, not a hand-written string).",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...HPA_TYPES]);
        const claimed = new Map<string, HpaRef>();
        for (const h of model.hpas) {
            const { kind, name, apiVersion } = h.target;
            if (!kind || !name) {
                report(`HPA ${hpaName(h)} has no scaleTargetRef kind and name.`, h.resource.urn);
                continue;
            }
            const target = model.targetOf(h);
            if (!target) {
                report(`HPA ${hpaName(h)} scales ${kind} ${name}${apiVersion ? ` (${apiVersion})` : ""} in namespace ${h.namespace}, `
                    + "which this stack does not define there: it scales nothing.", h.resource.urn);
                continue;
            }
            const first = claimed.get(target.resource.urn);
            if (first) {
                report(`HPA ${hpaName(h)} and HPA ${hpaName(first)} both scale ${target.kind} ${target.name}: they overwrite each `
                    + "other's replica count. Keep one.", h.resource.urn);
            } else {
                claimed.set(target.resource.urn, h);
            }
        }
    },
});

export const hpaMinAbovePdbFloor = stackPolicy({
    name: "hpa-min-above-pdb-floor",
    description: "An HPA's minReplicas is greater than the minAvailable of the PDB over its workload (minAvailable "
        + "resolved at minReplicas, percentages rounded up; a maxUnavailable PDB leaves minReplicas − maxUnavailable). "
        + "At minReplicas = minAvailable the HPA may scale to a size at which no pod can be evicted. Fix: raise "
        + "minReplicas or lower the PDB's minAvailable.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...PDB_TYPES, ...HPA_TYPES]);
        for (const h of model.hpas) {
            const target = model.targetOf(h);
            if (!target) {
                continue; // hpa-target-exists
            }
            for (const p of model.pdbsFor(target)) {
                const budget = tryRead(() => disruptionBudget(p.resource.props.spec ?? {}, h.minReplicas, p.resource.type));
                if (!budget.ok) {
                    report(unknownMessage(budget.unknown, displayName(p.resource)), h.resource.urn);
                } else if (!("problem" in budget.value) && h.minReplicas <= budget.value.desiredHealthy) {
                    report(`HPA ${hpaName(h)} minReplicas ${h.minReplicas} is not above PodDisruptionBudget ${p.name ?? p.resource.name}'s `
                        + `floor of ${budget.value.desiredHealthy} (${budget.value.summary}).`, h.resource.urn);
                }
            }
        }
    },
});

/** The resources an HPA computes utilization for, and which container each concerns (all when undefined). */
function utilizationTargets(props: Props, type: string): { resource: string; container?: string }[] {
    const spec: Props = props.spec ?? {};
    if (type === "kubernetes:autoscaling/v1:HorizontalPodAutoscaler") {
        // autoscaling/v1 always scales on CPU utilization (80 % when unset).
        return [{ resource: "cpu" }];
    }
    const metrics: Props[] = Array.isArray(spec.metrics) ? spec.metrics : [];
    if (metrics.length === 0) {
        return [{ resource: "cpu" }]; // the controller's default: 80 % average CPU utilization
    }
    const targets: { resource: string; container?: string }[] = [];
    for (const m of metrics) {
        if (m?.type === "Resource" && m.resource?.target?.type === "Utilization") {
            targets.push({ resource: m.resource.name });
        } else if (m?.type === "ContainerResource" && m.containerResource?.target?.type === "Utilization") {
            targets.push({ resource: m.containerResource.name, container: m.containerResource.container });
        }
    }
    return targets;
}

export const hpaUtilizationRequests = stackPolicy({
    name: "hpa-utilization-requests",
    description: "An HPA that scales on resource utilization (a percentage of requests; also the default when it "
        + "lists no metrics: CPU) targets a workload whose containers all request that resource (ContainerResource: "
        + "the named container). Without the request the HPA reports FailedGetResourceMetric and never scales. "
        + "Fix: set resources.requests for that resource on every container, or use an AverageValue target.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...HPA_TYPES]);
        for (const h of model.hpas) {
            const target = model.targetOf(h);
            if (!target) {
                continue; // hpa-target-exists
            }
            const checked = tryRead(() => {
                const problems: string[] = [];
                const containers = containersOf(target.podSpec, { init: false });
                for (const t of utilizationTargets(h.resource.props, h.resource.type)) {
                    const concerned = t.container === undefined ? containers : containers.filter((c) => c.container.name === t.container);
                    if (t.container !== undefined && concerned.length === 0) {
                        problems.push(`its ${t.resource} ContainerResource metric names container "${t.container}", which the pods do not have`);
                    }
                    const lacking = concerned.filter((c) => {
                        const request = c.container.resources?.requests?.[t.resource];
                        return request === undefined || request === null || request === "";
                    });
                    if (lacking.length > 0) {
                        problems.push(`it scales on ${t.resource} utilization but ${lacking.map((c) => c.where).join(", ")} `
                            + `of ${target.kind} ${target.name} request${lacking.length === 1 ? "s" : ""} no ${t.resource}`);
                    }
                }
                return problems;
            });
            if (!checked.ok) {
                report(unknownMessage(checked.unknown, `HPA ${hpaName(h)} → ${displayName(target.resource)}`), h.resource.urn);
            } else {
                for (const problem of checked.value) {
                    report(`HPA ${hpaName(h)}: ${problem}.`, h.resource.urn);
                }
            }
        }
    },
});

/** Is `path` (e.g. "spec.replicas") covered by an ignoreChanges entry? */
function ignored(ignoreChanges: string[], path: string): boolean {
    const normalize = (p: string) => p.replace(/\["([^"]+)"\]/g, ".$1").replace(/^\./, "");
    return ignoreChanges.map(normalize).some((p) => p === "*" || path === p || path.startsWith(`${p}.`));
}

/**
 * Does the program set spec.replicas? From inputs (and a create's preview) the field's presence
 * says so. A live object's outputs always carry spec.replicas; there the field's owner in
 * metadata.managedFields (a "pulumi…" manager) tells. Without managedFields: undefined, unknowable.
 */
export function programSetsReplicas(props: Props): boolean | undefined {
    const live = has(props, "status") || has(props.metadata, "uid");
    if (!live) {
        return has(props.spec, "replicas");
    }
    const managed = props.metadata?.managedFields;
    if (!Array.isArray(managed)) {
        return undefined;
    }
    return managed.some((m: Props) => typeof m?.manager === "string" && m.manager.startsWith("pulumi")
        && has(m.fieldsV1?.["f:spec"], "f:replicas"));
}

export const hpaOwnsReplicas = stackPolicy({
    name: "hpa-owns-replicas",
    description: "A workload scaled by an HPA either leaves spec.replicas unset or lists it in ignoreChanges. Otherwise "
        + "every `pulumi up` writes the fixed count back and undoes the autoscaler's scale-out (under load, exactly "
        + "when it hurts). Fix: add `ignoreChanges: [\"spec.replicas\"]` to the Deployment/StatefulSet, or drop spec.replicas. "
        + "(On an existing object the policy reads who owns spec.replicas from metadata.managedFields.)",
    enforcementLevel: "mandatory",
    severity: "medium",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...HPA_TYPES]);
        for (const w of model.workloads) {
            const hpa = model.hpasFor(w)[0];
            const sets = hpa ? tryRead(() => programSetsReplicas(w.resource.props)) : undefined;
            if (!hpa || !sets) {
                continue;
            }
            if (!sets.ok) {
                report(unknownMessage(sets.unknown, displayName(w.resource)), w.resource.urn);
                continue;
            }
            if (!sets.value) {
                continue; // unset, or a live object whose field owners are not in its outputs
            }
            if (!ignored(w.resource.opts.ignoreChanges ?? [], "spec.replicas")) {
                report(`${w.kind} ${w.name ?? w.resource.name} sets spec.replicas and is scaled by HPA ${hpaName(hpa)}, but spec.replicas `
                    + "is not in ignoreChanges: each `pulumi up` resets the replica count behind the autoscaler's back.", w.resource.urn);
            }
        }
    },
});

export const hpaPolicies = [hpaBounds, hpaTargetExists, hpaMinAbovePdbFloor, hpaUtilizationRequests, hpaOwnsReplicas];
