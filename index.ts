// Composition only: read the validated config, wire the components together, export what an
// operator needs next. Logic lives in config.ts and components/.
import * as k8s from "@pulumi/kubernetes";
import { loadConfig, secretSetting } from "./config";
import { Edge } from "./components/edge";
import { HaWorkload } from "./components/haWorkload";
import { commonLabels, componentName, podLabels } from "./components/labels";
import { NamespaceBaseline } from "./components/namespaceBaseline";
import { backendProbes, frontendProbes, BACKEND_PORT } from "./components/probes";
import { SharedSecret } from "./components/sharedSecret";

const config = loadConfig();
const { release } = config;
const labels = commonLabels(release, config.environment);

const provider = new k8s.Provider("kubernetes", {
    renderYamlToDirectory: config.kubernetes.renderYamlToDirectory,
    context: config.kubernetes.context,
});
const opts = { provider };

const mysqlLabels = podLabels(release, "mysql");
const baseline = new NamespaceBaseline("kubepolaris", {
    namespace: config.namespace,
    labels,
    workloads: [
        { name: "backend", maxPods: config.backend.maxReplicas + 1, resources: config.backend.resources },
        { name: "frontend", maxPods: config.frontend.maxReplicas + 1, resources: config.frontend.resources },
    ],
    backend: { labels: podLabels(release, "backend"), port: BACKEND_PORT },
    frontend: { labels: podLabels(release, "frontend"), port: config.frontend.containerPort },
    ingressController: { namespace: config.edge.controllerNamespace, labels: config.edge.controllerLabels },
    prometheusNamespace: config.monitoring.prometheusNamespace,
    database: config.database.mode === "in-cluster"
        ? { kind: "pods", labels: mysqlLabels, port: config.database.port }
        : { kind: "cidrs", cidrs: ["0.0.0.0/0"], port: config.database.port },
    apiServerEgress: { cidrs: config.network.apiServerEgressCidrs, ports: config.network.apiServerPorts },
    priorityClass: config.priorityClass,
}, opts);
const namespace = baseline.namespaceName;

const jwt = new SharedSecret("jwt", {
    namespace,
    secretName: `${release}-jwt`,
    key: "jwt-secret",
    labels,
    value: secretSetting(config, "jwtSecret"),
}, opts);

const backend = new HaWorkload("backend", {
    release,
    component: "backend",
    namespace,
    labels,
    ...config.backend,
    containerPort: BACKEND_PORT,
    servicePort: BACKEND_PORT,
    ...backendProbes(),
    priorityClassName: baseline.priorityClassName,
    env: [
        { name: "SERVER_PORT", value: String(BACKEND_PORT) },
        { name: "SERVER_MODE", value: config.environment === "prod" ? "release" : "debug" },
        { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: jwt.secretName, key: jwt.key } } },
    ],
    // WebSocket sessions get a minute to close after the pod leaves the endpoints.
    shutdownSeconds: 60,
}, opts);

const frontend = new HaWorkload("frontend", {
    release,
    component: "frontend",
    namespace,
    labels,
    ...config.frontend,
    servicePort: 80,
    ...frontendProbes(config.frontend.containerPort),
    priorityClassName: baseline.priorityClassName,
    // nginx writes its pid and temp files here on a read-only root filesystem.
    writablePaths: ["/tmp", "/var/cache/nginx", "/var/run"],
}, opts);

const edge = new Edge("edge", {
    release,
    namespace,
    labels,
    host: config.host,
    tls: config.tls,
    frontend: { serviceName: frontend.serviceName, port: 80 },
    backend: { serviceName: backend.serviceName, port: BACKEND_PORT },
    edge: config.edge,
}, opts);

export const url = edge.url;
export const environment = config.environment;
export const tier = config.tier;
export const namespaceName = namespace;
export const backendDeployment = backend.deploymentName;
export const backendService = backend.serviceName;
export const frontendDeployment = frontend.deploymentName;
export const frontendService = frontend.serviceName;
export const ingressName = edge.ingressName;
export const loadBalancerService = edge.loadBalancerServiceName;
export const loadBalancerHostname = edge.loadBalancerHostname;
export const jwtSecretName = jwt.secretName;
export const tlsSecretName = config.tls.secretName;
export const dnsRecord = `Point ${config.host} (CNAME/alias) at the loadBalancerHostname output`;
export const checkRollout = `kubectl -n ${config.namespace} rollout status deployment/${componentName(release, "backend")}`
    + ` && kubectl -n ${config.namespace} rollout status deployment/${componentName(release, "frontend")}`;
