// What the pinned KubePolaris release really does: the one definition of the app's interface.
// It was read from the release's source (kubepolaris-1.0.5: cmd/main.go, internal/router,
// internal/config, internal/database, deploy/docker) and is proven by test/app/contract.test.ts,
// which builds that source and runs two backends against MariaDB with the environment the
// program's Deployment gives them. The program's defaults, its unit tests and the contract test
// all import these facts from here; where the HA guide says otherwise, this file wins.

/** The release whose source the contract test builds and whose images the stacks pin. */
export const APP_RELEASE = "1.0.5";

/** The backend (Go, gin): `cmd/main.go` and `internal/router/router.go`. */
export const BACKEND = {
    /** `SERVER_PORT`; the server binds every interface on it. */
    port: 8080,
    /** Always 200 while the process serves HTTP (no dependency checks). */
    livenessPath: "/healthz",
    /** Also always 200 in 1.0.5 (a TODO says it will check the database one day). */
    readinessPath: "/readyz",
    /** The image's user (Dockerfile.backend: adduser -u 1000) and WORKDIR. */
    uid: 1000,
    gid: 1000,
    workingDir: "/app",
    /**
     * Where the process writes: os.CreateTemp("") for the kubeconfigs of its kubectl terminal
     * ($TMPDIR, else /tmp). Nothing else: 1.0.5 records no terminal replays and logs to stdout.
     */
    writablePaths: ["/tmp"],
    /** srv.Shutdown gets this long after SIGTERM to finish in-flight requests. */
    shutdownDrainSeconds: 5,
    /** The environment variables the server reads (internal/config: viper BindEnv). */
    env: {
        port: "SERVER_PORT",
        mode: "SERVER_MODE",
        dbDriver: "DB_DRIVER",
        dbHost: "DB_HOST",
        dbPort: "DB_PORT",
        dbUser: "DB_USERNAME",
        dbPassword: "DB_PASSWORD",
        dbName: "DB_DATABASE",
        dbCharset: "DB_CHARSET",
        jwtSecret: "JWT_SECRET",
    },
    /** Hard-coded in internal/database (SetMaxOpenConns(100), SetMaxIdleConns(10), 1 h). */
    dbPool: { maxOpenConns: 100, maxIdleConns: 10, connMaxLifetimeSeconds: 3600 },
    /** The MySQL DSN has no `tls` parameter and no way to add one. */
    supportsDatabaseTls: false,
    /** The backend reads every query from DB_HOST: read replicas take none of its load. */
    readsFromReplicas: false,
    /** There is no Prometheus endpoint; /metrics answers 404. */
    metricsPath: undefined as string | undefined,
    /** First start seeds this user with this published password (internal/database). */
    seededAdmin: { username: "admin", password: "KubePolaris@2026" },
    api: {
        login: "/api/v1/auth/login",
        me: "/api/v1/auth/me",
        changePassword: "/api/v1/auth/change-password",
        /**
         * The SSH terminal's WebSocket (token in the query): upgraded with a valid token, 401
         * without; it stays open, answering pings, until the client sends a `connect`.
         */
        terminalSocket: "/ws/ssh/terminal",
    },
    /** The image is alpine with sh and curl (Dockerfile.backend), which the admin-password Job uses. */
    hasShellAndCurl: true,
} as const;

/**
 * The frontend image (Dockerfile.frontend): the built UI under nginx:1.25-alpine, as user nginx.
 * The image's own nginx.conf (deploy/docker/kubepolaris/nginx-frontend.conf) is NOT what runs: it
 * proxies to fixed names (`kubepolaris-backend:8080` and `grafana:3000`) that nginx resolves at
 * start, so the container exits whenever either name is missing. The program mounts its own
 * configuration (components/frontendNginx.ts) and starts nginx with it; these are the facts of the
 * image that configuration relies on.
 */
export const FRONTEND = {
    /** The port the program's configuration listens on (the image EXPOSEs 80). */
    port: 80,
    /** Answered by nginx itself (no upstream): the readiness probe's path. */
    healthPath: "/health",
    /** The nginx user of the nginx alpine images (and of the local image). */
    uid: 101,
    gid: 101,
    /** The image's CMD: what runs when a Deployment gives no command. */
    imageCommand: ["nginx", "-g", "daemon off;"],
    /** Where the image bakes its nginx.conf, and that file in the release's source (read by the contract test). */
    imageConfig: { path: "/etc/nginx/nginx.conf", source: "deploy/docker/kubepolaris/nginx-frontend.conf" },
    /** `nginx` on the PATH; `-c` names the configuration, `-e` the log nginx opens before reading it. */
    nginxBinary: "nginx",
    /** The MIME table every nginx image ships. */
    mimeTypesPath: "/etc/nginx/mime.types",
    /** Where the image keeps the built UI (COPY --from=builder /app/dist /usr/share/nginx/html). */
    siteRoot: "/usr/share/nginx/html",
    /** The UI calls the API under this base (VITE_API_BASE_URL at build time). */
    apiPrefix: "/api/",
    /** The UI opens its WebSockets under this path on the page's own host (logs, terminals). */
    webSocketPrefix: "/ws/",
    /** The UI embeds Grafana panels from this path of its own host (GrafanaPanel.tsx: grafanaUrl = '/grafana'). */
    grafanaPrefix: "/grafana/",
} as const;
