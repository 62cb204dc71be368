// Workloads (Deployment, StatefulSet; the pod-spec rules also cover every other pod controller):
// the HA guide's deployment checklist (部署检查清单) — 多副本部署 (several replicas), Pod 反亲和性配置
// (pod anti-affinity), 健康检查配置 (health checks) — plus what makes a pod
// schedulable and safe under Pod Security "restricted".
import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { HA_MIN_REPLICAS, isMutableTag, MUTABLE_TAGS, parseImageReference, REPLICA_FLOORS, TOPOLOGY_KEYS } from "../facts";
import { has, Props, resourcePolicy, ResourcePolicyDef, schema, stackPolicy, unknownMessage } from "./common";
import { containersOf, HPA_TYPES, POD_WORKLOADS, PodTemplate, podTemplate, REPLICATED_WORKLOADS } from "./k8s";
import { displayName, StackModel } from "./model";
import { formatLabels, formatSelector, LabelSelector, selects } from "./selectors";

const { hostname: HOSTNAME_KEY, zone: ZONE_KEY, deprecatedZone: DEPRECATED_ZONE_KEY } = TOPOLOGY_KEYS;

export interface PodTemplatePolicyDef extends Omit<ResourcePolicyDef, "validate"> {
    validate(template: PodTemplate, args: ResourceValidationArgs, report: (message: string) => void, props: Props): void;
}

/** A resource policy over a workload's pod template: a workload without one is reported here, once. */
export function podTemplatePolicy(def: PodTemplatePolicyDef): ResourceValidationPolicy {
    const { validate, ...meta } = def;
    return resourcePolicy({
        ...meta,
        validate(props, args, report) {
            const template = podTemplate(args.type, props);
            if (!template) {
                report("has no pod template (spec.template).");
                return;
            }
            validate(template, args, report, props);
        },
    });
}

export const workloadMinReplicas = stackPolicy({
    name: "workload-min-replicas",
    description: `Every Deployment and StatefulSet runs at least \`minReplicas\` pods (${HA_MIN_REPLICAS}; ${REPLICA_FLOORS.prod} in prod), counting the `
        + "HorizontalPodAutoscaler that scales it (a Deployment with replicas 1 and an HPA with minReplicas 3 runs 3). "
        + "Fix: raise the HPA's minReplicas, or spec.replicas when no HPA scales the workload.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            minReplicas: schema.integer("Fewest pods a workload may run.", HA_MIN_REPLICAS, 1),
        },
    },
    validate(resources, args, report) {
        const { minReplicas } = args.getConfig<{ minReplicas: number }>();
        const model = new StackModel(resources);
        model.reportUnknown(report, [...REPLICATED_WORKLOADS, ...HPA_TYPES]);
        for (const w of model.workloads) {
            const floor = model.replicaFloor(w);
            if (!floor.ok) {
                report(unknownMessage(floor.unknown, displayName(w.resource)), w.resource.urn);
            } else if (floor.value.min < minReplicas) {
                report(`${w.kind} ${w.name ?? w.resource.name} runs as few as ${floor.value.min} pod(s) (${floor.value.source}); `
                    + `at least ${minReplicas} are required so that losing a node, a zone or a pod during a rollout `
                    + "does not take the service down.", w.resource.urn);
            }
        }
    },
});

/** Does a pod-affinity term apply to the pod's own namespace? (namespaces / namespaceSelector) */
function termCoversOwnNamespace(term: Props, namespace: string | undefined): boolean {
    const namespaces = term.namespaces;
    if (Array.isArray(namespaces) && namespaces.length > 0 && !has(term, "namespaceSelector")) {
        return namespace === undefined || namespaces.includes(namespace);
    }
    return true;
}

