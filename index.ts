// Composition only: read the validated config, wire the components together, export what an
// operator needs next. Logic lives in config/ and components/.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BACKEND, FRONTEND } from "./app/kubepolaris";
import { loadConfig, secretSetting, TIER_PROFILES, WorkloadConfig } from "./config";
import { AdminPassword, ADMIN_JOB_RESOURCES } from "./components/adminPassword";
import { AlertRules } from "./components/alerts/alertRules";
import { alertRuleParams } from "./components/alerts/params";
import { BACKUP_JOB_RESOURCES, DatabaseBackups } from "./components/database/backups";
import { credentialsSecretName, databaseEnv, databasePeer } from "./components/database/connection";
import { GaleraCluster } from "./components/database/galeraCluster";
import { InClusterMysql, MYSQL_USER } from "./components/database/inClusterMysql";
import { MultiAzMysql } from "./components/database/multiAzMysql";
import { Edge } from "./components/edge";
import { EdgeController } from "./components/edgeController";
import { FrontendNginxConfig, frontendNginxCommand, frontendPreStopCommand, NGINX_CONF_DIR } from "./components/frontendNginx";
import { HaWorkload } from "./components/haWorkload";
import { ImageMirror } from "./components/imageMirror";
import { maxPodsDuringRollout } from "./components/rollout";
import { WAIVERS } from "./components/checkerWaivers";
import { commonLabels, componentName, podLabels } from "./components/labels";
import { NamespaceBaseline } from "./components/namespaceBaseline";
import { WEBSOCKET_IDLE_TIMEOUT_SECONDS } from "./components/proxyTimeouts";
import { backendProbes, frontendProbes } from "./components/probes";
import { SharedSecret } from "./components/sharedSecret";

const config = loadConfig();
const { release } = config;
const labels = commonLabels(release, config.environment);

const awsTags = { Project: "kubepolaris", Environment: config.environment, Stack: config.stack, ManagedBy: "pulumi" };

// The stack's own registry (cloud stacks): the workloads run digests from it (config/images.ts).
const mirrorConfig = config.imageMirror;
const imageMirror = mirrorConfig && new ImageMirror("images", {
    account: mirrorConfig.account,
    region: mirrorConfig.region,
    repositories: mirrorConfig.images.map((image) => image.repository),
    keepVersions: mirrorConfig.keepVersions,
    replicaRegion: mirrorConfig.replicaRegion,
    tags: awsTags,
});

const provider = new k8s.Provider("kubernetes", {
    renderYamlToDirectory: config.kubernetes.renderYamlToDirectory,
    context: config.kubernetes.context,
});
const opts = { provider };

/**
 * A stateless component's worst case for the namespace quota: its HPA maximum plus a rollout's
 * surge, each pod at the largest size of any tier (a size tier change rolls one size into another).
 */
const quotaWorkload = (component: "backend" | "frontend") => ({
    name: component,
    maxPods: maxPodsDuringRollout(config[component].maxReplicas),
    resources: config[component].resources,
    rolloutFrom: Object.values(TIER_PROFILES).map((profile) => profile[component].resources),
});

const baseline = new NamespaceBaseline("kubepolaris", {
    namespace: config.namespace,
    labels,
    workloads: [
        quotaWorkload("backend"),
        quotaWorkload("frontend"),
        // The Galera members (or the one MySQL pod); a StatefulSet replaces them without surging.
        ...(config.database.inCluster ? [{ name: "mysql", maxPods: config.database.inCluster.members, resources: config.database.inCluster.resources }] : []),
        // A scheduled dump and an operator's `npm run db:*` Job at once.
        ...(config.database.inCluster ? [{ name: "mysql-backup", maxPods: 2, resources: BACKUP_JOB_RESOURCES }] : []),
        { name: "admin-password", maxPods: 1, resources: ADMIN_JOB_RESOURCES },
    ],
    backend: { labels: podLabels(release, "backend"), port: BACKEND.port },
    frontend: { labels: podLabels(release, "frontend"), port: config.frontend.containerPort },
    // The frontend's nginx proxies /api/ and /ws/ to the backend; the Job replaces the admin password.
    backendClients: [
        { name: "frontend", labels: podLabels(release, "frontend") },
        { name: "admin-password", labels: podLabels(release, "admin-password") },
    ],
    ingressController: { namespace: config.edge.controllerNamespace, labels: config.edge.controllerLabels },
    policyEnforcer: config.network.policyEnforcer,
    database: databasePeer(release, { port: config.database.port, rdsSubnets: config.database.rds?.subnets }),
    // The in-cluster database's backups connect as the backend does (RDS keeps its own backups).
    databaseClients: config.database.inCluster ? [{ name: "backups", labels: podLabels(release, "mysql-backup") }] : [],
    apiServerEgress: { cidrs: config.network.apiServerEgressCidrs, ports: config.network.apiServerPorts },
    priorityClass: config.priorityClass,
    grafana: config.monitoring.grafana && { namespace: config.monitoring.grafana.namespace, port: config.monitoring.grafana.port },
}, opts);
const namespace = baseline.namespaceName;

