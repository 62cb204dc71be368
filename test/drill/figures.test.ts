// How the drill figures read a sampled series (scripts/drill/figures.ts): each sample's value holds
// until the next sample.
import { recoverySeconds, Sample, workloadFigures } from "../../scripts/drill/figures";

const series = (...points: [number, number][]): Sample[] =>
    points.map(([t, backend]) => ({ t, ready: { backend, frontend: 2 }, pending: { backend: 0, frontend: 0 } }));

describe("drill figures", () => {
    // 3 ready, one pod lost at 1 s, another at 2 s, both back by 12.5 s.
    const dip = series([0, 3], [1, 2], [2, 1], [4, 0], [5, 1], [11, 2], [12.5, 3], [14, 3]);

    test("seconds below the floor and at zero add up the intervals spent there", () => {
        const f = workloadFigures(dip, "backend", 2, 3, 4);
        expect(f).toMatchObject({ minReady: 0, belowFloorS: 9, zeroS: 1, recoveryS: 12.5, evictionsRefused: 4 });
    });

    test("a workload that never dipped recovered at 0 s; one still short at the end is 'not back'", () => {
        expect(recoverySeconds(series([0, 3], [5, 3]), "backend", 3)).toBe(0);
        expect(recoverySeconds(series([0, 3], [5, 2], [9, 2]), "backend", 3)).toBeNull();
    });

    test("Pending pods at the end are the last sample's", () => {
        const s = series([0, 3], [1, 2]);
        s[1].pending.backend = 1;
        expect(workloadFigures(s, "backend", 2, 3, 0).pendingAtEnd).toBe(1);
    });
});
