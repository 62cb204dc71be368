// The policy pack's contents, importable without starting anything: `index.ts` hands these to
// `new PolicyPack(...)` (which starts the analyzer's gRPC server), while tests and the offline
// runner (`npm run policy:check`) evaluate the same objects directly.
import type { PolicyPackArgs } from "@pulumi/policy";
import { alertRulePolicies } from "./rules/alertRules";
import { capacityPolicies } from "./rules/capacity";
import { databasePolicies } from "./rules/database";
import { edgePolicies } from "./rules/edge";
import { hpaPolicies } from "./rules/hpa";
import { imagePolicies } from "./rules/images";
import { monitoringPolicies } from "./rules/monitoring";
import { namespacePolicies } from "./rules/namespace";
import { pdbPolicies } from "./rules/pdb";
import { placementPolicies } from "./rules/placement";
import { probePolicies } from "./rules/probes";
import { reachabilityPolicies } from "./rules/reachability";
import { rolloutPolicies } from "./rules/rollout";
import { routingPolicies } from "./rules/routing";
import { secretsPolicies } from "./rules/secrets";
import { shutdownPolicies } from "./rules/shutdown";
import { workloadPolicies } from "./rules/workloads";

/** The pack's name as the engine reports it (its version comes from policy/package.json). */
export const PACK_NAME = "kubepolaris-ha";

export const packArgs: PolicyPackArgs = {
    description: "KubePolaris HA checklist (the KubePolaris HA guide's 部署检查清单, deployment checklist): replicas, anti-affinity, zone spread, probes, "
        + "resources, restricted pods, pinned images (by digest from the stack's own registry where configured), PDBs, HPAs, rollouts, TLS, NLB cross-zone, RDS Multi-AZ and "
        + "backups, Prometheus alerts, namespace baseline; "
        + "and across resources: routing, probe ports, graceful shutdown, placement, quota capacity, network reachability, "
        + "literal credentials, loadable alert rules.",
    displayName: "KubePolaris HA",
    // Policies without a level of their own (none today) and config without one default to
    // mandatory: forgetting a config file must not make the pack lenient.
    enforcementLevel: "mandatory",
    policies: [
        ...workloadPolicies,
        ...imagePolicies,
        ...pdbPolicies,
        ...hpaPolicies,
        ...rolloutPolicies,
        ...edgePolicies,
        ...databasePolicies,
        ...monitoringPolicies,
        ...namespacePolicies,
        ...routingPolicies,
        ...probePolicies,
        ...shutdownPolicies,
        ...placementPolicies,
        ...capacityPolicies,
        ...reachabilityPolicies,
        ...secretsPolicies,
        ...alertRulePolicies,
    ],
};
