// A reusable component: a Deployment, its Service and a PodDisruptionBudget for one container image.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface WebServiceArgs {
    /** The container image. */
    image: pulumi.Input<string>;
    /** Pods to run (default 2). */
    replicas?: number;
    /** The port the container listens on (default 8080). */
    port?: number;
}

export class WebService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("corpus:web:WebService", name, {}, opts);
        const labels = { app: name };
        const port = args.port ?? 8080;
        new k8s.apps.v1.Deployment(name, {
            spec: {
                replicas: args.replicas ?? 2,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        containers: [{
                            name,
                            image: args.image,
                            ports: [{ name: "http", containerPort: port }],
                            livenessProbe: { tcpSocket: { port: "http" } },
                            readinessProbe: { httpGet: { path: "/ready", port: "http" } },
                        }],
                    },
                },
            },
        }, { parent: this });
        const service = new k8s.core.v1.Service(name, {
            spec: { selector: labels, ports: [{ port: 80, targetPort: "http" }] },
        }, { parent: this });
        new k8s.policy.v1.PodDisruptionBudget(name, { spec: { maxUnavailable: 1, selector: { matchLabels: labels } } }, { parent: this });
        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
