/**
 * Latency samples, exact: every delivery's latency is kept (a growable Float64Array) and sorted
 * once per phase. A phase of 500 subscribers × a few thousand messages is a few million numbers:
 * tens of MB and well under a second to sort, so no histogram approximation is needed.
 */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /**
   * Percentiles over `expected` deliveries: the ones that never arrived count as infinitely late,
   * so a server that drops or sits on messages cannot look fast.
   */
  summary(expected = this.length): LatencySummary {
    const sorted = this.data.slice(0, this.length).sort();
    const total = Math.max(expected, this.length);
    const at = (p: number) => {
      const rank = Math.ceil(p * total) - 1;
      if (rank >= sorted.length) return Number.POSITIVE_INFINITY;
      return sorted[Math.max(0, rank)] ?? Number.POSITIVE_INFINITY;
    };
    return {
      count: this.length,
      expected: total,
      p50: at(0.5),
      p99: at(0.99),
      max: this.length > 0 ? (sorted[this.length - 1] ?? 0) : Number.POSITIVE_INFINITY,
    };
  }
}

export interface LatencySummary {
  count: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const round = (value: number, digits = 1) =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value;
