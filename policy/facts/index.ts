// What the program and the policy pack must agree on, written once. It lives inside policy/ so
// that `pulumi policy publish` carries it with the pack; the program imports it from here. Plain
// data and pure functions: no dependencies, no Pulumi.
export { ALERT_NAMES, type AlertName, IN_CLUSTER_DATABASE_ALERT_NAMES } from "./alerts";
export { DEFAULT_EDGE_CONTROLLER } from "./edge";
export { AWS_ACCOUNT_ID, ecrRegistryHost, type ImageReference, isMutableTag, MUTABLE_TAGS, parseEcrImage, parseImageReference, SHA256_DIGEST } from "./images";
export { LABEL_KEYS, TOPOLOGY_KEYS } from "./labels";
export { formatCpu, formatQuantity, parseQuantity } from "./quantity";
export { type Environment, ENVIRONMENTS, HA_MIN_REPLICAS, MAX_DISRUPTED_PERCENT, REPLICA_FLOORS } from "./replicas";
export { type Tier, TIERS } from "./tiers";
