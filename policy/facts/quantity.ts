// Kubernetes resource quantities (resource.Quantity): "500m", "1.5", "2Gi", "128M", "1e3". CPU in
// cores, memory in bytes; the number a quota compares. One parser for the pack (quota arithmetic)
// and the program (sizing quotas from the tier table, components/quantity.ts).

const SUFFIXES: Record<string, number> = {
    n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** The quantity's value in base units, or undefined when it is not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) ? value : undefined;
    }
    if (typeof value !== "string") {
        return undefined;
    }
    const m = QUANTITY.exec(value.trim());
    if (!m) {
        return undefined;
    }
    const suffix = m[2] ?? "";
    const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIXES[suffix];
    return Number(m[1]) * factor;
}

/** "2.5" cores / "1536Mi" style rendering of a base-unit amount, for messages. */
export function formatQuantity(resource: string, value: number): string {
    if (resource.endsWith("memory")) {
        const mi = value / 2 ** 20;
        return Number.isInteger(mi) ? `${mi}Mi` : `${Math.round(value)}`;
    }
    if (resource.endsWith("cpu")) {
        return formatCpu(Math.round(value * 1000));
    }
    return String(Math.round(value * 1000) / 1000);
}

/** Millicores as Kubernetes writes them: "2" for 2000, "500m" for 500. */
export function formatCpu(millis: number): string {
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
