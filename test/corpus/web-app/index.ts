// An nginx Deployment and a LoadBalancer Service the way getting-started guides write them: the
// replica count from stack config, the server config read from a file next to the program (by a
// path relative to the project directory, where Pulumi runs programs), a progress line printed to
// stdout, a numeric targetPort the container does not declare (Kubernetes routes it all the same).
// Written for the offline runner's test corpus.
import * as fs from "fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const replicas = config.requireNumber("replicas");
const appLabels = { app: "web" };

console.log(`web-app: deploying ${replicas} nginx replicas`);

const site = new k8s.core.v1.ConfigMap("web-config", {
    metadata: { labels: appLabels },
    data: { "default.conf": fs.readFileSync("nginx.conf", "utf8") },
});

const deployment = new k8s.apps.v1.Deployment("web", {
    metadata: { labels: appLabels },
    spec: {
        replicas,
        selector: { matchLabels: appLabels },
        template: {
            metadata: { labels: appLabels },
            spec: {
                containers: [{
                    name: "nginx",
                    image: "nginx:1.27.3",
                    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
                    readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 5 },
                    volumeMounts: [{ name: "config", mountPath: "/etc/nginx/conf.d" }],
                }],
                volumes: [{ name: "config", configMap: { name: site.metadata.name } }],
            },
        },
    },
});

const frontend = new k8s.core.v1.Service("web", {
    metadata: { labels: appLabels },
    spec: { type: "LoadBalancer", selector: appLabels, ports: [{ port: 80, targetPort: 8080 }] },
});

export const name = deployment.metadata.name;
export const ip = frontend.status.loadBalancer.ingress[0].ip;
