// A Kubernetes Secret every replica reads the same value from. Used for the JWT signing key:
// the HA guide's "JWT Token" section (all instances share one JWT secret) — every backend
// replica must validate tokens issued by any other.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface SharedSecretArgs {
    namespace: pulumi.Input<string>;
    secretName: string;
    key: string;
    labels: Record<string, string>;
    /** A value from stack config (a secret). Unset: a random one is generated once and kept in state. */
    value?: pulumi.Output<string>;
    /** Length of a generated value. */
    length?: number;
}

export class SharedSecret extends pulumi.ComponentResource {
    public readonly secretName: pulumi.Output<string>;
    public readonly key: string;

    constructor(name: string, args: SharedSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:secrets:SharedSecret", name, {}, opts);

        const value = args.value
            ?? new random.RandomPassword(`${name}-value`, { length: args.length ?? 64, special: false }, { parent: this }).result;

        const secret = new k8s.core.v1.Secret(`${name}-secret`, {
            metadata: { name: args.secretName, namespace: args.namespace, labels: args.labels },
            type: "Opaque",
            stringData: { [args.key]: pulumi.secret(value) },
        }, { parent: this });

        this.secretName = secret.metadata.name;
        this.key = args.key;
        this.registerOutputs({ secretName: this.secretName });
    }
}
