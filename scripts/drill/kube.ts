// A small Kubernetes API client for the drills: requests and watches over HTTPS with the client
// certificate of a kubeconfig (the local control plane's admin), no kubectl process per call.
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";

export interface KubeResponse {
    status: number;
    body: any;
}

export class KubeError extends Error {
    constructor(public readonly method: string, public readonly path: string, public readonly status: number, public readonly body: any) {
        super(`${method} ${path}: HTTP ${status}: ${typeof body === "object" ? body?.message ?? JSON.stringify(body) : body}`);
    }
}

/** One watch event as the API server streams it. */
export interface WatchEvent {
    type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
    object: any;
}

export class Kube {
    private readonly agent: https.Agent;
    private readonly server: URL;

    /** From a kubeconfig with inline certificate data (as scripts/cluster/cluster.sh writes it). */
    constructor(kubeconfigPath: string) {
        const config: any = yaml.load(fs.readFileSync(kubeconfigPath, "utf8"));
        const context = config.contexts.find((c: any) => c.name === config["current-context"])?.context ?? config.contexts[0].context;
        const cluster = config.clusters.find((c: any) => c.name === context.cluster).cluster;
        const user = config.users.find((u: any) => u.name === context.user).user;
        const data = (field: string, from: any) => {
            if (!from[`${field}-data`]) {
                throw new Error(`${kubeconfigPath}: ${field}-data is missing (the drills need inline certificate data)`);
            }
            return Buffer.from(from[`${field}-data`], "base64");
        };
        this.server = new URL(cluster.server);
        this.agent = new https.Agent({
            ca: data("certificate-authority", cluster),
            cert: data("client-certificate", user),
            key: data("client-key", user),
            keepAlive: true,
            maxSockets: 16,
        });
    }

    /** A request; any status is returned (callers decide what a 404 or a 429 means). */
    request(method: string, path: string, body?: unknown, contentType = "application/json", timeoutMs = 30_000): Promise<KubeResponse> {
        const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const req = https.request({
                host: this.server.hostname, port: this.server.port, path, method, agent: this.agent,
                headers: { Accept: "application/json", ...(payload === undefined ? {} : { "Content-Type": contentType }) },
                timeout: timeoutMs,
            }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = text;
                    try {
                        parsed = text ? JSON.parse(text) : undefined;
                    } catch {
                        // not JSON: keep the text
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
            req.on("error", reject);
            if (payload !== undefined) {
                req.write(payload);
            }
            req.end();
        });
    }

    /** A request that must succeed (2xx); the parsed body. */
    async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
        const r = await this.request(method, path, body, contentType);
        if (r.status < 200 || r.status >= 300) {
            throw new KubeError(method, path, r.status, r.body);
        }
        return r.body;
    }

    get(path: string): Promise<any> {
        return this.ok("GET", path);
    }

    /** A merge patch (JSON merge, or strategic merge for built-in kinds). */
    patch(path: string, body: unknown, strategic = false): Promise<any> {
        return this.ok("PATCH", path, body, strategic ? "application/strategic-merge-patch+json" : "application/merge-patch+json");
    }

    /** Server-side apply of one object under the drills' field manager. */
    apply(path: string, object: unknown): Promise<any> {
        return this.ok("PATCH", `${path}?fieldManager=kubepolaris-drill&force=true`, object, "application/apply-patch+yaml");
    }

    /**
     * A long-lived watch: `onEvent` for every event from `resourceVersion` on. When the server ends
     * the stream (its timeout, or a 410 Gone), it starts again from a fresh list (`relist` gives the
     * current objects as a snapshot). Returns a function that stops it.
     */
    watch(listPath: string, onSnapshot: (items: any[]) => void, onEvent: (e: WatchEvent) => void, onError: (e: Error) => void): () => void {
        let stopped = false;
        let current: ReturnType<typeof https.request> | undefined;
        const sep = listPath.includes("?") ? "&" : "?";
        const start = async (): Promise<void> => {
            while (!stopped) {
                try {
                    const list = await this.get(listPath);
                    onSnapshot(list.items ?? []);
                    await this.stream(`${listPath}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`,
                        onEvent, (req) => { current = req; });
                } catch (e) {
                    if (!stopped) {
                        onError(e as Error);
                        await new Promise((r) => setTimeout(r, 500));
                    }
                }
            }
        };
        void start();
        return () => {
            stopped = true;
            current?.destroy();
        };
    }

    private stream(path: string, onEvent: (e: WatchEvent) => void, started: (req: ReturnType<typeof https.request>) => void): Promise<void> {
        return new Promise((resolve, reject) => {
            const req = https.request({
                host: this.server.hostname, port: this.server.port, path, method: "GET",
                // A watch holds its own connection: it must not block the agent's pooled ones.
                agent: new https.Agent({ ...this.agent.options, keepAlive: false }),
                headers: { Accept: "application/json" },
            }, (res) => {
                if (res.statusCode !== 200) {
                    res.resume();
                    reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
                    return;
                }
                let buffer = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => {
                    buffer += chunk;
                    let nl: number;
                    while ((nl = buffer.indexOf("\n")) >= 0) {
                        const line = buffer.slice(0, nl).trim();
                        buffer = buffer.slice(nl + 1);
                        if (!line) {
                            continue;
                        }
                        const event = JSON.parse(line) as WatchEvent;
                        if (event.type === "ERROR") {
                            // 410 Gone and the like: list again.
                            req.destroy();
                            resolve();
                            return;
                        }
                        onEvent(event);
                    }
                });
                res.on("end", () => resolve());
                res.on("error", () => resolve());
            });
            req.on("error", reject);
            started(req);
            req.end();
        });
    }
}

/** The Ready condition is True and the pod is not being deleted (an endpoint would serve it). */
export function isPodReady(pod: any): boolean {
    return !pod.metadata?.deletionTimestamp
        && (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

/** Not yet placed on a node by the scheduler. */
export function isPodPending(pod: any): boolean {
    return !pod.metadata?.deletionTimestamp && !pod.spec?.nodeName && pod.status?.phase === "Pending";
}

export function isNodeReady(node: any): boolean {
    return (node.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `probe` (every `everyMs`) until it returns a value; throw naming `what` after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
        }
        await sleep(everyMs);
    }
}
