// The figures of one drill on one configuration, from the sampled series: pure functions, so the
// runner, the report and the tests all read the same numbers the same way.

export const WORKLOADS = ["backend", "frontend"] as const;
export type Workload = typeof WORKLOADS[number];

/** One sample: seconds since the drill started; per workload, serving (ready) and Pending pods. */
export interface Sample {
    t: number;
    ready: Record<Workload, number>;
    pending: Record<Workload, number>;
}

export interface WorkloadFigures {
    /** Ready pods when the drill started (all desired pods were ready then). */
    full: number;
    minReady: number;
    /** Seconds with fewer ready pods than the availability floor. */
    belowFloorS: number;
    /** Seconds with no ready pod at all: the workload was down. */
    zeroS: number;
    /** Seconds from the start until the last return to full capacity (0: never below it; null: not back by the end). */
    recoveryS: number | null;
    /** Evictions a PodDisruptionBudget refused (HTTP 429), retries included. */
    evictionsRefused: number;
    /** Pods still unscheduled when the drill ended. */
    pendingAtEnd: number;
}

/**
 * Each sample's value holds until the next one, so a duration is the sum of the intervals that
 * start at a sample meeting the condition (the last sample has no interval).
 */
export function secondsWhere(samples: readonly Sample[], holds: (s: Sample) => boolean): number {
    let total = 0;
    for (let i = 0; i + 1 < samples.length; i++) {
        if (holds(samples[i])) {
            total += samples[i + 1].t - samples[i].t;
        }
    }
    return round(total);
}

/** When the workload was last brought back to `full` ready pods: the time of the first sample at full after the last one below it. */
export function recoverySeconds(samples: readonly Sample[], workload: Workload, full: number): number | null {
    let lastBelow = -1;
    samples.forEach((s, i) => {
        if (s.ready[workload] < full) {
            lastBelow = i;
        }
    });
    if (lastBelow < 0) {
        return 0;
    }
    return lastBelow + 1 < samples.length ? round(samples[lastBelow + 1].t) : null;
}

export function workloadFigures(samples: readonly Sample[], workload: Workload, floor: number, full: number, evictionsRefused: number): WorkloadFigures {
    if (samples.length === 0) {
        throw new Error(`no samples for ${workload}: the pod watch recorded nothing`);
    }
    return {
        full,
        minReady: Math.min(...samples.map((s) => s.ready[workload])),
        belowFloorS: secondsWhere(samples, (s) => s.ready[workload] < floor),
        zeroS: secondsWhere(samples, (s) => s.ready[workload] === 0),
        recoveryS: recoverySeconds(samples, workload, full),
        evictionsRefused,
        pendingAtEnd: samples[samples.length - 1].pending[workload],
    };
}

/** Only the samples where something changed (and the last one): what a step chart needs. */
export function changePoints(samples: readonly Sample[]): Sample[] {
    return samples.filter((s, i) => i === 0 || i === samples.length - 1
        || WORKLOADS.some((w) => s.ready[w] !== samples[i - 1].ready[w] || s.pending[w] !== samples[i - 1].pending[w]));
}

function round(seconds: number): number {
    return Math.round(seconds * 10) / 10;
}
