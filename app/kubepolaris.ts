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
    },
    /** The image is alpine with sh and curl (Dockerfile.backend), which the admin-password Job uses. */
    hasShellAndCurl: true,
} as const;

/** The frontend image (Dockerfile.frontend, nginx-frontend.conf): nginx:1.25-alpine as user nginx. */
export const FRONTEND = {
    /** `listen 80` in the image's nginx.conf (the upstream chart's 8080 needs its own config). */
    port: 80,
    /** `location /health { return 200 }`. */
    healthPath: "/health",
    /** The nginx user of the nginx alpine images. */
    uid: 101,
    gid: 101,
    /** The image's nginx.conf puts its pid and every temp path under /tmp. */
    writablePaths: ["/tmp"],
    /**
     * `proxy_pass http://kubepolaris-backend:8080` in the image's nginx.conf: nginx resolves it at
     * start and refuses to start when the name does not resolve, so the backend Service must be
     * called this, in the frontend's namespace.
     */
    backendServiceName: "kubepolaris-backend",
} as const;
