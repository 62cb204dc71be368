// A guestbook the way getting-started tutorials build one: a Redis leader, two Redis followers
// and a three-replica web frontend behind a LoadBalancer Service (a plain manifest read with
// yaml.ConfigFile), all in the default namespace.
// Written for the offline runner's test corpus: a real-looking program that was never meant to
// meet this project's HA checklist.
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";

const config = { frontendReplicas: 3, followerReplicas: 2 };

function redis(role: "leader" | "follower", replicas: number, image: string) {
    const labels = { app: "redis", role, tier: "backend" };
    const deployment = new k8s.apps.v1.Deployment(`redis-${role}`, {
        metadata: { name: `redis-${role}`, labels },
        spec: {
            replicas,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels },
                spec: {
                    containers: [{
                        name: role,
                        image,
                        resources: { requests: { cpu: "100m", memory: "100Mi" } },
                        ports: [{ containerPort: 6379 }],
                    }],
                },
            },
        },
    });
    const service = new k8s.core.v1.Service(`redis-${role}`, {
        metadata: { name: `redis-${role}`, labels },
        spec: { ports: [{ port: 6379, targetPort: 6379 }], selector: labels },
    });
    return { deployment, service };
}

redis("leader", 1, "docker.io/redis:6.0.5");
redis("follower", config.followerReplicas, "gcr.io/google_samples/gb-redis-follower:v2");

const frontendLabels = { app: "guestbook", tier: "frontend" };
new k8s.apps.v1.Deployment("frontend", {
    metadata: { name: "frontend", labels: frontendLabels },
    spec: {
        replicas: config.frontendReplicas,
        selector: { matchLabels: frontendLabels },
        template: {
            metadata: { labels: frontendLabels },
            spec: {
                containers: [{
                    name: "php-redis",
                    image: "gcr.io/google_samples/gb-frontend:v5",
                    env: [{ name: "GET_HOSTS_FROM", value: "dns" }],
                    resources: { requests: { cpu: "100m", memory: "100Mi" } },
                    ports: [{ containerPort: 80 }],
                }],
            },
        },
    },
});

const entry = new k8s.yaml.ConfigFile("frontend", { file: path.join(__dirname, "frontend-service.yaml") });
export const frontend = entry.getResource("v1/Service", "frontend").metadata.name;
