// Namespace baseline: Pod Security restricted, ResourceQuota, default-deny NetworkPolicy.
import { namespaceDefaultDeny, namespacePodSecurity, namespaceResourceQuota } from "../../policy/rules/namespace";
import { policyCases } from "./support";

policyCases(namespacePodSecurity, [
    { title: "no Pod Security label", mutate: (s) => { s.namespace.metadata.labels = {}; }, expected: ["namespace: Namespace shop has pod-security.kubernetes.io/enforce=<unset>; it must be \"restricted\"."] },
    { title: "baseline instead of restricted", mutate: (s) => { s.namespace.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"; }, expected: ["enforce=baseline"] },
    {
        title: "workloads in a namespace the stack does not create",
        mutate: (s) => { s.tiers.web.deployment.metadata = { ...s.tiers.web.deployment.metadata, namespace: "legacy" }; },
        expected: ["web-deployment: namespace legacy runs 1 workload(s) but is not a Namespace of this stack"],
    },
    {
        title: "a workload without namespace lands in \"default\"",
        mutate: (s) => { const { namespace: _ns, ...rest } = s.tiers.web.deployment.metadata; s.tiers.web.deployment.metadata = rest; },
        expected: ["web-deployment: namespace default runs 1 workload(s)"],
    },
]);

policyCases(namespaceResourceQuota, [
    { title: "no quota", mutate: (s) => { delete s.quota; }, expected: ["api-deployment: namespace shop runs 2 workload(s) without a ResourceQuota"] },
    { title: "a quota without hard limits", mutate: (s) => { s.quota.spec = {}; }, expected: ["without a ResourceQuota (with spec.hard)"] },
    { title: "the quota in another namespace", mutate: (s) => { s.quota.metadata.namespace = "other"; }, expected: ["namespace shop runs 2 workload(s) without a ResourceQuota"] },
]);

const denyAll = (s: { networkPolicies: any[] }) => s.networkPolicies.find((np) => np.metadata.name === "default-deny");

policyCases(namespaceDefaultDeny, [
    { title: "no default-deny policy", mutate: (s) => { s.networkPolicies = s.networkPolicies.filter((np) => np !== denyAll(s)); }, expected: ["api-deployment: namespace shop runs 2 workload(s) without a default-deny NetworkPolicy"] },
    { title: "denies ingress only", mutate: (s) => { denyAll(s).spec.policyTypes = ["Ingress"]; }, expected: ["without a default-deny NetworkPolicy"] },
    { title: "selects only some pods", mutate: (s) => { denyAll(s).spec.podSelector = { matchLabels: { app: "x" } }; }, expected: ["without a default-deny NetworkPolicy"] },
    { title: "allows some egress", mutate: (s) => { denyAll(s).spec.egress = [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }]; }, expected: ["without a default-deny NetworkPolicy"] },
    { title: "empty rule lists still deny everything", mutate: (s) => { denyAll(s).spec.ingress = []; denyAll(s).spec.egress = []; }, expected: [] },
    { title: "empty matchLabels still select every pod", mutate: (s) => { denyAll(s).spec.podSelector = { matchLabels: {} }; }, expected: [] },
    { title: "the policy in another namespace", mutate: (s) => { denyAll(s).metadata.namespace = "other"; }, expected: ["namespace shop runs 2 workload(s) without a default-deny"] },
]);
