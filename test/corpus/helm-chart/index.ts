// A program that installs a Redis chart into a namespace of its own, with the Chart resource most
// programs use today (helm.v4.Chart) or, with `helm-chart:api: v3`, the older helm.v3.Chart, or,
// with `helm-chart:api: release`, as a Helm release (helm.v3.Release).
// Written for the offline runner's test corpus: the chart's objects are rendered by Helm, which the
// runner does not have, so it must say so rather than judge an empty chart.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const api = new pulumi.Config().get("api") ?? "v4";
const namespace = new k8s.core.v1.Namespace("cache", { metadata: { name: "cache" } });
const values = { architecture: "replication", replica: { replicaCount: 3 }, auth: { existingSecret: "redis-auth" } };

if (api === "release") {
    new k8s.helm.v3.Release("redis", {
        chart: "redis",
        version: "19.6.4",
        repositoryOpts: { repo: "https://charts.bitnami.com/bitnami" },
        namespace: namespace.metadata.name,
        values,
    });
} else if (api === "v3") {
    new k8s.helm.v3.Chart("redis", {
        chart: "redis",
        version: "19.6.4",
        fetchOpts: { repo: "https://charts.bitnami.com/bitnami" },
        namespace: namespace.metadata.name,
        values,
    });
} else {
    new k8s.helm.v4.Chart("redis", {
        chart: "oci://registry-1.docker.io/bitnamicharts/redis",
        version: "19.6.4",
        namespace: namespace.metadata.name,
        values,
    });
}

export const namespaceName = namespace.metadata.name;
