// How the backend reaches its database, the same way in both modes (RDS and in-cluster): the
// KubePolaris chart's DB_* environment variables, the password only by secretKeyRef.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseConfig, DatabasePool } from "../../config";
import { podLabels } from "../labels";
import { DatabasePeer } from "../namespaceBaseline";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Key of the application user's password in the credentials Secret (both modes). */
export const PASSWORD_KEY = "mysql-password";
/** Key of the root password (in-cluster MySQL only; RDS has a master user instead). */
export const ROOT_PASSWORD_KEY = "mysql-root-password";

/** Name of the Kubernetes Secret that holds the database password(s) in the release's namespace. */
export function credentialsSecretName(release: string): string {
    return `${release}-mysql-credentials`;
}

export interface DatabaseConnection {
    /** The writer's host name. */
    host: pulumi.Output<string>;
    port: number;
    database: string;
    username: string;
    /** Where the password is: a key of a Secret in the backend's namespace. */
    passwordSecret: { name: pulumi.Output<string>; key: string };
    /** Read replicas' host names (large tier, read/write split); empty otherwise. */
    readerHosts: pulumi.Output<string>[];
}

/**
 * The backend's database settings as environment variables. DB_DRIVER … DB_PASSWORD are the
 * names the KubePolaris chart and server read; the pool settings (seed 000 "连接池配置") and the
 * reader hosts travel as DB_MAX_IDLE_CONNS, DB_MAX_OPEN_CONNS, DB_CONN_MAX_LIFETIME (seconds) and
 * DB_READ_HOSTS (comma-separated).
 */
export function databaseEnv(connection: DatabaseConnection, pool: DatabasePool): EnvVar[] {
    const env: EnvVar[] = [
        { name: "DB_DRIVER", value: "mysql" },
        { name: "DB_HOST", value: connection.host },
        { name: "DB_PORT", value: String(connection.port) },
        { name: "DB_DATABASE", value: connection.database },
        { name: "DB_USERNAME", value: connection.username },
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: connection.passwordSecret.name, key: connection.passwordSecret.key } } },
        { name: "DB_CHARSET", value: "utf8mb4" },
        { name: "DB_MAX_IDLE_CONNS", value: String(pool.maxIdleConns) },
        { name: "DB_MAX_OPEN_CONNS", value: String(pool.maxOpenConns) },
        { name: "DB_CONN_MAX_LIFETIME", value: String(pool.connMaxLifetimeSeconds) },
    ];
    if (connection.readerHosts.length > 0) {
        env.push({ name: "DB_READ_HOSTS", value: pulumi.all(connection.readerHosts).apply((hosts) => hosts.join(",")) });
    }
    return env;
}

/** Where the backend's database traffic goes: the in-cluster MySQL pods, or the RDS subnets. */
export function databasePeer(release: string, database: DatabaseConfig): DatabasePeer {
    return database.inCluster
        ? { kind: "pods", labels: podLabels(release, "mysql"), port: database.port }
        : { kind: "cidrs", cidrs: (database.rds?.subnets ?? []).map((subnet) => subnet.cidr), port: database.port };
}
