// Just enough Kubernetes quantity arithmetic to size quotas from the size tier table.

const CPU = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_FACTORS: Record<string, number> = {
    "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
};

export function cpuMillis(quantity: string): number {
    const m = CPU.exec(quantity);
    if (!m) {
        throw new Error(`not a CPU quantity: "${quantity}" (expected e.g. 500m or 2)`);
    }
    return Math.round(Number(m[1]) * (m[2] === "m" ? 1 : 1000));
}

export function memoryBytes(quantity: string): number {
    const m = MEMORY.exec(quantity);
    if (!m) {
        throw new Error(`not a memory quantity: "${quantity}" (expected e.g. 512Mi or 4Gi)`);
    }
    return Number(m[1]) * MEMORY_FACTORS[m[2] ?? ""];
}

export function formatCpu(millis: number): string {
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

export function formatMemory(bytes: number): string {
    const mi = Math.ceil(bytes / 1024 ** 2);
    return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}
