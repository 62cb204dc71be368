// PodDisruptionBudgets: the HA guide's checklist item PDB 配置. A PDB protects a workload only if
// its selector really selects the pods (full label-selector semantics, same namespace), only one
// PDB covers a pod (the eviction API refuses pods under two), and it still lets a drain evict a
// pod when the workload runs at its minimum.
import { MAX_DISRUPTED_PERCENT } from "../facts";
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
    description: "At every replica count the workload runs, from its minimum (the HPA's minReplicas, else spec.replicas) "
        + "to its maximum (the HPA's maxReplicas), every PDB over it is computed as the disruption controller does "
        + "(minAvailable as an integer or a percentage rounded up; maxUnavailable likewise, subtracted from the replica "
        + "count): at the minimum it still allows at least `minEvictions` eviction (minAvailable equal to the replica "
        + "count blocks every node drain), and at no count does it let one voluntary disruption take more than "
        + "`maxDisruptedPercent` of the pods (rounded up, never fewer than `minEvictions`): minAvailable = minimum − 1 "
        + "lets a drain at an HPA maximum of 20 evict 16 pods. Fix: maxUnavailable as a percentage that is one pod at the "
        + "minimum and at most `maxDisruptedPercent`.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            minEvictions: schema.integer("Evictions a PDB must allow at the workload's minimum replica count.", 1, 1),
            maxDisruptedPercent: schema.integer("Most of the pods, in percent (rounded up), a PDB may let one voluntary disruption "
                + "take at any replica count from the minimum to the maximum.", MAX_DISRUPTED_PERCENT, 1),
        },
    },
    validate(resources, args, report) {
        const { minEvictions, maxDisruptedPercent } = args.getConfig<{ minEvictions: number; maxDisruptedPercent: number }>();
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
            const { min, max, source } = floor.value;
            for (const p of pdbs) {
                const budget = tryRead(() => disruptionBudget(p.resource.props.spec ?? {}, min, p.resource.type));
                if (!budget.ok) {
                    report(unknownMessage(budget.unknown, displayName(p.resource)), p.resource.urn);
                } else if ("problem" in budget.value) {
                    report(`PodDisruptionBudget ${pdbName(p)} ${budget.value.problem}.`, p.resource.urn);
                } else if (budget.value.allowed < minEvictions) {
                    report(`PodDisruptionBudget ${pdbName(p)} (${budget.value.summary}) keeps ${budget.value.desiredHealthy} of `
                        + `${w.kind} ${w.name ?? w.resource.name}'s ${min} pods at its minimum (${source}), `
                        + `allowing ${budget.value.allowed} eviction(s): node drains and cluster upgrades block. `
                        + (min > minEvictions
                            ? `Allow at least ${minEvictions} (e.g. minAvailable ${min - minEvictions} or maxUnavailable ${minEvictions}).`
                            : `Run more than ${minEvictions} replica(s) at the minimum, then allow ${minEvictions} eviction(s).`),
                    p.resource.urn);
                } else {
                    const worst = worstOverBound(p.resource.props.spec ?? {}, p.resource.type, min, max, maxDisruptedPercent, minEvictions);
                    if (worst) {
                        report(`PodDisruptionBudget ${pdbName(p)} (${worst.summary}) lets one voluntary disruption evict ${worst.allowed} of `
                            + `${w.kind} ${w.name ?? w.resource.name}'s ${worst.replicas} pods (${min}–${max} with ${source}), more than `
                            + `${maxDisruptedPercent}% (${worst.bound}): a node-group upgrade or consolidation at that size may take them at once. `
                            + `Use maxUnavailable as a percentage (e.g. "${Math.max(1, Math.min(maxDisruptedPercent, Math.floor(100 / min)))}%").`,
                        p.resource.urn);
                    }
                }
            }
        }
    },
});

/** The replica count in min..max where the budget allows the most evictions over the bound, if any. */
function worstOverBound(spec: Record<string, unknown>, pdbType: string, min: number, max: number, percent: number, minEvictions: number):
    { replicas: number; allowed: number; bound: number; summary: string } | undefined {
    let worst: { replicas: number; allowed: number; bound: number; summary: string } | undefined;
    for (let n = min; n <= max; n++) {
        const budget = disruptionBudget(spec, n, pdbType);
        if ("problem" in budget) {
            return undefined;
        }
        const bound = Math.max(minEvictions, Math.ceil((n * percent) / 100));
        if (budget.allowed > bound && (!worst || budget.allowed - bound >= worst.allowed - worst.bound)) {
            worst = { replicas: n, allowed: budget.allowed, bound, summary: budget.summary };
        }
    }
    return worst;
}

export const pdbPolicies = [pdbCoverage, pdbAllowsEviction];