const jwt = new SharedSecret("jwt", {
    namespace,
    secretName: `${release}-jwt`,
    key: "jwt-secret",
    labels,
    value: secretSetting(config, "jwtSecret"),
}, opts);

// The database: Multi-AZ RDS (dev, staging, prod) or in the namespace (local).
const rdsConfig = config.database.rds;
const inClusterConfig = config.database.inCluster;
const rdsDatabase = rdsConfig && new MultiAzMysql("database", {
    identifier: `${release}-${config.environment}`,
    engine: { version: rdsConfig.engineVersion, parameterGroupFamily: rdsConfig.parameterGroupFamily, lifecycleSupport: rdsConfig.engineLifecycleSupport },
    instance: {
        instanceClass: config.database.sizing.instanceClass,
        allocatedStorageGiB: config.database.sizing.allocatedStorageGiB,
        maxAllocatedStorageGiB: config.database.sizing.maxAllocatedStorageGiB,
        readReplicas: rdsConfig.readReplicas,
    },
    network: {
        vpcId: rdsConfig.vpcId,
        subnets: rdsConfig.subnets,
        primaryAz: rdsConfig.primaryAz,
        allowedSecurityGroupIds: rdsConfig.allowedSecurityGroupIds,
        allowedCidrs: rdsConfig.allowedCidrs,
    },
    backups: {
        retentionDays: rdsConfig.backupRetentionDays,
        window: rdsConfig.backupWindow,
        maintenanceWindow: rdsConfig.maintenanceWindow,
        deletionProtection: rdsConfig.deletionProtection,
        finalSnapshot: rdsConfig.finalSnapshot,
    },
    monitoring: {
        performanceInsightsRetentionDays: rdsConfig.performanceInsightsRetentionDays,
        intervalSeconds: rdsConfig.monitoringIntervalSeconds,
        logRetentionDays: rdsConfig.logRetentionDays,
        alarmTopicArn: rdsConfig.alarmTopicArn,
        alarmEmails: rdsConfig.alarmEmails,
    },
    kmsKeyArn: rdsConfig.kmsKeyArn,
    dr: rdsConfig.dr,
    databaseName: config.database.name,
    username: config.database.user,
    port: config.database.port,
    maxConnections: config.database.maxConnections,
    requireTls: config.database.requireTls,
    password: secretSetting(config, "databasePassword"),
    kubernetes: { namespace, secretName: credentialsSecretName(release), labels },
    tags: awsTags,
}, opts);
// In the cluster: a Galera cluster of `members` (3 by default), or one MySQL pod with members: 1.
const inClusterArgs = inClusterConfig && {
    release,
    namespace,
    labels,
    image: inClusterConfig.image,
    imagePullPolicy: config.imagePullPolicy,
    storageSize: inClusterConfig.storageSize,
    storageClassName: inClusterConfig.storageClassName,
    resources: inClusterConfig.resources,
    databaseName: config.database.name,
    username: config.database.user,
    port: config.database.port,
    clusterDomain: config.kubernetes.clusterDomain,
    maxConnections: config.database.maxConnections,
    // parseConfig refuses mode in-cluster without both secrets.
    password: secretSetting(config, "databasePassword")!,
    rootPassword: secretSetting(config, "databaseRootPassword")!,
    secretName: credentialsSecretName(release),
    priorityClassName: baseline.priorityClassName,
};
const inClusterDatabase = inClusterConfig && inClusterArgs && (inClusterConfig.members > 1
    ? new GaleraCluster("database", { ...inClusterArgs, members: inClusterConfig.members }, opts)
    : new InClusterMysql("database", { ...inClusterArgs, requireTls: config.database.requireTls }, opts));
