// InClusterMysql alone: the local stack's one MySQL pod, restricted, with its data kept and its
// passwords only in a Secret.
import { InClusterMysql, InClusterMysqlArgs } from "../../components/database/inClusterMysql";
import * as pulumi from "@pulumi/pulumi";
import { selects } from "../../policy/rules/selectors";
import { recordRegistrations, secretInput, TYPES, valueOf } from "../support/components";

const recorder = recordRegistrations();

function args(overrides: Partial<InClusterMysqlArgs> = {}): InClusterMysqlArgs {
    return {
        release: "rel",
        namespace: "kp",
        labels: { team: "ops" },
        image: "docker.io/library/mysql:8.4.7",
        storageSize: "5Gi",
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        databaseName: "kubepolaris",
        username: "kp",
        port: 3306,
        clusterDomain: "cluster.local",
        maxConnections: 150,
        requireTls: false,
        password: pulumi.output("user-password"),
        rootPassword: pulumi.output("root-password"),
        secretName: "rel-mysql-credentials",
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<InClusterMysqlArgs> = {}) {
    const mysql = new InClusterMysql(name, args(overrides));
    await recorder.settle(mysql.host, mysql.statefulSetName, mysql.secretName);
    const statefulSet = recorder.one(TYPES.statefulSet, `${name}-statefulset`).inputs;
    return {
        mysql,
        statefulSet,
        pod: statefulSet.spec.template,
        container: statefulSet.spec.template.spec.containers[0],
        service: recorder.one(TYPES.service, `${name}-service`).inputs,
        secret: recorder.one(TYPES.secret, `${name}-credentials`).inputs,
    };
}

test("the pod runs restricted as the image's mysql user, and the volume's ownership is fixed only when it differs", async () => {
    const { pod, container } = await build("security");
    expect(pod.spec.securityContext).toMatchObject({
        runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999,
        fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    // A read-only root: mysqld writes only to its volumes.
    expect(container.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(["/tmp", "/var/lib/mysql", "/var/run/mysqld"]);
});

test("the passwords live only in the Secret, sent as secrets, and reach mysqld by reference", async () => {
    const { secret, container } = await build("passwords");
    const stringData = secretInput(secret.stringData);
    expect(stringData.secret).toBe(true);
    expect(Object.values(stringData.value).sort()).toEqual(["root-password", "user-password"]);
    expect(secret.metadata.name).toBe("rel-mysql-credentials");
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
    expect(env.MYSQL_PASSWORD.valueFrom.secretKeyRef.name).toBe("rel-mysql-credentials");
    expect(env.MYSQL_ROOT_PASSWORD.valueFrom.secretKeyRef.name).toBe("rel-mysql-credentials");
    expect(env.MYSQL_PASSWORD.value).toBeUndefined();
    // root only over the local socket.
    expect(env.MYSQL_ROOT_HOST.value).toBe("localhost");
});

test("the data outlives the StatefulSet, on a volume of the requested size and class", async () => {
    const { statefulSet } = await build("data", { storageSize: "7Gi", storageClassName: "fast" });
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    const [claim] = statefulSet.spec.volumeClaimTemplates;
    expect(claim.spec.resources.requests.storage).toBe("7Gi");
    expect(claim.spec.storageClassName).toBe("fast");
    expect(statefulSet.spec.replicas).toBe(1);
});

test("the connection limit, TLS and port follow the args, and the readiness check logs in over that port", async () => {
    const open = await build("flags-open", { port: 3307, maxConnections: 222 });
    expect(open.container.args).toEqual(expect.arrayContaining(["--port=3307", "--max-connections=222", "--require-secure-transport=OFF"]));
    expect(open.container.ports).toEqual([{ name: "mysql", containerPort: 3307, protocol: "TCP" }]);
    expect(open.container.readinessProbe.exec.command.join(" ")).toContain("--port=3307");
    // Alive is not ready: liveness does not need a login.
    expect(open.container.livenessProbe).not.toEqual(open.container.readinessProbe);
    const tls = await build("flags-tls", { requireTls: true });
    expect(tls.container.args).toContain("--require-secure-transport=ON");
});

test("a headless Service selects the pod; the backend's connection names its host, port, schema and user", async () => {
    const { service, pod, mysql } = await build("service", { port: 3308 });
    expect(service.spec.clusterIP).toBe("None");
    expect(selects({ matchLabels: service.spec.selector }, pod.metadata.labels)).toBe(true);
    expect(selects({ matchLabels: mysql.selector }, pod.metadata.labels)).toBe(true);
    expect(service.spec.ports[0]).toMatchObject({ port: 3308, targetPort: "mysql" });
    expect(await valueOf(mysql.connection.host)).toBe("rel-mysql.kp.svc.cluster.local.");
    expect(mysql.connection).toMatchObject({ port: 3308, database: "kubepolaris", username: "kp", readerHosts: [] });
    expect(await valueOf(mysql.connection.passwordSecret.name)).toBe("rel-mysql-credentials");
});
