// PodDisruptionBudgets: the HA guide's checklist item PDB 配置. A PDB protects a workload only if
// its selector really selects the pods (full label-selector semantics, same namespace), only one
// PDB covers a pod (the eviction API refuses pods under two), and it still lets a drain evict a
// pod when the workload runs at its minimum.
import { tryRead, schema, stackPolicy, unknownMessage } from "./common";
import { disruptionBudget, HPA_TYPES, PDB_TYPES, POD_WORKLOADS, REPLICATED_WORKLOADS } from "./k8s";
import { displayName, PdbRef, StackModel } from "./model";
import { formatLabels, formatSelector, selects } from "./selectors";

function pdbName(p: PdbRef): string {
    return p.name ?? p.resource.name;
}

export const pdbCoverage = stackPolicy({
    name: "pdb-coverage",
    description: "Every multi-replica Deployment/StatefulSet has exactly one PodDisruptionBudget in its namespace "
        + "whose selector selects its pods (matchLabels AND matchExpressions; a selector with a label the pods lack "
        + "selects nothing), and every PDB selects some workload's pods. Two PDBs over one pod make every eviction "
        + "of it fail. Fix: one PDB per workload, selector = the workload's pod labels.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...PDB_TYPES, ...HPA_TYPES]);
        for (const p of model.pdbs) {
            if (p.selectorProblem) {
                report(`PodDisruptionBudget ${pdbName(p)} ${p.selectorProblem}.`, p.resource.urn);
            }
        }
        for (const { w, name } of model.multiReplica(report)) {
            const pdbs = model.pdbsFor(w);
            if (pdbs.length === 0) {
                const sameNamespace = model.pdbs.filter((p) => p.namespace === w.namespace);
                const elsewhere = model.pdbs.filter((p) => p.namespace !== w.namespace && !p.selectorProblem && selects(p.selector, w.podLabels));
                const hints = [
                    ...sameNamespace.map((p) => `PDB ${pdbName(p)} selects ${formatSelector(p.selector)}`),
                    ...elsewhere.map((p) => `PDB ${pdbName(p)} matches the labels but is in namespace ${p.namespace}`),
                ];
                report(`${name} (namespace ${w.namespace}, pod labels ${formatLabels(w.podLabels)}) has no PodDisruptionBudget `
                    + "selecting its pods: a node drain may evict all replicas at once"
                    + (hints.length > 0 ? ` (${hints.join("; ")}).` : "."), w.resource.urn);
            } else if (pdbs.length > 1) {
                report(`${name} is selected by ${pdbs.length} PodDisruptionBudgets (${pdbs.map(pdbName).join(", ")}): the eviction `
                    + "API refuses to evict a pod covered by more than one PDB, so node drains stall. Keep one.", w.resource.urn);
            }
        }
        const podOwners = new StackModel(resources, POD_WORKLOADS).workloads;
        for (const p of model.pdbs) {
            if (p.selectorProblem) {
                continue;
            }
            if (!podOwners.some((w) => w.namespace === p.namespace && selects(p.selector, w.podLabels))) {
                report(`PodDisruptionBudget ${pdbName(p)} (namespace ${p.namespace}, selector ${formatSelector(p.selector)}) selects the pods `
                    + "of no workload in this stack: it protects nothing. Make its selector the workload's pod labels.", p.resource.urn);
            }
        }
    },
});

export const pdbAllowsEviction = stackPolicy({
    name: "pdb-allows-eviction",
    description: "At the workload's minimum replica count (the HPA's minReplicas, else spec.replicas) every PDB over "
        + "it still allows at least `minEvictions` eviction, computed as the disruption controller does (minAvailable "
        + "as an integer or a percentage rounded up; maxUnavailable likewise, subtracted from the replica count). "
        + "minAvailable equal to the replica count blocks every node drain. Fix: minAvailable = minimum − 1, or "
        + "maxUnavailable: 1.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            minEvictions: schema.integer("Evictions a PDB must allow at the workload's minimum replica count.", 1, 1),
        },
    },
    validate(resources, args, report) {
        const { minEvictions } = args.getConfig<{ minEvictions: number }>();
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...PDB_TYPES, ...HPA_TYPES]);
        for (const w of model.workloads) {
            const pdbs = model.pdbsFor(w);
            if (pdbs.length === 0) {
                continue;
            }
            const floor = model.replicaFloor(w);
            if (!floor.ok) {
                report(unknownMessage(floor.unknown, displayName(w.resource)), w.resource.urn);
                continue;
            }
            for (const p of pdbs) {
                const budget = tryRead(() => disruptionBudget(p.resource.props.spec ?? {}, floor.value.min, p.resource.type));
                if (!budget.ok) {
                    report(unknownMessage(budget.unknown, displayName(p.resource)), p.resource.urn);
                } else if ("problem" in budget.value) {
                    report(`PodDisruptionBudget ${pdbName(p)} ${budget.value.problem}.`, p.resource.urn);
                } else if (budget.value.allowed < minEvictions) {
                    report(`PodDisruptionBudget ${pdbName(p)} (${budget.value.summary}) keeps ${budget.value.desiredHealthy} of `
                        + `${w.kind} ${w.name ?? w.resource.name}'s ${floor.value.min} pods at its minimum (${floor.value.source}), `
                        + `allowing ${budget.value.allowed} eviction(s): node drains and cluster upgrades block. `
                        + (floor.value.min > minEvictions
                            ? `Allow at least ${minEvictions} (e.g. minAvailable ${floor.value.min - minEvictions} or maxUnavailable ${minEvictions}).`
                            : `Run more than ${minEvictions} replica(s) at the minimum, then allow ${minEvictions} eviction(s).`),
                    p.resource.urn);
                }
            }
        }
    },
});

export const pdbPolicies = [pdbCoverage, pdbAllowsEviction];
