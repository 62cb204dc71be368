// No known password on a reachable deployment. On its first start the backend seeds an admin user
// with a password printed in its docs; this component replaces it with a password only the stack
// knows (from stack config, or generated once and kept in state as a secret): a Job, created once
// the backend Deployment is available, logs in with the published password and calls the
// change-password API. It is idempotent: when the stack's password already works it changes
// nothing, so re-running it (a replaced Job, a restored database) is safe.
import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { WAIVERS, imageUserWaivers, pullPolicyWaivers, waiverAnnotations } from "./checkerWaivers";
import { withEphemeralStorage } from "./ephemeralStorage";
import { componentName, podLabels } from "./labels";
import { restrictedContainerSecurity, restrictedPodSecurity } from "./podSecurity";
import { ContainerResources, ImagePullPolicy, RunAs } from "./types";

export interface AdminPasswordArgs {
    /** The release: prefix of the object names and part of the Job's pod labels. Required. */
    release: string;
    /** The backend's namespace. Required. */
    namespace: pulumi.Input<string>;
    /** Metadata labels for every object. Required. */
    labels: Record<string, string>;
    /** The backend's base URL inside the cluster (its Service), e.g. http://kubepolaris-backend.ns.svc:8080. Required. */
    backendUrl: pulumi.Input<string>;
    /** The user the backend seeds and the password it publishes. Required. */
    seeded: { username: string; password: string };
    /** The backend's API paths for logging in and changing a password. Required. */
    api: { login: string; changePassword: string };
    /** An image with /bin/sh and curl (the backend's own). Required. */
    image: string;
    /** When a node fetches the image. Default: "Always". */
    imagePullPolicy?: ImagePullPolicy;
    /** The image's own non-root user and group. Required. */
    runAs: RunAs;
    /** From stack config (a secret). Default: a random one, generated once and kept in state. */
    password?: pulumi.Output<string>;
    /** The Job container's requests and limits. Default: ADMIN_JOB_RESOURCES. */
    resources?: ContainerResources;
    /** PriorityClass of the Job's pod. Default: none (the cluster's default priority). */
    priorityClassName?: pulumi.Input<string>;
}

/** The one-shot Job's container: a shell and a few HTTP calls (the namespace quota counts it). */
export const ADMIN_JOB_RESOURCES: ContainerResources = { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } };

/** Environment the script reads (the Job sets exactly these). */
export const ADMIN_PASSWORD_ENV = {
    backendUrl: "BACKEND_URL",
    loginPath: "LOGIN_PATH",
    changePasswordPath: "CHANGE_PASSWORD_PATH",
    username: "ADMIN_USERNAME",
    newPassword: "ADMIN_PASSWORD",
    seededPassword: "SEEDED_ADMIN_PASSWORD",
} as const;

/** Pod-template annotation naming the password revision (a hash of the password, never the password). */
export const ADMIN_PASSWORD_REVISION_ANNOTATION = "kubepolaris.io/admin-password-revision";

/** Keys of the Secret the operator's credentials live in. */
export const ADMIN_SECRET_KEYS = { username: "username", password: "password", seeded: "seeded-password" } as const;

/**
 * The Job's script (POSIX sh + curl). Exit 0: the stack's password works (changed now or before).
 * Exit 1: neither password logs in, or the change failed. Exported so the app contract test runs
 * this very script against real backends.
 */
export function adminPasswordScript(): string {
    const e = ADMIN_PASSWORD_ENV;
    return `set -eu
json_escape() { printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'; }
login() { # prints the token for password $1, or nothing
  body=$(printf '{"username":"%s","password":"%s"}' "$(json_escape "$${e.username}")" "$(json_escape "$1")")
  curl -sS --max-time 10 -H 'Content-Type: application/json' -d "$body" "$${e.backendUrl}$${e.loginPath}" \\
    | sed -n 's/.*"token":"\\([^"]*\\)".*/\\1/p'
}
tries=0
# Any HTTP answer (a GET on the login route is a 404) means the API is up.
until curl -sS --max-time 5 -o /dev/null "$${e.backendUrl}$${e.loginPath}"; do
  tries=$((tries + 1)); [ "$tries" -lt 60 ] || { echo "backend not answering at $${e.backendUrl}"; exit 1; }
  sleep 2
done
if [ -n "$(login "$${e.newPassword}")" ]; then
  echo "the stack's admin password is already in place"; exit 0
fi
token=$(login "$${e.seededPassword}")
[ -n "$token" ] || { echo "neither the stack's nor the published admin password logs in: changed by hand? nothing done"; exit 1; }
body=$(printf '{"old_password":"%s","new_password":"%s"}' "$(json_escape "$${e.seededPassword}")" "$(json_escape "$${e.newPassword}")")
curl -fsS --max-time 10 -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \\
  -d "$body" "$${e.backendUrl}$${e.changePasswordPath}"
[ -n "$(login "$${e.newPassword}")" ] || { echo "the password change did not take"; exit 1; }
echo "replaced the published admin password"
`;
}

