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
