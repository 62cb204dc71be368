// Reachability under NetworkPolicies. A pod selected by a NetworkPolicy with policyType Ingress
// (e.g. a namespace's default-deny) accepts only what some policy selecting it allows; likewise
// for Egress. A default-deny with no allow rule for the edge controller turns every Ingress or
// HTTPRoute route into a timeout, and one without DNS or database egress breaks the backend, while each
// policy on its own is valid. Semantics as the NetworkPolicy API defines them: selectors with full
// label-selector semantics, the policy's own namespace, rules ORed, an empty `from`/`to`/`ports`
// allowing all, policyTypes defaulting to Ingress (plus Egress when egress rules are listed).
import type { PolicyResource } from "@pulumi/policy";
import { DEFAULT_EDGE_CONTROLLER } from "../facts";
import { tryRead, Props, stackPolicy, unknownMessage } from "./common";
import { containersOf, DeclaredPort, namespaceOf, nameOf, POD_WORKLOADS, TYPES } from "./k8s";
import { displayName, StackModel, WorkloadRef } from "./model";
import { LabelSelector, Labels, selects } from "./selectors";
import { backendTarget, readRouteBackends, readServices, selectedWorkloads, targetPortIn } from "./services";

interface NetworkPolicyRef {
    resource: PolicyResource;
    namespace: string;
    podSelector: LabelSelector;
    types: string[];
    ingress: Props[];
    egress: Props[];
}

/** The readable NetworkPolicies, and the namespaces holding one that is unknown during preview. */
function readNetworkPolicies(resources: PolicyResource[], report: (m: string, urn?: string) => void): { policies: NetworkPolicyRef[]; uncertain: Set<string> } {
    const out: NetworkPolicyRef[] = [];
    const uncertain = new Set<string>();
    for (const r of resources.filter((x) => x.type === TYPES.networkPolicy)) {
        const read = tryRead((): NetworkPolicyRef => {
            const spec: Props = r.props.spec ?? {};
            // Read every rule now, so an unknown field is found here rather than mid-decision.
            JSON.stringify([spec.podSelector, spec.policyTypes, spec.ingress, spec.egress]);
            const egress: Props[] = Array.isArray(spec.egress) ? spec.egress : [];
            const types: string[] = Array.isArray(spec.policyTypes) && spec.policyTypes.length > 0
                ? spec.policyTypes : ["Ingress", ...(egress.length > 0 ? ["Egress"] : [])];
            return {
                resource: r,
                namespace: namespaceOf(r.props, r.provider),
                podSelector: spec.podSelector ?? {},
                types,
                ingress: Array.isArray(spec.ingress) ? spec.ingress : [],
                egress,
            };
        });
        if (read.ok) {
            out.push(read.value);
        } else {
            report(unknownMessage(read.unknown, displayName(r)), r.urn);
            const ns = tryRead(() => namespaceOf(r.props, r.provider));
            uncertain.add(ns.ok ? ns.value : "*");
        }
    }
    return { policies: out, uncertain };
}

/** Policies that select the workload's pods for `type` (the pods are isolated for it when there is any). */
function governing(policies: NetworkPolicyRef[], w: WorkloadRef, type: "Ingress" | "Egress"): NetworkPolicyRef[] {
    return policies.filter((p) => p.namespace === w.namespace && p.types.includes(type) && selects(p.podSelector, w.podLabels));
}

/** Does a rule's `ports` list admit the port (by number, range or name; protocol TCP unless stated)? */
function portsAdmit(ports: unknown, port: { number: number; name?: string; protocol: string }): boolean {
    if (!Array.isArray(ports) || ports.length === 0) {
        return true;
    }
    return ports.some((p: Props) => {
        if ((p?.protocol ?? "TCP") !== port.protocol) {
            return false;
        }
        if (p.port === undefined || p.port === null) {
            return true;
        }
        if (typeof p.port === "string" && !/^\d+$/.test(p.port)) {
            return p.port === port.name;
        }
        const from = Number(p.port);
        const to = typeof p.endPort === "number" ? p.endPort : from;
        return port.number >= from && port.number <= to;
    });
}