export const workloadHostnameAntiAffinity = podTemplatePolicy({
    name: "workload-hostname-anti-affinity",
    description: "Replicas must not share a node: the pod spec needs a podAntiAffinity term (required or preferred) "
        + `with topologyKey ${HOSTNAME_KEY} whose labelSelector selects the pods' own labels. Fix: add `
        + "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution (or required…, if every replica "
        + "always has a node of its own) with the pod labels as matchLabels.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: REPLICATED_WORKLOADS,
    validate(template, _args, report, props) {
        const anti = template.spec.affinity?.podAntiAffinity ?? {};
        const required: Props[] = Array.isArray(anti.requiredDuringSchedulingIgnoredDuringExecution)
            ? anti.requiredDuringSchedulingIgnoredDuringExecution : [];
        const preferred: Props[] = Array.isArray(anti.preferredDuringSchedulingIgnoredDuringExecution)
            ? anti.preferredDuringSchedulingIgnoredDuringExecution.map((p: Props) => p?.podAffinityTerm ?? {}) : [];
        const hostnameTerms = [...required, ...preferred].filter((t) => t?.topologyKey === HOSTNAME_KEY);
        if (hostnameTerms.length === 0) {
            report(`has no pod anti-affinity on ${HOSTNAME_KEY}: the scheduler may put every replica on one node, `
                + "and that node's drain or failure takes them all down.");
            return;
        }
        const namespace = props.metadata?.namespace;
        const effective = hostnameTerms.filter((t) => selects(t.labelSelector, template.labels) && termCoversOwnNamespace(t, namespace));
        if (effective.length === 0) {
            const selectors = hostnameTerms.map((t) => formatSelector(t.labelSelector as LabelSelector)).join("; ");
            report(`its ${HOSTNAME_KEY} anti-affinity term(s) (labelSelector ${selectors}) do not select the pods' own labels `
                + `(${formatLabels(template.labels)}), so replicas are not kept apart.`);
        }
    },
});

export const workloadZoneSpread = podTemplatePolicy({
    name: "workload-zone-spread",
    description: `Replicas are spread across zones: the pod spec needs a topologySpreadConstraint on ${ZONE_KEY} `
        + "with maxSkew ≤ `maxSkew` and a labelSelector that selects the pods' own labels (charts that drop "
        + "topologySpreadConstraints, or a selector that matches nothing, spread nothing). Fix: add "
        + `{ maxSkew: 1, topologyKey: "${ZONE_KEY}", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: <pod labels> } }.`,
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            maxSkew: schema.integer("Largest maxSkew accepted on the zone constraint.", 1, 1),
        },
    },
    types: REPLICATED_WORKLOADS,
    validate(template, args, report) {
        const { maxSkew } = args.getConfig<{ maxSkew: number }>();
        const constraints: Props[] = Array.isArray(template.spec.topologySpreadConstraints) ? template.spec.topologySpreadConstraints : [];
        const zone = constraints.filter((c) => c?.topologyKey === ZONE_KEY);
        if (zone.length === 0) {
            const deprecated = constraints.some((c) => c?.topologyKey === DEPRECATED_ZONE_KEY);
            report(`has no topologySpreadConstraint on ${ZONE_KEY}`
                + (deprecated ? ` (${DEPRECATED_ZONE_KEY} is deprecated and not set on current nodes)` : "")
                + ": all replicas may land in one zone and go down with it.");
            return;
        }
        const selecting = zone.filter((c) => selects(c.labelSelector, template.labels));
        if (selecting.length === 0) {
            report(`its ${ZONE_KEY} spread constraint's labelSelector (${zone.map((c) => formatSelector(c.labelSelector)).join("; ")}) `
                + `does not select the pods' own labels (${formatLabels(template.labels)}), so it counts no pods and spreads nothing.`);
            return;
        }
        if (!selecting.some((c) => typeof c.maxSkew === "number" && c.maxSkew >= 1 && c.maxSkew <= maxSkew)) {
            report(`its ${ZONE_KEY} spread constraint has maxSkew ${selecting.map((c) => c.maxSkew).join(", ")}; at most ${maxSkew} is allowed.`);
        }
    },
});

/**
 * A probe's check (what it asks), without its timing: two probes with equal `key`s ask the same
 * question; `text` says it in words ("httpGet /login on port 8080").
 */
