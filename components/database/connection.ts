// How the backend reaches its database, the same way in both modes (RDS and in-cluster): the
// KubePolaris chart's DB_* environment variables, the password only by secretKeyRef.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceAddress } from "../clusterDns";
import { podLabels } from "../labels";
import { DatabasePeer } from "../types";

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
    /** Read replicas' host names (read/write split, the large size tier); empty otherwise. */
    readerHosts: pulumi.Output<string>[];
}

/** How the backend reaches an in-cluster database: its Service's full name, the schema, the user and the credentials Secret's key. */
export function inClusterConnection(service: k8s.core.v1.Service, secret: k8s.core.v1.Secret,
    settings: { port: number; databaseName: string; username: string; clusterDomain: string }): DatabaseConnection {
    return {
        host: serviceAddress(service.metadata.name, service.metadata.namespace, settings.clusterDomain),
        port: settings.port,
        database: settings.databaseName,
        username: settings.username,
        passwordSecret: { name: secret.metadata.name, key: PASSWORD_KEY },
        readerHosts: [],
    };
}

/** The names of the variables the backend reads its database settings from. */
export interface DatabaseEnvNames {
    driver: string;
    host: string;
    port: string;
    database: string;
    username: string;
    password: string;
    charset: string;
}

/**
 * The backend's database settings as environment variables, under the names the server reads;
 * the password only by secretKeyRef. Nothing else: the backend fixes its pool in code and reads
 * every query from the writer, so pool sizes and reader hosts would be variables nobody reads.
 */
export function databaseEnv(connection: DatabaseConnection, names: DatabaseEnvNames): EnvVar[] {
    return [
        { name: names.driver, value: "mysql" },
        { name: names.host, value: connection.host },
        { name: names.port, value: String(connection.port) },
        { name: names.database, value: connection.database },
        { name: names.username, value: connection.username },
        { name: names.password, valueFrom: { secretKeyRef: { name: connection.passwordSecret.name, key: connection.passwordSecret.key } } },
        { name: names.charset, value: "utf8mb4" },
    ];
}

/**
 * Where the backend's database traffic goes: the RDS subnets' address blocks when `rdsSubnets` is
 * given, else the in-cluster MySQL pods (InClusterMysql labels them `podLabels(release, "mysql")`).
 */
export function databasePeer(release: string, database: { port: number; rdsSubnets?: { cidr: string }[] }): DatabasePeer {
    return database.rdsSubnets
        ? { kind: "cidrs", cidrs: database.rdsSubnets.map((subnet) => subnet.cidr), port: database.port }
        : { kind: "pods", labels: podLabels(release, "mysql"), port: database.port };
}