const ALL_ADDRESSES = ["0.0.0.0/0", "::/0"];

export interface ControllerIdentity {
    namespace: string;
    namespaceLabels: Labels;
    podLabels: Labels;
}

/** Does one `from` peer of a policy in `policyNamespace` admit the ingress controller's pods? */
function peerAdmits(peer: Props, policyNamespace: string, controller: ControllerIdentity): boolean {
    if (peer?.ipBlock) {
        return ALL_ADDRESSES.includes(peer.ipBlock.cidr) && !(Array.isArray(peer.ipBlock.except) && peer.ipBlock.except.length > 0);
    }
    const namespaceOk = peer?.namespaceSelector
        ? selects(peer.namespaceSelector, controller.namespaceLabels)
        : policyNamespace === controller.namespace;
    const podsOk = peer?.podSelector ? selects(peer.podSelector, controller.podLabels) : true;
    return namespaceOk && podsOk;
}

function ingressAllowed(policies: NetworkPolicyRef[], controller: ControllerIdentity, port: DeclaredPort): boolean {
    return policies.some((p) => p.ingress.some((rule) => {
        const from: Props[] = Array.isArray(rule?.from) ? rule.from : [];
        const sourceOk = from.length === 0 || from.some((peer) => peerAdmits(peer, p.namespace, controller));
        return sourceOk && portsAdmit(rule?.ports, { number: port.containerPort, name: port.name, protocol: port.protocol });
    }));
}

function egressAllowed(policies: NetworkPolicyRef[], port: number, protocol: string): boolean {
    return policies.some((p) => p.egress.some((rule) => portsAdmit(rule?.ports, { number: port, protocol })));
}

/** Env vars that name a database port ("DB_PORT", "MYSQL_PORT", "PGPORT", ...), with a literal number. */
export const DATABASE_PORT_VARIABLE = /^(?:.*_)?(?:DB|DATABASE|MYSQL|MARIADB|POSTGRES|POSTGRESQL|PG|REDIS|MONGO|MONGODB)_?PORT$/i;

function databasePorts(w: WorkloadRef): { variable: string; port: number }[] {
    return containersOf(w.podSpec).flatMap(({ container }) => (Array.isArray(container.env) ? container.env : [])
        .filter((e: Props) => typeof e?.name === "string" && DATABASE_PORT_VARIABLE.test(e.name) && /^\d+$/.test(String(e.value ?? "")))
        .map((e: Props) => ({ variable: e.name, port: Number(e.value) })));
}

/** The labels a Namespace of the stack gives `name` (none when the stack does not define it, or they are unknown). */
function namespaceLabels(resources: PolicyResource[], name: string): Labels {
    for (const r of resources.filter((x) => x.type === TYPES.namespace)) {
        const labels = tryRead(() => (nameOf(r.props) === name ? { ...(r.props.metadata?.labels ?? {}) } : undefined));
        if (labels.ok && labels.value) {
            return labels.value;
        }
    }
    return {};
}

interface ReachabilityConfig {
    ingressControllerNamespace: string;
    ingressControllerPodLabels: Labels;
    requireDns: boolean;
}