function probeCheck(probe: Props, container: Props): { key: string; text: string } | undefined {
    const port = (p: unknown) => {
        if (typeof p === "string" && Array.isArray(container.ports)) {
            const named = container.ports.find((cp: Props) => cp?.name === p);
            return named?.containerPort ?? p;
        }
        return p;
    };
    const on = (p: unknown, host: unknown) => `port ${port(p)}${host ? ` of host ${host}` : ""}`;
    if (probe.httpGet) {
        const h = probe.httpGet;
        const scheme = String(h.scheme ?? "HTTP").toUpperCase();
        const headers = Array.isArray(h.httpHeaders) && h.httpHeaders.length > 0 ? ` with headers ${h.httpHeaders.map((x: Props) => x?.name).join(", ")}` : "";
        return {
            key: JSON.stringify(["http", h.path ?? "/", port(h.port), h.host ?? "", scheme, h.httpHeaders ?? []]),
            text: `${scheme === "HTTPS" ? "HTTPS " : ""}httpGet ${h.path ?? "/"} on ${on(h.port, h.host)}${headers}`,
        };
    }
    if (probe.tcpSocket) {
        return { key: JSON.stringify(["tcp", port(probe.tcpSocket.port), probe.tcpSocket.host ?? ""]), text: `tcpSocket on ${on(probe.tcpSocket.port, probe.tcpSocket.host)}` };
    }
    if (probe.exec) {
        const command: unknown[] = Array.isArray(probe.exec.command) ? probe.exec.command : [];
        return { key: JSON.stringify(["exec", command]), text: `exec "${command.join(" ")}"` };
    }
    if (probe.grpc) {
        return { key: JSON.stringify(["grpc", probe.grpc.port, probe.grpc.service ?? ""]), text: `grpc on port ${probe.grpc.port}${probe.grpc.service ? ` (service ${probe.grpc.service})` : ""}` };
    }
    return undefined;
}

export const workloadProbes = podTemplatePolicy({
    name: "workload-probes",
    description: "Every container has both a livenessProbe and a readinessProbe, and they check different things "
        + "(different endpoint, port or command; timings do not count). Liveness answers \"is the process wedged? "
        + "restart it\", readiness \"may it take traffic now?\"; when they are the same check, a slow dependency "
        + "restarts every replica at once. Fix: point liveness at a cheap \"process is alive\" endpoint and readiness "
        + "at one that also checks what serving needs.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: REPLICATED_WORKLOADS,
    validate(template, _args, report) {
        const containers = containersOf(template.spec, { init: false });
        if (containers.length === 0) {
            report("has no containers.");
        }
        for (const { where, container } of containers) {
            const liveness = container.livenessProbe;
            const readiness = container.readinessProbe;
            const missing = [!liveness && "livenessProbe", !readiness && "readinessProbe"].filter(Boolean);
            if (missing.length > 0) {
                report(`${where} has no ${missing.join(" and no ")}.`);
                continue;
            }
            const live = probeCheck(liveness, container);
            const ready = probeCheck(readiness, container);
            if (live === undefined || ready === undefined) {
                report(`${where} has a ${live === undefined ? "livenessProbe" : "readinessProbe"} without a check (httpGet, tcpSocket, exec or grpc).`);
            } else if (live.key === ready.key) {
                report(`${where} has identical liveness and readiness checks (both ${live.text}): readiness failing would also restart the container.`);
            }
        }
    },
});

export const workloadResources = podTemplatePolicy({
    name: "workload-resources",
    description: "Every container and init container sets resources.requests and resources.limits for each of "
        + "`resources` (cpu and memory): requests make scheduling, quotas and HPA utilization work; limits keep one "
        + "pod from starving its node. Fix: set requests and limits on every container, init containers included.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: {
        properties: {
            resources: schema.stringList("Resources every container must request and limit.", ["cpu", "memory"]),
        },
    },
    types: POD_WORKLOADS,
    validate(template, args, report) {
        const { resources } = args.getConfig<{ resources: string[] }>();
        for (const { where, container } of containersOf(template.spec)) {
            const missing: string[] = [];
            for (const kind of ["requests", "limits"]) {
                for (const resource of resources) {
                    const value = container.resources?.[kind]?.[resource];
                    if (value === undefined || value === null || value === "") {
                        missing.push(`${kind}.${resource}`);
                    }
                }
            }
            if (missing.length > 0) {
                report(`${where} has no resources.${missing.join(", resources.")}.`);
            }
        }
    },
});

const SECCOMP_OK = ["RuntimeDefault", "Localhost"];

