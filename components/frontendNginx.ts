// The frontend's nginx configuration, owned by the program and mounted from a ConfigMap. The image's
// own file proxies to fixed names that nginx resolves at start (`kubepolaris-backend`, `grafana`), so
// on a stack without a Service called `grafana` every frontend pod exits at start and restarts for
// ever. This one names only what the stack creates or configures:
//   - the backend Service is resolved once, at start: the program creates it in the same namespace,
//     the frontend Deployment depends on it (it exists before any frontend pod starts), and its
//     ClusterIP is fixed for the Service's life; the pods roll when that address changes (the
//     Service replaced), so nginx never keeps a stale address;
//   - Grafana is optional and not the program's: when the stack names one, it is resolved at
//     request time (a `resolver` and a variable), so a Grafana that is missing, late or moved gives
//     its own requests a 502 and never stops the UI; when the stack names none, `/grafana/` answers
//     a plain 404 that says so.
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FRONTEND } from "../app/kubepolaris";

/** A Grafana the UI embeds panels from (an in-cluster Service; see config `monitoring.grafana`). */
export interface GrafanaUpstream {
    /** `http://<service>.<namespace>.svc.<cluster domain>:<port>`: a fully qualified name (the resolver applies no search list). */
    url: string;
    /** The DNS server nginx asks at request time; resolved once at start, so a name of the cluster's DNS Service works. */
    resolver: string;
}

export interface FrontendNginxSettings {
    /** The port nginx listens on (the container port named "http"). */
    listenPort: number;
    /** The path nginx answers itself, for the readiness probe. */
    healthPath: string;
    /** The backend Service, `host:port`, resolved at start. */
    backend: string;
    /** Seconds an idle WebSocket (and a long API call) may stay open through the proxy. */
    webSocketIdleSeconds: number;
    /** The writable directory (an emptyDir) for the pid file. */
    runDir: string;
    /** The writable directory (an emptyDir) for request and proxy buffers spilled to disk. */
    cacheDir: string;
    /** Route `/grafana/` to this Grafana; undefined answers it with a 404. */
    grafana?: GrafanaUpstream;
}

/** The file name in the ConfigMap and in the mounted directory. */
export const NGINX_CONF_FILE = "nginx.conf";
/** Where the ConfigMap is mounted in the frontend container (a directory: no subPath, read-only). */
export const NGINX_CONF_DIR = "/etc/kubepolaris-frontend";
/** The configuration the container starts nginx with. */
export const NGINX_CONF_PATH = `${NGINX_CONF_DIR}/${NGINX_CONF_FILE}`;

/** Headers every answer carries (repeated in each location that adds its own: nginx does not merge add_header). */
const SECURITY_HEADERS = [
    `add_header X-Frame-Options "SAMEORIGIN" always;`,
    `add_header X-Content-Type-Options "nosniff" always;`,
    `add_header Referrer-Policy "strict-origin-when-cross-origin" always;`,
];

/** The headers a proxied request carries to any upstream. */
const FORWARDED_HEADERS = [
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
];

function block(header: string, lines: string[], indent: string): string[] {
    return [`${indent}${header} {`, ...lines.map((l) => (l === "" ? "" : `${indent}    ${l}`)), `${indent}}`];
}

function grafanaLocation(settings: FrontendNginxSettings): string[] {
    const grafana = settings.grafana;
    if (!grafana) {
        return [
            "default_type text/plain;",
            `return 404 "Grafana is not configured for this KubePolaris (stack setting kubepolaris:monitoring.grafana)\\n";`,
        ];
    }
    return [
        // A variable in proxy_pass makes nginx resolve the name per request, with this resolver.
        `resolver ${grafana.resolver} valid=30s ipv6=off;`,
        "resolver_timeout 5s;",
        `set $grafana_upstream ${grafana.url};`,
        "proxy_pass $grafana_upstream;",
        "proxy_http_version 1.1;",
        ...FORWARDED_HEADERS,
        "proxy_set_header X-Forwarded-Host $host;",
        // Grafana Live uses WebSockets.
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_connect_timeout 5s;",
        "proxy_read_timeout 60s;",
        // The UI embeds the panels in an iframe of its own origin.
        "proxy_hide_header X-Frame-Options;",
    ];
}

