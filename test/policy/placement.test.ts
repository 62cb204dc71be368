// Placement: multi-replica workloads not pinned to one zone or node; soft zone spread.
import { allowedDomains, placementNotPinned, zoneSpreadScheduleAnyway } from "../../policy/rules/placement";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases, specResources, TYPES, violationsOf } from "./support";
import { defaultSpec } from "../fixtures/_lib/spec";

const pod = (s: Spec) => s.tiers.api.deployment.spec.template.spec;
const ZONE = "topology.kubernetes.io/zone";
const zoneTerm = (...zones: string[]) => ({ matchExpressions: [{ key: ZONE, operator: "In", values: zones }] });

policyCases(placementNotPinned, [
    {
        title: "a nodeSelector on one zone",
        mutate: (s) => { pod(s).nodeSelector = { [ZONE]: "eu-west-1a" }; },
        expected: ["api-deployment: Deployment shop-api runs up to 6 pods but its node selection allows zone only eu-west-1a: every replica shares one zone"],
    },
    {
        title: "required node affinity with one zone in every term",
        mutate: (s) => { pod(s).affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneTerm("eu-west-1b")] } }; },
        expected: ["allows zone only eu-west-1b"],
    },
    {
        title: "a nodeSelector on one host",
        mutate: (s) => { pod(s).nodeSelector = { "kubernetes.io/hostname": "node-7" }; },
        expected: ["allows node only node-7: every replica shares one node"],
    },
    { title: "spec.nodeName pins to one node", mutate: (s) => { pod(s).nodeName = "node-3"; }, expected: ["allows node only node-3"] },
    {
        title: "two zones listed pass",
        mutate: (s) => { pod(s).affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneTerm("eu-west-1a", "eu-west-1b")] } }; },
        expected: [],
    },
    {
        title: "terms are ORed: one zone per term, two terms, passes",
        mutate: (s) => { pod(s).affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneTerm("a"), zoneTerm("b")] } }; },
        expected: [],
    },
    {
        title: "a term without a zone requirement leaves every zone open",
        mutate: (s) => {
            pod(s).affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneTerm("a"), { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["arm64"] }] }] } };
        },
        expected: [],
    },
    { title: "a nodeSelector on an instance type passes", mutate: (s) => { pod(s).nodeSelector = { "node.kubernetes.io/instance-type": "m6i.large" }; }, expected: [] },
    {
        title: "a single-replica workload may be pinned",
        mutate: (s) => { delete s.tiers.api.hpa; s.tiers.api.deployment.spec.replicas = 1; pod(s).nodeSelector = { [ZONE]: "a" }; },
        expected: [],
    },
]);

test("a nodeSelector and a node affinity that disagree leave no zone at all", () => {
    const allowed = allowedDomains({ nodeSelector: { [ZONE]: "a" }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneTerm("b", "c")] } } } }, [ZONE]);
    expect(allowed && [...allowed]).toEqual([]);
});

policyCases(zoneSpreadScheduleAnyway, [
    {
        title: "DoNotSchedule on the zone",
        mutate: (s) => { pod(s).topologySpreadConstraints[0].whenUnsatisfiable = "DoNotSchedule"; },
        expected: ["api-deployment: topologySpreadConstraints[0] on topology.kubernetes.io/zone has whenUnsatisfiable DoNotSchedule: after a zone loss, replacement pods may stay Pending."],
    },
    {
        title: "DoNotSchedule on hostnames is not this policy's concern",
        mutate: (s) => { pod(s).topologySpreadConstraints.push({ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" }); },
        expected: [],
    },
]);

describe("zone-spread-schedule-anyway and StatefulSets", () => {
    const statefulSet = (volumeClaimTemplates?: unknown[]) => ({
        type: TYPES.statefulSet, name: "db",
        inputs: {
            metadata: { name: "db", namespace: "shop" },
            spec: {
                replicas: 3, serviceName: "db", selector: { matchLabels: { app: "db" } }, volumeClaimTemplates,
                template: { metadata: { labels: { app: "db" } }, spec: {
                    containers: [],
                    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "db" } } }],
                } },
            },
        },
    });

    test("a StatefulSet on zonal volumes may keep DoNotSchedule (its pods cannot leave their zone; a quorum needs the spread)", async () => {
        const claims = [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } } }];
        expect(await violationsOf(zoneSpreadScheduleAnyway, [...specResources(defaultSpec()), statefulSet(claims)])).toEqual([]);
    });

    test("without volumes it may not", async () => {
        expect(await violationsOf(zoneSpreadScheduleAnyway, [...specResources(defaultSpec()), statefulSet()])).toEqual([
            expect.stringContaining("db: topologySpreadConstraints[0] on topology.kubernetes.io/zone has whenUnsatisfiable DoNotSchedule"),
        ]);
    });
});

