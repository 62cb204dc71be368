// Placement: where the scheduler may put replicas. A nodeSelector or required node affinity that
// leaves one zone (or one node) as the only choice puts every replica in one failure domain,
// whatever the spread constraints and anti-affinity say. A zone spread with whenUnsatisfiable
// DoNotSchedule leaves replacement pods Pending when a zone is lost, exactly when they are needed.
import { TOPOLOGY_KEYS } from "../facts";
import { has, Props, stackPolicy } from "./common";
import { HPA_TYPES, REPLICATED_WORKLOADS, TYPES } from "./k8s";
import { StackModel } from "./model";
import { podTemplatePolicy } from "./workloads";

const { hostname: HOSTNAME_KEY, zone: ZONE_KEY } = TOPOLOGY_KEYS;
const ZONE_KEYS: string[] = [ZONE_KEY, TOPOLOGY_KEYS.deprecatedZone];

/** Values a node may have for one of `keys`: a finite set, or undefined for "any". */
type Allowed = Set<string> | undefined;

function intersect(a: Allowed, b: Allowed): Allowed {
    if (a === undefined) {
        return b;
    }
    return b === undefined ? a : new Set([...a].filter((v) => b.has(v)));
}

/** What one nodeSelectorTerm allows for `keys` (its requirements are ANDed). */
function termAllows(term: Props, keys: string[], fieldKey?: string): Allowed {
    let allowed: Allowed;
    const requirements: [Props[], (key: string) => boolean][] = [
        [Array.isArray(term?.matchExpressions) ? term.matchExpressions : [], (key) => keys.includes(key)],
        [Array.isArray(term?.matchFields) ? term.matchFields : [], (key) => key === fieldKey],
    ];
    for (const [list, applies] of requirements) {
        for (const req of list) {
            if (applies(req?.key) && req.operator === "In" && Array.isArray(req.values)) {
                allowed = intersect(allowed, new Set(req.values.map(String)));
            }
        }
    }
    return allowed;
}

/**
 * The zones (or nodes) a pod spec allows: nodeSelector AND the required node affinity (its terms
 * ORed). undefined when not restricted to a finite set.
 */
export function allowedDomains(podSpec: Props, keys: string[], fieldKey?: string): Allowed {
    let allowed: Allowed;
    const selector: Props = podSpec.nodeSelector ?? {};
    for (const key of keys.filter((k) => has(selector, k))) {
        allowed = intersect(allowed, new Set([String(selector[key])]));
    }
    if (fieldKey && typeof podSpec.nodeName === "string" && podSpec.nodeName !== "") {
        allowed = intersect(allowed, new Set([podSpec.nodeName]));
    }
    const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (Array.isArray(terms) && terms.length > 0) {
        let union: Allowed = new Set();
        for (const term of terms) {
            const t = termAllows(term, keys, fieldKey);
            union = t === undefined || union === undefined ? undefined : new Set([...union, ...t]);
        }
        allowed = intersect(allowed, union);
    }
    return allowed;
}

function describeAllowed(allowed: Set<string>): string {
    return allowed.size === 0 ? "no node at all (the requirements contradict each other)" : `only ${[...allowed].join(", ")}`;
}

export const placementNotPinned = stackPolicy({
    name: "placement-not-pinned",
    description: `A Deployment or StatefulSet that runs more than one pod is not pinned to one zone (${ZONE_KEY}) or `
        + `one node (${HOSTNAME_KEY}, metadata.name, spec.nodeName) by its nodeSelector or its required node affinity `
        + "(terms ORed, requirements within a term ANDed). Pinned, every replica shares one failure domain and the "
        + "zone spread and anti-affinity cannot help. Fix: drop the zone/host from nodeSelector, or list every zone the "
        + "workload may run in (In with all zones), or use preferred node affinity.",
    enforcementLevel: "mandatory",
    severity: "high",
    validate(resources, _args, report) {
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...HPA_TYPES]);
        for (const { w, floor, name } of model.multiReplica(report)) {
            for (const [what, allowed] of [
                ["zone", allowedDomains(w.podSpec, ZONE_KEYS)],
                ["node", allowedDomains(w.podSpec, [HOSTNAME_KEY], "metadata.name")],
            ] as const) {
                if (allowed !== undefined && allowed.size <= 1) {
                    report(`${name} runs up to ${floor.max} pods but its node selection allows ${what === "zone" ? "zone" : "node"} `
                        + `${describeAllowed(allowed)}: every replica shares one ${what}, and its loss takes the service down.`, w.resource.urn);
                }
            }
        }
    },
});

export const zoneSpreadScheduleAnyway = podTemplatePolicy({
    name: "zone-spread-schedule-anyway",
    description: `Spread constraints on ${ZONE_KEY} use whenUnsatisfiable: ScheduleAnyway. With DoNotSchedule, after a `
        + "zone is lost the scheduler may refuse to place replacement pods in the remaining zones (the skew would "
        + "grow), and they stay Pending while the service runs short. Fix: whenUnsatisfiable: ScheduleAnyway (the "
        + "scheduler still prefers the spread). A StatefulSet with volumeClaimTemplates may keep DoNotSchedule: each pod "
        + "is bound to its volume's zone, so a lost zone's pod cannot move anyway, and a quorum system (a database "
        + "cluster) needs the guarantee that no zone ever holds a majority of its members.",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: REPLICATED_WORKLOADS,
    validate(template, args, report, props) {
        // Pods bound to zonal volumes cannot be replaced in another zone: DoNotSchedule costs nothing there.
        if (args.type === TYPES.statefulSet && Array.isArray(props?.spec?.volumeClaimTemplates) && props.spec.volumeClaimTemplates.length > 0) {
            return;
        }
        const constraints: Props[] = Array.isArray(template.spec.topologySpreadConstraints) ? template.spec.topologySpreadConstraints : [];
        constraints.forEach((c, i) => {
            if (ZONE_KEYS.includes(c?.topologyKey) && c.whenUnsatisfiable !== "ScheduleAnyway") {
                report(`topologySpreadConstraints[${i}] on ${c.topologyKey} has whenUnsatisfiable ${c.whenUnsatisfiable ?? "unset"}: `
                    + "after a zone loss, replacement pods may stay Pending. Use ScheduleAnyway.");
            }
        });
    },
});

export const placementPolicies = [placementNotPinned, zoneSpreadScheduleAnyway];
