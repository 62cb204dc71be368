// The drills' Kubernetes access: @kubernetes/client-node's typed API clients with the kubeconfig
// scripts/cluster/cluster.sh writes (the local control plane's admin), and its informer for the
// long-lived list/watch of pods. No kubectl process per call.
import * as k8s from "@kubernetes/client-node";
import { until } from "../../tools/until";

/** The field manager of the drills' server-side applies. */
export const FIELD_MANAGER = "kubepolaris-drill";

export class Kube {
    readonly config = new k8s.KubeConfig();
    readonly core: k8s.CoreV1Api;
    readonly apps: k8s.AppsV1Api;
    readonly policy: k8s.PolicyV1Api;
    readonly autoscaling: k8s.AutoscalingV2Api;
    readonly version: k8s.VersionApi;
    /** Any kind by its apiVersion and kind (the baselines' manifests). */
    readonly objects: k8s.KubernetesObjectApi;

    constructor(kubeconfigPath: string) {
        this.config.loadFromFile(kubeconfigPath);
        this.core = this.config.makeApiClient(k8s.CoreV1Api);
        this.apps = this.config.makeApiClient(k8s.AppsV1Api);
        this.policy = this.config.makeApiClient(k8s.PolicyV1Api);
        this.autoscaling = this.config.makeApiClient(k8s.AutoscalingV2Api);
        this.version = this.config.makeApiClient(k8s.VersionApi);
        this.objects = k8s.KubernetesObjectApi.makeApiClient(this.config);
    }

    /** Server-side apply of one object under the drills' field manager. */
    apply<T extends k8s.KubernetesObject>(object: T): Promise<T> {
        return this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    }

    /** Deletes one object (by its apiVersion, kind, name and namespace); already gone is fine. */
    async remove(object: k8s.KubernetesObject): Promise<void> {
        await unlessNotFound(this.objects.delete(object));
    }

    /**
     * The namespace's pods, listed then watched by the library's informer, which lists again after
     * a 410 Gone; after any other error it starts again after 500 ms, counting the error.
     */
    podCache(namespace: string, onError: (e: unknown) => void): PodCache {
        let listed = false;
        let stopped = false;
        const informer = k8s.makeInformer(this.config, `/api/v1/namespaces/${namespace}/pods`, async () => {
            const list = await this.core.listNamespacedPod({ namespace });
            listed = true;
            return list;
        });
        const restart = () => {
            if (!stopped) {
                informer.start().catch(onError);
            }
        };
        // Stopping aborts the watch, which the informer reports as an error too: not restarted then.
        informer.on("error", (e) => {
            if (!stopped) {
                onError(e);
                setTimeout(restart, 500);
            }
        });
        return {
            async start(timeoutMs) {
                restart();
                await until(`the first list of the pods in namespace ${namespace}`, timeoutMs, () => (listed ? true : undefined), 20);
            },
            stop() {
                stopped = true;
                void informer.stop();
            },
            list: () => informer.list(namespace),
        };
    }
}

/** The pods of a namespace as a watch keeps them. */
export interface PodCache {
    /** Starts the watch; resolves once the pods are listed, throws after `timeoutMs`. */
    start(timeoutMs: number): Promise<void>;
    stop(): void;
    list(): readonly k8s.V1Pod[];
}

/** Options for a JSON merge patch (the generated clients send a JSON Patch unless told). */
export const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
/** Options for a strategic merge patch (built-in kinds: lists merge by their key). */
export const STRATEGIC_MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch);

/** The HTTP status a failed API call answered, undefined for anything else (no answer at all). */
export function httpStatus(e: unknown): number | undefined {
    return e instanceof k8s.ApiException ? e.code : undefined;
}

/** The call's result, or undefined where the API answers 404 Not Found; other failures are thrown. */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
    try {
        return await call;
    } catch (e) {
        if (httpStatus(e) === 404) {
            return undefined;
        }
        throw e;
    }
}

/** The Ready condition is True and the pod is not being deleted (an endpoint would serve it). */
export function isPodReady(pod: k8s.V1Pod): boolean {
    return !pod.metadata?.deletionTimestamp
        && (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** Not yet placed on a node by the scheduler. */
export function isPodPending(pod: k8s.V1Pod): boolean {
    return !pod.metadata?.deletionTimestamp && !pod.spec?.nodeName && pod.status?.phase === "Pending";
}

export function isNodeReady(node: k8s.V1Node | undefined): boolean {
    return (node?.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}
