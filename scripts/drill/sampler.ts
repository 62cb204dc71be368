// The ready pods of each workload over time: one long-lived watch on the namespace's pods (the
// client library's informer and its cache), and a timer samples it every SAMPLE_MS into a series.
import type { Informer, ObjectCache, V1Pod } from "@kubernetes/client-node";
import { Sample, Workload, WORKLOADS } from "./figures";
import { isPodPending, isPodReady, Kube } from "./kube";

export const SAMPLE_MS = 150;

export class PodWatch {
    private informer?: Informer<V1Pod> & ObjectCache<V1Pod>;
    /** Nodes that failed (a lost zone): their pods serve nothing, whatever the API still says. */
    readonly deadNodes = new Set<string>();
    errors = 0;

    constructor(private readonly kube: Kube, private readonly namespace: string,
        private readonly selectors: Record<Workload, Record<string, string>>) {}

    /** Resolves once the pods are listed (the watch goes on from there). */
    async start(): Promise<void> {
        this.informer = this.kube.podInformer(this.namespace, () => { this.errors++; });
        let timer: NodeJS.Timeout | undefined;
        try {
            await Promise.race([
                this.informer.start(),
                new Promise((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`the pod watch on namespace ${this.namespace} did not list within 30 s`)), 30_000);
                }),
            ]);
        } finally {
            clearTimeout(timer);
        }
    }

    stop(): void {
        void this.informer?.stop();
    }

    /** The workload's pods now (from the watch's map). */
    podsOf(workload: Workload): V1Pod[] {
        const selector = this.selectors[workload];
        return this.all().filter((p) =>
            Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v));
    }

    all(): readonly V1Pod[] {
        return this.informer?.list(this.namespace) ?? [];
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
