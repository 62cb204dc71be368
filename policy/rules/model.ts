// The relationships stack policies reason about: which PDBs select a workload's pods, which HPA
// scales it, how many replicas it runs at the least. Each resource is read on its own; one whose
// identifying fields are unknown during preview is set aside in `unknown` so the policy that
// needed it can say so, instead of guessing.
import type { PolicyResource } from "@pulumi/policy";
import { tryRead, ReadResult, Props, StackReport, unknownMessage } from "./common";
import { groupOf, HPA_TYPES, kindOf, nameOf, namespaceOf, PDB_TYPES, podTemplate, REPLICATED_WORKLOADS } from "./k8s";
import { LabelSelector, Labels, matchSelector, selectorProblem } from "./selectors";

export interface WorkloadRef {
    resource: PolicyResource;
    kind: string;
    /** undefined when auto-named: nothing can refer to it by name. */
    name?: string;
    namespace: string;
    podLabels: Labels;
    podSpec: Props;
}

export interface PdbRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    selector: LabelSelector | null | undefined;
    selectorProblem?: string;
}

export interface HpaRef {
    resource: PolicyResource;
    name?: string;
    namespace: string;
    target: { apiVersion?: string; kind?: string; name?: string };
    /** minReplicas, 1 when unset (the API default). */
    minReplicas: number;
    maxReplicas?: number;
}

export interface UnknownRef {
    resource: PolicyResource;
    path: string;
}

export interface ReplicaFloor {
    /** The fewest pods the workload runs: the HPA's minReplicas, else spec.replicas (default 1). */
    min: number;
    /** The most it runs: the HPA's maxReplicas, else spec.replicas. */
    max: number;
    hpa?: HpaRef;
    /** "HPA backend-hpa minReplicas 3" / "spec.replicas 2" */
    source: string;
}

function problemText(problem: string | undefined): string | undefined {
    return problem === undefined ? undefined : `has an invalid selector: ${problem}`;
}

export function displayName(r: PolicyResource): string {
    return `${kindOf(r.type)} ${r.name}`;
}

export class StackModel {
    readonly workloads: WorkloadRef[] = [];
    readonly pdbs: PdbRef[] = [];
    readonly hpas: HpaRef[] = [];
    /** Workloads, PDBs and HPAs whose identifying fields are unknown during preview. */
    readonly unknown: UnknownRef[] = [];

    constructor(readonly resources: PolicyResource[], workloadTypes: readonly string[] = REPLICATED_WORKLOADS) {
        for (const r of resources) {
            if (workloadTypes.includes(r.type)) {
                this.add(r, this.workloads, () => {
                    const template = podTemplate(r.type, r.props);
                    return {
                        resource: r,
                        kind: kindOf(r.type),
                        name: nameOf(r.props),
                        namespace: namespaceOf(r.props, r.provider),
                        podLabels: { ...(template?.labels ?? {}) },
                        podSpec: template?.spec ?? {},
                    };
                });
            } else if (PDB_TYPES.includes(r.type)) {
                this.add(r, this.pdbs, () => {
                    const selector = r.props.spec?.selector;
                    return {
                        resource: r,
                        name: nameOf(r.props),
                        namespace: namespaceOf(r.props, r.provider),
                        selector,
                        selectorProblem: selector === undefined || selector === null
                            ? "has no selector (a null selector selects no pods)"
                            : problemText(selectorProblem(selector)),
                    };
                });
            } else if (HPA_TYPES.includes(r.type)) {
                this.add(r, this.hpas, () => {
                    const spec = r.props.spec ?? {};
                    const ref = spec.scaleTargetRef ?? {};
                    return {
                        resource: r,
                        name: nameOf(r.props),
                        namespace: namespaceOf(r.props, r.provider),
                        target: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name },
                        minReplicas: spec.minReplicas ?? 1,
                        maxReplicas: spec.maxReplicas,
                    };
                });
            }
        }
    }

    private add<X>(r: PolicyResource, into: X[], read: () => X): void {
        const d = tryRead(read);
        if (d.ok) {
            into.push(d.value);
        } else {
            this.unknown.push({ resource: r, path: d.unknown });
        }
    }

    /** Unknown entries among the given resource types. */
    unknownOf(types: readonly string[]): UnknownRef[] {
        return this.unknown.filter((u) => types.includes(u.resource.type));
    }

    /** Reports every unknown entry among `types` ("… is unknown during preview; cannot verify"). */
    reportUnknown(report: StackReport, types: readonly string[]): void {
        for (const u of this.unknownOf(types)) {
            report(unknownMessage(u.path, displayName(u.resource)), u.resource.urn);
        }
    }

    /** PDBs in the workload's namespace whose selector (full semantics) selects its pods. */
    pdbsFor(w: WorkloadRef): PdbRef[] {
        return this.pdbs.filter((p) => {
            if (p.namespace !== w.namespace || p.selectorProblem) {
                return false;
            }
            const verdict = matchSelector(p.selector, w.podLabels);
            return verdict.valid && verdict.matches;
        });
    }

    /** HPAs in the workload's namespace whose scaleTargetRef names it (kind, name, API group). */
    hpasFor(w: WorkloadRef): HpaRef[] {
        return this.hpas.filter((h) => this.targets(h, w));
    }

    targets(h: HpaRef, w: WorkloadRef): boolean {
        if (h.namespace !== w.namespace || w.name === undefined || h.target.name !== w.name || h.target.kind !== w.kind) {
            return false;
        }
        const apiVersion = h.target.apiVersion;
        const group = typeof apiVersion === "string" && apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
        return apiVersion === undefined || group === groupOf(w.resource.type);
    }

    /** The workload (of this stack) an HPA scales, if any. */
    targetOf(h: HpaRef): WorkloadRef | undefined {
        return this.workloads.find((w) => this.targets(h, w));
    }

    /**
     * Workloads that may run more than one pod (a single pod is workload-min-replicas' concern),
     * with their replica floor; a workload whose floor is unknown during preview is reported.
     */
    multiReplica(report: StackReport): { w: WorkloadRef; floor: ReplicaFloor; name: string }[] {
        const out: { w: WorkloadRef; floor: ReplicaFloor; name: string }[] = [];
        for (const w of this.workloads) {
            const floor = this.replicaFloor(w);
            if (!floor.ok) {
                report(unknownMessage(floor.unknown, displayName(w.resource)), w.resource.urn);
            } else if (floor.value.max >= 2) {
                out.push({ w, floor: floor.value, name: `${w.kind} ${w.name ?? w.resource.name}` });
            }
        }
        return out;
    }

    /** Fewest and most replicas a workload runs, counting the HPA that scales it. */
    replicaFloor(w: WorkloadRef): ReadResult<ReplicaFloor> {
        return tryRead(() => {
            const hpa = this.hpasFor(w)[0];
            if (hpa) {
                return {
                    min: hpa.minReplicas,
                    max: Math.max(hpa.minReplicas, hpa.maxReplicas ?? hpa.minReplicas),
                    hpa,
                    source: `HPA ${hpa.resource.name} minReplicas ${hpa.minReplicas}`,
                };
            }
            const replicas = w.resource.props.spec?.replicas;
            const value = typeof replicas === "number" ? replicas : 1;
            return { min: value, max: value, source: replicas === undefined ? "spec.replicas unset (defaults to 1)" : `spec.replicas ${value}` };
        });
    }
}