export const workloadSecurityContext = podTemplatePolicy({
    name: "workload-security-context",
    description: "Pods meet Pod Security \"restricted\": every container (init containers too) runs as non-root "
        + "(runAsNonRoot true, no runAsUser 0), allowPrivilegeEscalation false, not privileged, capabilities drop "
        + "[\"ALL\"] and add nothing beyond `allowedCapabilities` (NET_BIND_SERVICE), seccompProfile RuntimeDefault or "
        + "Localhost (pod or container level); the pod uses no hostNetwork, hostPID, hostIPC or hostPath volumes. "
        + "Fix: set these in the pod and container securityContext; a restricted namespace rejects the pods otherwise.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            allowedCapabilities: schema.stringList("Capabilities a container may add.", ["NET_BIND_SERVICE"]),
        },
    },
    types: POD_WORKLOADS,
    validate(template, args, report) {
        const { allowedCapabilities } = args.getConfig<{ allowedCapabilities: string[] }>();
        const pod = template.spec;
        for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (pod[field] === true) {
                report(`the pod sets ${field}: true; it shares the node's ${field.slice(4)} namespace.`);
            }
        }
        for (const volume of Array.isArray(pod.volumes) ? pod.volumes : []) {
            if (volume?.hostPath) {
                report(`the pod mounts hostPath volume "${volume.name}" (${volume.hostPath.path}); use an emptyDir, ConfigMap, Secret or PVC.`);
            }
        }
        const podSc: Props = pod.securityContext ?? {};
        for (const { where, container } of containersOf(pod)) {
            const sc: Props = container.securityContext ?? {};
            const problems: string[] = [];
            if (sc.privileged === true) {
                problems.push("privileged: true");
            }
            if (sc.allowPrivilegeEscalation !== false) {
                problems.push("allowPrivilegeEscalation is not false");
            }
            const runAsNonRoot = has(sc, "runAsNonRoot") ? sc.runAsNonRoot : podSc.runAsNonRoot;
            if (runAsNonRoot !== true) {
                problems.push("runAsNonRoot is not true (container or pod)");
            }
            const runAsUser = has(sc, "runAsUser") ? sc.runAsUser : podSc.runAsUser;
            if (runAsUser === 0) {
                problems.push("runAsUser is 0 (root)");
            }
            const drop: unknown[] = Array.isArray(sc.capabilities?.drop) ? sc.capabilities.drop : [];
            if (!drop.includes("ALL")) {
                problems.push("capabilities.drop does not include \"ALL\"");
            }
            const add: unknown[] = Array.isArray(sc.capabilities?.add) ? sc.capabilities.add : [];
            const extra = add.filter((c) => !allowedCapabilities.includes(String(c)));
            if (extra.length > 0) {
                problems.push(`capabilities.add has ${extra.join(", ")} (allowed: ${allowedCapabilities.join(", ") || "none"})`);
            }
            const seccomp = has(sc, "seccompProfile") ? sc.seccompProfile?.type : podSc.seccompProfile?.type;
            if (!SECCOMP_OK.includes(seccomp)) {
                problems.push(`seccompProfile.type is ${seccomp ?? "unset"} (container or pod; allowed: ${SECCOMP_OK.join(", ")})`);
            }
            if (problems.length > 0) {
                report(`${where}: ${problems.join("; ")}.`);
            }
        }
    },
});

export const workloadImmutableImage = podTemplatePolicy({
    name: "workload-immutable-image",
    description: "Every container image is pinned: by digest (repo@sha256:…) or by a version tag, never untagged "
        + "(means :latest) or a floating tag from `mutableTags` (latest, stable, main, …). A floating tag makes "
        + "replicas run different code after a node replacement and makes rollbacks meaningless. Fix: use an "
        + "immutable version tag such as :v1.0.0, or a digest.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: {
        properties: {
            mutableTags: schema.stringList("Tags treated as floating (compared case-insensitively).", [...MUTABLE_TAGS]),
            requireDigest: { type: "boolean", default: false, description: "Accept only digests, no tags at all." },
        },
    },
    types: POD_WORKLOADS,
    validate(template, args, report) {
        const { mutableTags, requireDigest } = args.getConfig<{ mutableTags: string[]; requireDigest: boolean }>();
        for (const { where, container } of containersOf(template.spec)) {
            const image = container.image;
            if (typeof image !== "string" || image.trim() === "") {
                report(`${where} has no image.`);
                continue;
            }
            const { tag, digest } = parseImageReference(image);
            if (digest !== undefined) {
                continue;
            }
            if (tag === "") {
                report(`${where} image "${image}" has no tag (it means :latest); pin a version tag or a digest.`);
            } else if (isMutableTag(tag, mutableTags)) {
                report(`${where} image "${image}" uses the floating tag :${tag}; pin a version tag or a digest.`);
            } else if (requireDigest) {
                report(`${where} image "${image}" is pinned by tag only; this environment requires a digest (repo@sha256:…).`);
            }
        }
    },
});

export const workloadPolicies = [
    workloadMinReplicas,
    workloadHostnameAntiAffinity,
    workloadZoneSpread,
    workloadProbes,
    workloadResources,
    workloadSecurityContext,
    workloadImmutableImage,
];