/** The whole nginx.conf for these settings: a pure function, so tests read exactly what pods run. */
export function renderFrontendNginxConf(settings: FrontendNginxSettings): string {
    const idle = `${settings.webSocketIdleSeconds}s`;
    const cache = settings.cacheDir;
    const server = [
        `listen ${settings.listenPort};`,
        "server_name _;",
        `root ${FRONTEND.siteRoot};`,
        "index index.html;",
        ...SECURITY_HEADERS,
        "",
        ...block(`location = ${settings.healthPath}`, ["access_log off;", "default_type text/plain;", `return 200 "ok\\n";`], ""),
        "",
        // The API: keep-alive connections to the backend (Connection cleared), a minute per call.
        ...block(`location ${FRONTEND.apiPrefix}`, [
            "proxy_pass http://kubepolaris_backend;",
            "proxy_http_version 1.1;",
            ...FORWARDED_HEADERS,
            `proxy_set_header Connection "";`,
            "proxy_connect_timeout 5s;",
            "proxy_send_timeout 60s;",
            "proxy_read_timeout 60s;",
        ], ""),
        "",
        // Log streams and terminals: upgrade the connection and let it idle as long as the edge does.
        ...block(`location ${FRONTEND.webSocketPrefix}`, [
            "proxy_pass http://kubepolaris_backend;",
            "proxy_http_version 1.1;",
            ...FORWARDED_HEADERS,
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $connection_upgrade;",
            "proxy_connect_timeout 5s;",
            `proxy_send_timeout ${idle};`,
            `proxy_read_timeout ${idle};`,
            "proxy_buffering off;",
        ], ""),
        "",
        ...block(`location ^~ ${FRONTEND.grafanaPrefix}`, grafanaLocation(settings), ""),
        "",
        // Hashed build assets never change under one name; index.html must always be fresh.
        ...block("location /assets/", ["expires 1y;", `add_header Cache-Control "public, immutable";`, ...SECURITY_HEADERS, "access_log off;"], ""),
        "",
        // The UI routes in the browser: every unknown path gets the app.
        ...block("location /", ["try_files $uri $uri/ /index.html;", `add_header Cache-Control "no-cache";`, ...SECURITY_HEADERS], ""),
    ];
    const http = [
        `include ${FRONTEND.mimeTypesPath};`,
        "default_type application/octet-stream;",
        "server_tokens off;",
        // The root filesystem is read-only: everything nginx may write goes to the mounted cache.
        `client_body_temp_path ${cache}/client_temp;`,
        `proxy_temp_path ${cache}/proxy_temp;`,
        `fastcgi_temp_path ${cache}/fastcgi_temp;`,
        `uwsgi_temp_path ${cache}/uwsgi_temp;`,
        `scgi_temp_path ${cache}/scgi_temp;`,
        `log_format main '$remote_addr "$request" $status $body_bytes_sent $request_time "$http_user_agent"';`,
        "access_log /dev/stdout main;",
        "sendfile on;",
        "tcp_nopush on;",
        "keepalive_timeout 65s;",
        "gzip on;",
        "gzip_vary on;",
        "gzip_proxied any;",
        "gzip_min_length 1000;",
        "gzip_types text/plain text/css application/json application/javascript text/javascript image/svg+xml;",
        "",
        ...block("map $http_upgrade $connection_upgrade", [`default upgrade;`, `'' close;`], ""),
        "",
        // Resolved once, when nginx starts (see the file's header for why that is safe here).
        ...block("upstream kubepolaris_backend", [`server ${settings.backend};`, "keepalive 16;"], ""),
        "",
        ...block("server", server, ""),
    ];
    return [
        "# Written by kubepolaris-ha (components/frontendNginx.ts); mounted read-only, do not edit in the pod.",
        "daemon off;",
        "worker_processes 2;",
        "error_log stderr warn;",
        `pid ${settings.runDir}/nginx.pid;`,
        "",
        ...block("events", ["worker_connections 1024;"], ""),
        "",
        ...block("http", http, ""),
        "",
    ].join("\n");
}

/**
 * The container's command: nginx with the program's configuration (never the image's), its
 * pre-configuration log on stderr (the default log path is on the read-only root).
 */
export function frontendNginxCommand(): string[] {
    return [FRONTEND.nginxBinary, "-c", NGINX_CONF_PATH, "-e", "stderr"];
}

/**
 * The preStop hook: wait while the endpoints controller and the edge stop sending new requests,
 * then ask nginx to stop gracefully (SIGQUIT: stop accepting, finish every request in flight) and
 * wait until it has. nginx treats SIGTERM, which the kubelet sends next, as a fast shutdown that
 * cuts requests in flight; by then nothing is left to cut.
 */
export function frontendPreStopCommand(sleepSeconds: number, runDir: string): string[] {
    return ["/bin/sh", "-c",
        // Waits while the master lives (it removes its pid file on exit; a killed one leaves it behind).
        `sleep ${sleepSeconds}; ${frontendNginxCommand().join(" ")} -s quit; while kill -0 "$(cat ${runDir}/nginx.pid 2>/dev/null)" 2>/dev/null; do sleep 1; done`];
}

export interface FrontendNginxConfigArgs {
    /** The ConfigMap's name. Required. */
    name: string;
    /** The frontend's namespace. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels. Required. */
    labels: Record<string, string>;
    /** What the configuration says (renderFrontendNginxConf). Required. */
    settings: FrontendNginxSettings;
}

/** The ConfigMap holding the frontend's nginx.conf, and a checksum that rolls the pods when it changes. */
export class FrontendNginxConfig extends pulumi.ComponentResource {
    public readonly configMapName: pulumi.Output<string>;
    /** SHA-256 of the configuration: a pod annotation, so a changed file rolls the pods. */
    public readonly checksum: string;

    constructor(name: string, args: FrontendNginxConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:frontend:NginxConfig", name, {}, opts);
        const conf = renderFrontendNginxConf(args.settings);
        const configMap = new k8s.core.v1.ConfigMap(`${name}-configmap`, {
            metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
            data: { [NGINX_CONF_FILE]: conf },
        }, { parent: this });
        this.configMapName = configMap.metadata.name;
        this.checksum = crypto.createHash("sha256").update(conf).digest("hex");
        this.registerOutputs({ configMapName: this.configMapName, checksum: this.checksum });
    }
}