export const networkPolicyReachability = stackPolicy({
    name: "network-policy-reachability",
    description: "Where NetworkPolicies isolate pods (a default-deny, or any policy selecting them), the traffic they "
        + "need is still allowed: (1) some policy selecting the pods behind every Service an Ingress or HTTPRoute routes "
        + "to admits the edge controller's pods (namespace `ingressControllerNamespace`, pod labels "
        + "`ingressControllerPodLabels`; Traefik as its chart installs it by default) on the Service's target port; (2) pods isolated for egress may send DNS "
        + "(UDP 53) when `requireDns`; (3) pods whose env names a database port (DB_PORT, MYSQL_PORT, PGPORT, … with "
        + "a number) may send to that port. Fix: add a NetworkPolicy selecting those pods with an ingress rule from "
        + "the controller's namespace (namespaceSelector kubernetes.io/metadata.name) and pods on the container "
        + "port, and egress rules for UDP/TCP 53 and the database port.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            ingressControllerNamespace: {
                type: "string", default: DEFAULT_EDGE_CONTROLLER.namespace,
                description: "Namespace of the edge (Gateway API or Ingress) controller's pods.",
            },
            ingressControllerPodLabels: {
                type: "object",
                additionalProperties: { type: "string" },
                default: { ...DEFAULT_EDGE_CONTROLLER.labels },
                description: "Labels of the edge controller's pods (Traefik's Helm chart's by default; ingress-nginx's chart labels "
                    + "app.kubernetes.io/name=ingress-nginx, component=controller in namespace ingress-nginx).",
            },
            requireDns: { type: "boolean", default: true, description: "Pods isolated for egress must be allowed DNS (UDP 53)." },
        },
    },
    validate(resources, args, report) {
        const config = args.getConfig<ReachabilityConfig>();
        const model = new StackModel(resources, POD_WORKLOADS);
        model.reportUnknown(report, POD_WORKLOADS);
        const { policies, uncertain } = readNetworkPolicies(resources, report);
        // A policy we could not read may allow what looks blocked: do not claim it is (reported above).
        const decidable = (w: WorkloadRef) => !uncertain.has(w.namespace) && !uncertain.has("*");
        const services = readServices(resources, report);
        const controller: ControllerIdentity = {
            namespace: config.ingressControllerNamespace,
            namespaceLabels: { ...namespaceLabels(resources, config.ingressControllerNamespace), "kubernetes.io/metadata.name": config.ingressControllerNamespace },
            podLabels: config.ingressControllerPodLabels,
        };
        const name = (w: WorkloadRef) => `${w.kind} ${w.name ?? w.resource.name}`;
        const reported = new Set<string>();
        for (const b of readRouteBackends(resources, report)) {
            const { service, port } = backendTarget(b, services);
            if (!service || !port) {
                continue; // ingress-backends-exist, httproute-backends-exist
            }
            for (const w of selectedWorkloads(service, model.workloads)) {
                const isolating = governing(policies, w, "Ingress");
                const target = targetPortIn(port.targetPort, w);
                const key = `${w.resource.urn}|${target?.containerPort}`;
                if (isolating.length === 0 || !target || reported.has(key) || !decidable(w)) {
                    continue; // not isolated; or service-routes-to-pods reports the port
                }
                if (!ingressAllowed(isolating, controller, target)) {
                    reported.add(key);
                    report(`${name(w)} serves ${b.route.kind} ${b.route.name} (Service ${b.service}, container port `
                        + `${target.name ? `${target.name}:` : ""}${target.containerPort}) but its NetworkPolicies `
                        + `(${isolating.map((p) => p.resource.props.metadata?.name ?? p.resource.name).join(", ")}) admit no traffic from the `
                        + `edge controller (namespace ${controller.namespace}) on that port: every request through the ${b.route.kind} times out.`,
                    w.resource.urn);
                }
            }
        }
        for (const w of model.workloads) {
            const isolating = governing(policies, w, "Egress");
            if (isolating.length === 0 || !decidable(w)) {
                continue;
            }
            if (config.requireDns && !egressAllowed(isolating, 53, "UDP")) {
                report(`${name(w)} is isolated for egress by NetworkPolicy ${isolating.map((p) => p.resource.props.metadata?.name ?? p.resource.name).join(", ")} `
                    + "and no policy allows DNS (UDP 53): it cannot resolve any name.", w.resource.urn);
            }
            for (const db of databasePorts(w)) {
                if (!egressAllowed(isolating, db.port, "TCP")) {
                    report(`${name(w)} connects to its database on port ${db.port} (${db.variable}) but its NetworkPolicies allow no egress `
                        + "to that port: every database connection times out.", w.resource.urn);
                }
            }
        }
    },
});

export const reachabilityPolicies = [networkPolicyReachability];
