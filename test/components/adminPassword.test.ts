// AdminPassword alone: the published admin password is replaced by one only the stack knows, by
// a restricted Job that reads every credential from a Secret and reruns when the password changes.
import * as pulumi from "@pulumi/pulumi";
import { ADMIN_JOB_RESOURCES, ADMIN_PASSWORD_ENV, ADMIN_PASSWORD_REVISION_ANNOTATION, AdminPassword, AdminPasswordArgs } from "../../components/adminPassword";
import { recordRegistrations, secretInput, TYPES, unwrapSecrets, valueOf } from "../support/components";

const recorder = recordRegistrations((type, name) => type === TYPES.randomPassword ? { result: `generated-${name}` } : {});

function args(overrides: Partial<AdminPasswordArgs> = {}): AdminPasswordArgs {
    return {
        release: "rel",
        namespace: "kp",
        labels: {},
        backendUrl: "http://rel-backend.kp.svc:8080",
        seeded: { username: "admin", password: "published" },
        api: { login: "/api/login", changePassword: "/api/password" },
        image: "repo/backend:v1.0.5",
        runAs: { uid: 1000, gid: 1000 },
        ...overrides,
    };
}

async function build(name: string, overrides: Partial<AdminPasswordArgs> = {}) {
    const admin = new AdminPassword(name, args(overrides));
    await recorder.settle(admin.secretName, admin.jobName, admin.password);
    // The revision annotation derives from the password, so the Job's spec is sent as a secret.
    const job = unwrapSecrets(recorder.one(TYPES.job, `${name}-job`).inputs);
    return {
        admin,
        job,
        pod: job.spec.template,
        container: job.spec.template.spec.containers[0],
        secret: recorder.one(TYPES.secret, `${name}-secret`).inputs,
    };
}

test("every credential reaches the Job through the Secret, none as a literal value", async () => {
    const { container, secret } = await build("env", { password: pulumi.output("stack-password") });
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
    for (const name of [ADMIN_PASSWORD_ENV.username, ADMIN_PASSWORD_ENV.newPassword, ADMIN_PASSWORD_ENV.seededPassword]) {
        expect(env[name].value).toBeUndefined();
        expect(env[name].valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
    }
    const stored = secretInput(secret.stringData);
    expect(stored.secret).toBe(true);
    const byKey = (key: string) => stored.value[env[key].valueFrom.secretKeyRef.key];
    expect(byKey(ADMIN_PASSWORD_ENV.newPassword)).toBe("stack-password");
    expect(byKey(ADMIN_PASSWORD_ENV.seededPassword)).toBe("published");
    expect(byKey(ADMIN_PASSWORD_ENV.username)).toBe("admin");
    expect(env[ADMIN_PASSWORD_ENV.backendUrl].value).toBe("http://rel-backend.kp.svc:8080");
});

test("without a password from config one is generated once and becomes the admin password", async () => {
    const { admin } = await build("generated");
    expect(recorder.one(TYPES.randomPassword, "generated-value").inputs).toMatchObject({ special: false });
    expect(await valueOf(admin.password)).toBe("generated-generated-value");
    const given = await build("given", { password: pulumi.output("from-config") });
    expect(recorder.ofType(TYPES.randomPassword, "given-")).toEqual([]);
    expect(await valueOf(given.admin.password)).toBe("from-config");
    expect(given.admin.username).toBe("admin");
});

test("a new password names a new revision (so the Job runs again), and the revision never shows the password", async () => {
    const revision = async (name: string, password: string) => {
        const { pod } = await build(name, { password: pulumi.output(password) });
        return pod.metadata.annotations[ADMIN_PASSWORD_REVISION_ANNOTATION] as string;
    };
    const first = await revision("rev-a", "first-password");
    expect(await revision("rev-a-again", "first-password")).toBe(first);
    expect(await revision("rev-b", "second-password")).not.toBe(first);
    expect(first).not.toContain("first-password");
});

test("the Job runs restricted as the image's user, bounded in retries and time, within its small quota share", async () => {
    const { job, pod, container } = await build("restricted", { runAs: { uid: 1001, gid: 1002 } });
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1002 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(container.resources.limits).toMatchObject(ADMIN_JOB_RESOURCES.limits);
    expect(container.resources.limits["ephemeral-storage"]).toBeDefined();
});