const database = (rdsDatabase || inClusterDatabase)!.connection;
// Dumps of the in-cluster database on a schedule, restorable with `npm run db:restore` (docs/database.md).
const backups = inClusterConfig && new DatabaseBackups("database-backups", {
    release,
    namespace,
    labels,
    connection: database,
    image: inClusterConfig.image,
    imagePullPolicy: config.imagePullPolicy,
    runAs: MYSQL_USER,
    intervalMinutes: inClusterConfig.backups.intervalMinutes,
    retentionDays: inClusterConfig.backups.retentionDays,
    storageSize: inClusterConfig.backups.storageSize,
    storageClassName: inClusterConfig.backups.storageClassName,
    priorityClassName: baseline.priorityClassName,
}, { ...opts, dependsOn: inClusterDatabase ? [inClusterDatabase] : [] });

/** A component's image, replica bounds, size and scheduling from the stack, as HaWorkload takes them. */
const workloadSettings = (settings: WorkloadConfig) => ({
    image: settings.image,
    imagePullPolicy: config.imagePullPolicy,
    minReplicas: settings.minReplicas,
    maxReplicas: settings.maxReplicas,
    resources: settings.resources,
    antiAffinity: settings.antiAffinity,
    targetCpuUtilization: settings.targetCpuUtilization,
    targetMemoryUtilization: settings.targetMemoryUtilization,
});

const backend = new HaWorkload("backend", {
    release,
    component: "backend",
    namespace,
    labels,
    ...workloadSettings(config.backend),
    containerPort: BACKEND.port,
    servicePort: BACKEND.port,
    ...backendProbes(config.probePaths.backend),
    runAs: { uid: BACKEND.uid, gid: BACKEND.gid },
    writablePaths: [...BACKEND.writablePaths],
    priorityClassName: baseline.priorityClassName,
    env: [
        { name: BACKEND.env.port, value: String(BACKEND.port) },
        { name: BACKEND.env.mode, value: config.serverMode },
        { name: BACKEND.env.jwtSecret, valueFrom: { secretKeyRef: { name: jwt.secretName, key: jwt.key } } },
        ...databaseEnv(database, {
            driver: BACKEND.env.dbDriver, host: BACKEND.env.dbHost, port: BACKEND.env.dbPort, database: BACKEND.env.dbName,
            username: BACKEND.env.dbUser, password: BACKEND.env.dbPassword, charset: BACKEND.env.dbCharset,
        }),
    ],
    // The server drains in-flight HTTP requests for 5 s after SIGTERM and exits (the app contract
    // test measures it: within 6 s). Go's Shutdown does not wait for hijacked connections, so open
    // WebSockets are closed when the process exits (clients reconnect through another pod): a
    // longer grace period keeps none of them alive. Twice the drain leaves room on a loaded node.
    shutdownSeconds: 2 * BACKEND.shutdownDrainSeconds,
    waivers: WAIVERS.backendSecretEnv,
}, opts);

// The frontend runs nginx with the program's configuration, never the image's (which names Services
// this program does not create and exits at start without them).
const FRONTEND_RUN_DIR = "/tmp";
const FRONTEND_CACHE_DIR = "/var/cache/nginx";
const frontendNginx = new FrontendNginxConfig("frontend-nginx", {
    name: `${componentName(release, "frontend")}-nginx`,
    namespace,
    labels,
    settings: {
        listenPort: config.frontend.containerPort,
        healthPath: config.probePaths.frontend.readiness,
        backend: `${componentName(release, "backend")}.${config.namespace}.svc:${BACKEND.port}`,
        webSocketIdleSeconds: WEBSOCKET_IDLE_TIMEOUT_SECONDS,
        runDir: FRONTEND_RUN_DIR,
        cacheDir: FRONTEND_CACHE_DIR,
        grafana: config.monitoring.grafana && { url: config.monitoring.grafana.url, resolver: config.monitoring.grafana.resolver },
    },
}, opts);

