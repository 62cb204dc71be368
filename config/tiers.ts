// The size-tier table: what each tier (small / medium / large) runs. A stack picks its tier with
// `kubepolaris:tier`; replica counts may be raised per stack (scaling.*), never lowered below the
// environment's floor (environments.ts).
import { type Tier, type TierProfile } from "./schema";
import { deepFreeze } from "./validators";

/**
 * The HA guide's recommended sizes (推荐配置): small runs 2 backend / 2 frontend replicas with a
 * primary/replica database, medium 3/3 on cloud RDS, large 5+/3+ on cloud RDS with a read/write
 * split (读写分离) — which KubePolaris 1.0.5 cannot use (every query goes to DB_HOST), so no tier
 * has in-region read replicas (database.readReplicas asks for them explicitly, with a reason). The backend requests/limits of the guide's values-ha.yaml (1 CPU/1Gi,
 * 4 CPU/4Gi) apply from medium up; HPA bounds start at the tier's replica count (the guide's HPA:
 * min 3, max 10).
 */
export const TIER_PROFILES: Readonly<Record<Tier, TierProfile>> = deepFreeze({
    small: {
        backend: {
            minReplicas: 2, maxReplicas: 4,
            resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
        },
        frontend: {
            minReplicas: 2, maxReplicas: 4,
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        },
        database: { instanceClass: "db.t4g.medium", allocatedStorageGiB: 50, maxAllocatedStorageGiB: 200 },
    },
    medium: {
        backend: {
            minReplicas: 3, maxReplicas: 10,
            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } },
        },
        frontend: {
            minReplicas: 3, maxReplicas: 6,
            resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        },
        database: { instanceClass: "db.r6g.large", allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500 },
    },
    large: {
        backend: {
            minReplicas: 5, maxReplicas: 20,
            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } },
        },
        frontend: {
            minReplicas: 3, maxReplicas: 10,
            resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        },
        database: { instanceClass: "db.r6g.xlarge", allocatedStorageGiB: 200, maxAllocatedStorageGiB: 1000 },
    },
});

/** HPA utilization targets of the guide's values-ha.yaml, for every tier: CPU 70 %, memory 80 %. */
export const HPA_UTILIZATION_TARGETS = Object.freeze({ cpu: 70, memory: 80 });
