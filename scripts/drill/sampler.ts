// The ready pods of each workload over time: one long-lived watch on the namespace's pods keeps an
// in-memory map, and a timer samples it every SAMPLE_MS into a series (no kubectl in a loop).
import { Sample, Workload, WORKLOADS } from "./figures";
import { isPodPending, isPodReady, Kube } from "./kube";

export const SAMPLE_MS = 150;

export class PodWatch {
    private readonly pods = new Map<string, any>();
    private stopWatch?: () => void;
    private synced = false;
    /** Nodes that failed (a lost zone): their pods serve nothing, whatever the API still says. */
    readonly deadNodes = new Set<string>();
    errors = 0;

    constructor(private readonly kube: Kube, private readonly namespace: string,
        private readonly selectors: Record<Workload, Record<string, string>>) {}

    start(): Promise<void> {
        this.stopWatch = this.kube.watch(`/api/v1/namespaces/${this.namespace}/pods`,
            (items) => {
                this.pods.clear();
                for (const p of items) {
                    this.pods.set(p.metadata.name, p);
                }
                this.synced = true;
            },
            (e) => {
                if (e.type === "DELETED") {
                    this.pods.delete(e.object.metadata.name);
                } else if (e.type === "ADDED" || e.type === "MODIFIED") {
                    this.pods.set(e.object.metadata.name, e.object);
                }
            },
            () => { this.errors++; });
        return new Promise((resolve, reject) => {
            const t0 = Date.now();
            const check = setInterval(() => {
                if (this.synced) {
                    clearInterval(check);
                    resolve();
                } else if (Date.now() - t0 > 30_000) {
                    clearInterval(check);
                    reject(new Error(`the pod watch on namespace ${this.namespace} did not list within 30 s`));
                }
            }, 20);
        });
    }

    stop(): void {
        this.stopWatch?.();
    }

    /** The workload's pods now (from the watch's map). */
    podsOf(workload: Workload): any[] {
        const selector = this.selectors[workload];
        return [...this.pods.values()].filter((p) =>
            Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    }

    all(): any[] {
        return [...this.pods.values()];
    }

    serving(pod: any): boolean {
        return isPodReady(pod) && !this.deadNodes.has(pod.spec?.nodeName);
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
