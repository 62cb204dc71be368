// Rollouts: a Deployment's update strategy must not take the workload below the availability its
// PodDisruptionBudget promises. The PDB only guards evictions; a rollout ignores it, so the
// strategy has to respect the same floor on its own.
import { tryRead, Props, stackPolicy, unknownMessage } from "./common";
import { disruptionBudget, HPA_TYPES, PDB_TYPES, REPLICATED_WORKLOADS, scaleIntOrPercent } from "./k8s";
import { displayName, StackModel, WorkloadRef } from "./model";

interface RolloutShape {
    /** Pods the rollout may have unavailable at once at `replicas`. */
    maxUnavailable?: number;
    summary: string;
    problem?: string;
}

/** How many pods a rollout may take down at once, resolved as the controllers do. */
function rolloutShape(w: WorkloadRef, replicas: number): RolloutShape | undefined {
    const spec: Props = w.resource.props.spec ?? {};
    if (w.kind === "StatefulSet") {
        const strategy: Props = spec.updateStrategy ?? {};
        if ((strategy.type ?? "RollingUpdate") === "OnDelete") {
            return undefined; // pods are replaced only when someone deletes them
        }
        const raw = strategy.rollingUpdate?.maxUnavailable ?? 1;
        const scaled = scaleIntOrPercent(raw, replicas, false);
        if (!scaled.ok) {
            return { summary: "", problem: `updateStrategy.rollingUpdate.maxUnavailable ${scaled.problem}` };
        }
        return { maxUnavailable: Math.max(1, scaled.value), summary: `maxUnavailable ${raw}` };
    }
    const strategy: Props = spec.strategy ?? {};
    const type = strategy.type ?? "RollingUpdate";
    if (type === "Recreate") {
        return {
            summary: "Recreate",
            problem: `uses the Recreate strategy: every rollout stops all ${replicas} pods before starting new ones (an outage per deploy). `
                + "Use RollingUpdate with maxUnavailable 0 and maxSurge 1",
        };
    }
    const rolling: Props = strategy.rollingUpdate ?? {};
    const rawUnavailable = rolling.maxUnavailable ?? "25%";
    const rawSurge = rolling.maxSurge ?? "25%";
    const unavailable = scaleIntOrPercent(rawUnavailable, replicas, false); // rounds down
    const surge = scaleIntOrPercent(rawSurge, replicas, true); // rounds up
    if (!unavailable.ok) {
        return { summary: "", problem: `strategy.rollingUpdate.maxUnavailable ${unavailable.problem}` };
    }
    if (!surge.ok) {
        return { summary: "", problem: `strategy.rollingUpdate.maxSurge ${surge.problem}` };
    }
    if (rawUnavailable === 0 && rawSurge === 0) {
        return { summary: "", problem: "strategy.rollingUpdate sets maxSurge and maxUnavailable both to 0 (the API rejects it)" };
    }
    // deployment util ResolveFenceposts: when both round to 0, one pod may be unavailable.
    const maxUnavailable = unavailable.value === 0 && surge.value === 0 ? 1 : unavailable.value;
    return { maxUnavailable, summary: `maxUnavailable ${rawUnavailable}, maxSurge ${rawSurge}` };
}

export const rolloutRespectsPdb = stackPolicy({
    name: "rollout-respects-pdb",
    description: "A multi-replica workload's update strategy keeps at least its PDB's floor available: at the minimum "
        + "replica count, replicas − maxUnavailable (a percentage rounds down; a StatefulSet takes 1 by default) ≥ the "
        + "PDB's minAvailable (percentages round up). The Recreate strategy stops every pod on each rollout. Fix: "
        + "RollingUpdate with maxUnavailable 0 and maxSurge 1 (or a maxUnavailable within the PDB's budget).",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...PDB_TYPES, ...HPA_TYPES]);
        for (const { w, floor, name } of model.multiReplica(report)) {
            const replicas = floor.min;
            const shape = tryRead(() => rolloutShape(w, replicas));
            if (!shape.ok) {
                report(unknownMessage(shape.unknown, displayName(w.resource)), w.resource.urn);
                continue;
            }
            if (!shape.value) {
                continue; // OnDelete
            }
            if (shape.value.problem) {
                report(`${name}: ${shape.value.problem}.`, w.resource.urn);
                continue;
            }
            const maxUnavailable = shape.value.maxUnavailable ?? 0;
            const available = replicas - maxUnavailable;
            for (const p of model.pdbsFor(w)) {
                const budget = tryRead(() => disruptionBudget(p.resource.props.spec ?? {}, replicas, p.resource.type));
                if (!budget.ok) {
                    report(unknownMessage(budget.unknown, displayName(p.resource)), w.resource.urn);
                } else if (!("problem" in budget.value) && available < budget.value.desiredHealthy) {
                    report(`${name}: at ${replicas} replicas (${floor.source}) a rollout (${shape.value.summary}) may take `
                        + `${maxUnavailable} pod(s) down at once, leaving ${available} available, below PodDisruptionBudget `
                        + `${p.name ?? p.resource.name}'s floor of ${budget.value.desiredHealthy} (${budget.value.summary}).`, w.resource.urn);
                }
            }
        }
    },
});

export const rolloutPolicies = [rolloutRespectsPdb];