const frontend = new HaWorkload("frontend", {
    release,
    component: "frontend",
    namespace,
    labels,
    ...workloadSettings(config.frontend),
    containerPort: config.frontend.containerPort,
    servicePort: 80,
    ...frontendProbes(config.probePaths.frontend.readiness),
    runAs: { uid: FRONTEND.uid, gid: FRONTEND.gid },
    priorityClassName: baseline.priorityClassName,
    command: frontendNginxCommand(),
    configDirectory: { configMapName: frontendNginx.configMapName, mountPath: NGINX_CONF_DIR },
    preStopCommand: (sleepSeconds) => frontendPreStopCommand(sleepSeconds, FRONTEND_RUN_DIR),
    // The pid file, and request and proxy buffers nginx spills to disk, on a read-only root filesystem.
    writablePaths: [FRONTEND_RUN_DIR, FRONTEND_CACHE_DIR],
    // nginx resolved the backend Service once, at start: a new configuration or a new Service
    // address (the Service replaced) rolls the pods.
    podAnnotations: {
        "kubepolaris.io/nginx-config-sha256": frontendNginx.checksum,
        "kubepolaris.io/backend-cluster-ip": backend.serviceClusterIp.apply((ip) => ip ?? ""),
    },
}, { ...opts, dependsOn: [backend] });

const admin = new AdminPassword("admin", {
    release,
    namespace,
    labels,
    backendUrl: pulumi.interpolate`http://${backend.serviceName}.${namespace}.svc:${BACKEND.port}`,
    seeded: BACKEND.seededAdmin,
    api: BACKEND.api,
    image: config.backend.image,
    imagePullPolicy: config.imagePullPolicy,
    runAs: { uid: BACKEND.uid, gid: BACKEND.gid },
    password: secretSetting(config, "adminPassword"),
    priorityClassName: baseline.priorityClassName,
    // The backend must be up (the provider waits for the Deployment to be available).
}, { ...opts, dependsOn: [backend] });

// The edge controller, when the stack installs it rather than relying on the cluster's.
const edgeControllerConfig = config.edge.controller;
const edgeController = edgeControllerConfig && new EdgeController("edge-controller", {
    namespace: config.edge.controllerNamespace,
    labels,
    podLabels: config.edge.controllerLabels,
    image: edgeControllerConfig.image,
    imagePullPolicy: config.imagePullPolicy,
    replicas: edgeControllerConfig.replicas,
    resources: edgeControllerConfig.resources,
    egress: {
        routesTo: {
            namespace,
            pods: [
                { labels: podLabels(release, "frontend"), port: config.frontend.containerPort },
                { labels: podLabels(release, "backend"), port: BACKEND.port },
            ],
        },
        apiServer: edgeControllerConfig.apiServer,
    },
}, opts);

// The edge comes last: the NLB and the routes exist only once the Job has replaced the published
// admin password (the provider waits for a Job to complete, and fails the update if it fails).
const edge = new Edge("edge", {
    release,
    namespace,
    labels,
    host: config.host,
    anyHost: config.edge.anyHost,
    kind: config.edge.kind,
    className: config.edge.className,
    https: config.edge.https,
    tls: config.tls,
    frontend: { serviceName: frontend.serviceName, port: 80 },
    backend: { serviceName: backend.serviceName, port: BACKEND.port },
    loadBalancer: config.edge,
    // Rendering manifests to files has no cluster to read the GatewayClass/IngressClass from.
    verifyClass: config.kubernetes.renderYamlToDirectory === undefined,
}, { ...opts, dependsOn: edgeController ? [admin, edgeController] : [admin] });

