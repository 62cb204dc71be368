// Quantity arithmetic to size quotas from the size tier table, on the one Kubernetes quantity
// parser the policy pack also uses (policy/facts/quantity.ts): what the program sizes is what the
// pack's quota checks compute.
import { formatCpu, parseQuantity } from "../policy/facts";

export { formatCpu };

/** Millicores of a CPU quantity ("500m" → 500, "2" → 2000); throws on anything Kubernetes would not accept. */
export function cpuMillis(quantity: string): number {
    const cores = parseQuantity(quantity);
    if (cores === undefined || cores < 0) {
        throw new Error(`not a CPU quantity: "${quantity}" (expected e.g. 500m or 2)`);
    }
    return Math.round(cores * 1000);
}

/** Bytes of a memory quantity ("512Mi", "4Gi", "1G"); throws on anything Kubernetes would not accept. */
export function memoryBytes(quantity: string): number {
    const bytes = parseQuantity(quantity);
    if (bytes === undefined || bytes < 0) {
        throw new Error(`not a memory quantity: "${quantity}" (expected e.g. 512Mi or 4Gi)`);
    }
    return bytes;
}

/** A byte count rounded up to whole Mi, as Gi when it is whole Gi. */
export function formatMemory(bytes: number): string {
    const mi = Math.ceil(bytes / 1024 ** 2);
    return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}
