// How a workload rolls: one home for the surge, read by the Deployments (components/haWorkload.ts),
// the namespace quota (index.ts) and the database's max_connections (config/app.ts).

/** Pods a rollout adds above the desired count (and never takes below it). */
export const MAX_SURGE = 1;

/** The most pods a workload with this HPA maximum runs at once: the maximum plus a rollout's surge. */
export function maxPodsDuringRollout(maxReplicas: number): number {
    return maxReplicas + MAX_SURGE;
}
