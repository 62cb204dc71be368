// The ready pods of each workload over time: one long-lived watch on the namespace's pods (the
// client library's informer and its cache), and a timer samples it every SAMPLE_MS into a series.
import type { V1Pod } from "@kubernetes/client-node";
import { Sample, Workload, WORKLOADS } from "./figures";
import { isPodPending, isPodReady, Kube, PodCache } from "./kube";

export const SAMPLE_MS = 150;

export class PodWatch {
    private cache?: PodCache;
    /** Nodes that failed (a lost zone): their pods serve nothing, whatever the API still says. */
    readonly deadNodes = new Set<string>();
    errors = 0;

    constructor(private readonly kube: Kube, private readonly namespace: string,
        private readonly selectors: Record<Workload, Record<string, string>>) {}

    /** Resolves once the pods are listed (the watch goes on from there). */
    start(): Promise<void> {
        this.cache = this.kube.podCache(this.namespace, () => { this.errors++; });
        return this.cache.start(30_000);
    }

    stop(): void {
        this.cache?.stop();
    }

    /** The workload's pods now (from the watch's map). */
    podsOf(workload: Workload): V1Pod[] {
        const selector = this.selectors[workload];
        return this.all().filter((p) =>
            Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v));
    }

    all(): readonly V1Pod[] {
        return this.cache?.list() ?? [];
    }

    serving(pod: V1Pod): boolean {
        return isPodReady(pod) && !this.deadNodes.has(pod.spec?.nodeName ?? "");
    }

    snapshot(t: number): Sample {
        const ready = {} as Record<Workload, number>;
        const pending = {} as Record<Workload, number>;
        for (const w of WORKLOADS) {
            const pods = this.podsOf(w);
            ready[w] = pods.filter((p) => this.serving(p)).length;
            pending[w] = pods.filter(isPodPending).length;
        }
        return { t, ready, pending };
    }

    /** Sample every SAMPLE_MS from now until the returned function is called; it returns the series. */
    record(): () => Sample[] {
        const t0 = Date.now();
        const samples: Sample[] = [this.snapshot(0)];
        const timer = setInterval(() => samples.push(this.snapshot((Date.now() - t0) / 1000)), SAMPLE_MS);
        return () => {
            clearInterval(timer);
            samples.push(this.snapshot((Date.now() - t0) / 1000));
            return samples;
        };
    }
}
