// How few replicas each environment may run. The program refuses a stack config below its
// environment's floor; the pack's policy config (policy/config/<stack>.json) asks for the same
// floor of any program, and a test holds the two together.

export const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * The HA guide's deployment checklist starts with 多副本部署 (several replicas) and its
 * KubePolarisReplicasLow alert fires below 2 available pods: two is the least that survives
 * losing one pod to a drain, a crash or a rollout. The pack's default floor.
 */
export const HA_MIN_REPLICAS = 2;

/**
 * Per environment: prod runs 3, the guide's values-ha.yaml replicaCount, so that it keeps two
 * while one is drained; the local stack (a laptop) may run a single pod.
 */
export const REPLICA_FLOORS: Readonly<Record<Environment, number>> = Object.freeze({
    local: 1,
    dev: HA_MIN_REPLICAS,
    staging: HA_MIN_REPLICAS,
    prod: 3,
});

/**
 * The largest share of a workload's pods one voluntary disruption (a node drain, a node-group
 * upgrade, a consolidation) may take at once, in percent of the pods running then, rounded up and
 * never fewer than one pod. A quarter: the survivors of a disruption at any replica count carry
 * the load at 70 % / 0.75 ≈ 93 % of their CPU request (the HPA's 70 % target), still under their
 * limits, while a drain of a node at the HPA maximum still proceeds several pods at a time.
 * The program derives its PDBs from it; the pack's pdb-allows-eviction checks every replica count
 * from the HPA minimum to its maximum against it.
 */
export const MAX_DISRUPTED_PERCENT = 25;
