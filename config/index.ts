// The stack's configuration: parsed and validated once, typed, frozen. Components never read
// pulumi.Config; they receive slices of AppConfig as typed args. One job per file:
//   schema.ts        the typed shape (AppConfig and its parts) and the raw input
//   tiers.ts         the size-tier table (the HA guide's recommended sizes)
//   environments.ts  one table of what each environment decides, with the reasons
//   app.ts           parseConfig: every section but the database
//   images.ts        the images section: upstream pins and the stack's own ECR mirror
//   database.ts      the database section (mode, shared settings, the in-cluster MySQL)
//   rds.ts           the RDS settings
//   validators.ts    the small validators and ConfigError
//   load.ts          the one loader that touches pulumi.Config
export * from "./schema";
export { parseConfig } from "./app";
export { DB_RESERVED_CONNECTIONS, IN_CLUSTER_MYSQL_IMAGE } from "./database";
export { DEFAULT_KEEP_VERSIONS, MIRROR_COMMAND, mirrorRepositoryName, parseImages } from "./images";
export { ENVIRONMENT_DECISIONS, type EnvironmentDecisions } from "./environments";
export { loadConfig, rawConfig, secretSetting } from "./load";
export { MAX_READ_REPLICAS } from "./rds";
export { HPA_UTILIZATION_TARGETS, TIER_PROFILES } from "./tiers";
export { ConfigError } from "./validators";
export { MUTABLE_TAGS } from "../policy/facts";
