// What the real-node drills judge without a cluster: the scale-out drill's checks at every size
// (the PDB lets one pod go and keeps its floor, the zones stay within one pod), the floor a live
// PDB keeps, and which drills run on which nodes. The drills themselves run on real nodes
// (npm run drill -- --real; docs/drills.md).
import { pdbBudget } from "../../components/haWorkload";
import { checkSizes, DRILLS, pdbFloor, REAL_DRILLS, ScaleSample, zoneSkew } from "../../scripts/drill/drills";
import { TIER_PROFILES } from "../../config";

const ZONES = ["zone-a", "zone-b", "zone-c"];
const at = (t: number, replicas: number, zones: Record<string, number>, allowed: number, ready = replicas): ScaleSample => ({
    t, replicas, ready, zones, pdb: { expected: replicas, healthy: ready, allowed },
});

describe("the scale-out drill's checks", () => {
    test("zone skew counts empty zones: 2/1/1 is 1, 2/2/0 is 2", () => {
        expect(zoneSkew({ "zone-a": 2, "zone-b": 1, "zone-c": 1 }, ZONES)).toBe(1);
        expect(zoneSkew({ "zone-a": 2, "zone-b": 2 }, ZONES)).toBe(2);
    });

    test("a live PDB's floor is the disruption controller's: percentages round up; a PDB that keeps nothing is refused", () => {
        expect(pdbFloor({ maxUnavailable: "50%" }, 2)).toBe(1);
        expect(pdbFloor({ maxUnavailable: "25%" }, 20)).toBe(15);
        expect(pdbFloor({ maxUnavailable: "33%" }, 4)).toBe(2);
        expect(pdbFloor({ minAvailable: 2 }, 10)).toBe(2);
        expect(pdbFloor({ minAvailable: "50%" }, 5)).toBe(3);
        expect(pdbFloor({ maxUnavailable: 1 }, 4)).toBe(3);
        expect(() => pdbFloor({}, 4)).toThrow("the backend's PDB sets neither minAvailable nor maxUnavailable");
    });

    test("our PDB at every size of the small and medium tiers passes; each size is judged once all its pods are ready", () => {
        for (const tier of ["small", "medium"] as const) {
            const { minReplicas, maxReplicas } = TIER_PROFILES[tier].backend;
            const budget = pdbBudget(minReplicas)!;
            const spec = { maxUnavailable: budget.maxUnavailable };
            const samples: ScaleSample[] = [];
            for (let n = minReplicas; n <= maxReplicas; n++) {
                const zones = Object.fromEntries(ZONES.map((z, i) => [z, Math.floor(n / 3) + (i < n % 3 ? 1 : 0)]));
                samples.push(at(n, n, zones, n - pdbFloor(spec, n), n - 1)); // a pod still starting: not judged
                samples.push(at(n + 0.5, n, zones, n - pdbFloor(spec, n)));
            }
            const { sizes, problems } = checkSizes(samples, ZONES, (n) => budget.floorAt(n));
            expect(problems).toEqual([]);
            expect(sizes).toEqual(Array.from({ length: maxReplicas - minReplicas + 1 }, (_, i) => minReplicas + i));
        }
    });

    test("negative controls: a PDB that allows nothing, one that lets too many go, and a zone left empty are each named with their size", () => {
        const floor = (n: number) => n - 1;
        expect(checkSizes([at(1, 2, { "zone-a": 1, "zone-b": 1 }, 0)], ZONES, floor).problems)
            .toEqual(["at 2 pods the PDB allows no disruption (a drain would hang)"]);
        expect(checkSizes([at(1, 4, { "zone-a": 2, "zone-b": 1, "zone-c": 1 }, 3)], ZONES, floor).problems)
            .toEqual(["at 4 pods the PDB lets 3 of 4 go: below its floor of 3"]);
        expect(checkSizes([at(1, 4, { "zone-a": 2, "zone-b": 2 }, 1)], ZONES, floor).problems)
            .toEqual(['at 4 pods the zones differ by 2 ready pods ({"zone-a":2,"zone-b":2})']);
        // Without a PDB (naive), only the spread is judged.
        expect(checkSizes([{ t: 1, replicas: 2, ready: 2, zones: { "zone-a": 2 } }], ZONES).problems)
            .toEqual(['at 2 pods the zones differ by 2 ready pods ({"zone-a":2})']);
    });
});

describe("which drills run where", () => {
    test("real nodes lose a zone by stopping its machines and also restart, lose and restore the database and scale out; kwok keeps its fake zone loss", () => {
        expect(REAL_DRILLS.map((d) => d.name)).toEqual(["drain-one", "drain-two", "rollout", "chaos", "zone-loss", "database-restart", "database-node-loss", "database-full-restart", "database-recovery", "scale-out"]);
        expect(DRILLS.map((d) => d.name)).toEqual(["drain-one", "drain-two", "rollout", "chaos", "zone-loss"]);
        expect(REAL_DRILLS.find((d) => d.name === "zone-loss")).not.toBe(DRILLS.find((d) => d.name === "zone-loss"));
    });
});