// Alerts on metrics that exist (kube-state-metrics, cAdvisor, the edge controller, cert-manager): the
// backend serves no /metrics, so there is nothing of its own to scrape.
const alerts = new AlertRules("alerts", {
    release,
    namespace,
    labels,
    selectorLabels: config.monitoring.selectorLabels,
    rules: alertRuleParams({
        release,
        namespace: config.namespace,
        minReplicas: { backend: config.backend.minReplicas, frontend: config.frontend.minReplicas },
        tlsSecretName: config.tls.secretName,
        edge: { kind: config.edge.kind, metrics: config.monitoring.edgeMetrics },
        runbookBaseUrl: config.monitoring.runbookBaseUrl,
        replicatedDatabase: (config.database.inCluster?.members ?? 1) > 1,
        databaseBackupIntervalMinutes: config.database.inCluster?.backups.intervalMinutes,
    }),
}, opts);

export const url = edge.url;
export const environment = config.environment;
export const tier = config.tier;
export const namespaceName = namespace;
export const namespaceNetworkIsolation = baseline.networkIsolation;
export const backendDeployment = backend.deploymentName;
export const backendService = backend.serviceName;
export const frontendDeployment = frontend.deploymentName;
export const frontendService = frontend.serviceName;
export const edgeKind = config.edge.kind;
/** The HTTPRoute (gateway) or Ingress (ingress) carrying the app's paths. */
export const routeName = edge.routeName;
export const gatewayName = edge.gatewayName;
export const loadBalancerService = edge.loadBalancerServiceName;
export const loadBalancerHostname = edge.loadBalancerHostname;
export const jwtSecretName = jwt.secretName;
export const tlsSecretName = config.tls.secretName;
export const prometheusRuleName = alerts.prometheusRuleName;
export const adminUsername = admin.username;
/** Read it with `pulumi stack output adminPassword --show-secrets`. */
export const adminPassword = admin.password;
export const adminCredentialsSecret = admin.secretName;
export const alertNames = alerts.alertNames;
export const dnsRecord = `Point ${config.host} (CNAME/alias) at the loadBalancerHostname output`;
export const checkRollout = `kubectl -n ${config.namespace} rollout status deployment/${componentName(release, "backend")}`
    + ` && kubectl -n ${config.namespace} rollout status deployment/${componentName(release, "frontend")}`;

// The image mirror (cloud stacks; null on local): where `npm run images:mirror` copies to.
export const imageRepositories = imageMirror ? { urls: imageMirror.repositoryUrls, replicaUrls: imageMirror.replicaRepositoryUrls } : null;

// The database (no secret among these: the password stays in Secrets Manager and the Secret).
export const databaseMode = config.database.mode;
export const databaseWriterEndpoint = database.host;
export const databaseReaderEndpoints = rdsDatabase?.readerEndpoints ?? [];
export const databasePort = config.database.port;
export const databaseName = config.database.name;
export const databaseUser = config.database.user;
export const databaseCredentialsSecret = database.passwordSecret.name;
/** The in-cluster database's dumps (null on RDS stacks): `npm run db:backup`, `db:list`, `db:restore`. */
export const databaseBackups = backups ? {
    cronJob: backups.cronJobName,
    claim: backups.claimName,
    intervalMinutes: inClusterConfig!.backups.intervalMinutes,
    retentionDays: inClusterConfig!.backups.retentionDays,
} : null;
// RDS only (null on the local stack): what the failover and restore runbooks name.
export const databaseRds = rdsDatabase ? {
    instanceId: rdsDatabase.instanceIdentifier,
    replicaIds: rdsDatabase.replicaIdentifiers,
    secretArn: rdsDatabase.secretArn,
    kmsKeyArn: rdsDatabase.kmsKeyArn,
    securityGroupId: rdsDatabase.securityGroupId,
    subnetGroupName: rdsDatabase.subnetGroupName,
    parameterGroupName: rdsDatabase.parameterGroupName,
    alarmTopicArn: rdsDatabase.alarmTopicArn,
    drRegion: rdsConfig?.dr?.region,
    drBackupsArn: rdsDatabase.drBackupsArn,
    drReplicaIdentifier: rdsDatabase.drReplicaIdentifier,
} : null;
