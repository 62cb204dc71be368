// A Kubernetes Secret every replica reads the same value from. Used for the JWT signing key: the
// HA guide has every instance use the same JWT secret (使用相同的 JWT Secret), so each backend
// replica validates the tokens any other replica issued.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface SharedSecretArgs {
    /** The namespace of the Secret (and of the pods that read it). Required. */
    namespace: pulumi.Input<string>;
    /** The Secret's name. Required. */
    secretName: string;
    /** The key the value is stored under. Required. */
    key: string;
    /** Metadata labels. Required. */
    labels: Record<string, string>;
    /** A value from stack config (a secret). Default: a random one, generated once and kept in state. */
    value?: pulumi.Output<string>;
    /** Length of a generated value (letters and digits). Default: 64. */
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