export class AdminPassword extends pulumi.ComponentResource {
    public readonly secretName: pulumi.Output<string>;
    public readonly jobName: pulumi.Output<string>;
    public readonly username: string;
    /** The admin password now in force (a secret). */
    public readonly password: pulumi.Output<string>;

    constructor(name: string, args: AdminPasswordArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:secrets:AdminPassword", name, {}, opts);

        const password = pulumi.secret(args.password
            ?? new random.RandomPassword(`${name}-value`, { length: 24, special: false }, { parent: this }).result);
        const metadata = {
            name: componentName(args.release, "admin-password"),
            namespace: args.namespace,
            labels: { ...args.labels, ...podLabels(args.release, "admin-password") },
        };
        const secret = createSecret(name, args, metadata, password, this);
        const job = createJob(name, args, metadata, secret.metadata.name, password, this);

        this.secretName = secret.metadata.name;
        this.jobName = job.metadata.name;
        this.username = args.seeded.username;
        this.password = password;
        this.registerOutputs({ secretName: this.secretName, jobName: this.jobName, username: this.username, password: this.password });
    }
}

interface JobMetadata {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
}

/** The operator's credentials: the admin user, the stack's password and the published one. */
function createSecret(name: string, args: AdminPasswordArgs, metadata: JobMetadata, password: pulumi.Output<string>,
    parent: pulumi.Resource): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(`${name}-secret`, {
        metadata,
        type: "Opaque",
        stringData: {
            [ADMIN_SECRET_KEYS.username]: args.seeded.username,
            [ADMIN_SECRET_KEYS.password]: password,
            // Public knowledge, but a credential all the same: never a literal env value.
            [ADMIN_SECRET_KEYS.seeded]: args.seeded.password,
        },
    }, { parent });
}

/** The one-shot Job that runs adminPasswordScript(), again whenever the password changes. */
function createJob(name: string, args: AdminPasswordArgs, metadata: JobMetadata, secretName: pulumi.Output<string>,
    password: pulumi.Output<string>, parent: pulumi.Resource): k8s.batch.v1.Job {
    const fromSecret = (key: string) => ({ secretKeyRef: { name: secretName, key } });
    const env = ADMIN_PASSWORD_ENV;
    // A new password must run the Job again: its hash (never the password) names the revision.
    const revision = password.apply((value) => createHash("sha256").update(value).digest("hex").slice(0, 12));
    return new k8s.batch.v1.Job(`${name}-job`, {
        metadata: {
            ...metadata,
            annotations: waiverAnnotations(imageUserWaivers(args.runAs), WAIVERS.secretEnvFollowUp,
                pullPolicyWaivers(args.imagePullPolicy, args.image)),
        },
        spec: {
            backoffLimit: 4,
            activeDeadlineSeconds: 600,
            template: {
                metadata: { labels: metadata.labels, annotations: { [ADMIN_PASSWORD_REVISION_ANNOTATION]: revision } },
                spec: {
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    priorityClassName: args.priorityClassName,
                    securityContext: restrictedPodSecurity(args.runAs),
                    containers: [{
                        name: "set-admin-password",
                        image: args.image,
                        // Version tags can be pushed again: resolve the tag on every start (see HaWorkload).
                        imagePullPolicy: args.imagePullPolicy ?? "Always",
                        command: ["/bin/sh", "-c", adminPasswordScript()],
                        env: [
                            { name: env.backendUrl, value: args.backendUrl },
                            { name: env.loginPath, value: args.api.login },
                            { name: env.changePasswordPath, value: args.api.changePassword },
                            { name: env.username, valueFrom: fromSecret(ADMIN_SECRET_KEYS.username) },
                            { name: env.newPassword, valueFrom: fromSecret(ADMIN_SECRET_KEYS.password) },
                            { name: env.seededPassword, valueFrom: fromSecret(ADMIN_SECRET_KEYS.seeded) },
                        ],
                        // No volumes: its logs are all it writes.
                        resources: withEphemeralStorage(args.resources ?? ADMIN_JOB_RESOURCES, []),
                        securityContext: restrictedContainerSecurity(),
                    }],
                },
            },
        },
    }, {
        parent,
        // A Job's template is immutable: a new revision replaces it, the old one goes first.
        deleteBeforeReplace: true,
        replaceOnChanges: ["spec.template"],
    });
}
