// The size tiers a stack picks from (the HA guide's recommended sizes, 推荐配置). The program
// sizes each tier (config/tiers.ts); the pack needs only the names: on "large" it requires the
// read replicas of the guide's read/write split.

export const TIERS = ["small", "medium", "large"] as const;
export type Tier = (typeof TIERS)[number];
