/** Types of report.mjs (the bench's table and targets), for the suite's TypeScript: the parts the tests use. */
export interface Spread {
  median: number;
  q1: number;
  q3: number;
}
export interface RowSummary {
  id: string;
  cpuRatio: number;
  cpuRatioSpread: Spread;
  p99Ratio: number;
  p99RatioSpread: Spread;
  [key: string]: unknown;
}
export interface Summary {
  rows: Record<string, RowSummary>;
  accessLogAdds: number;
  accessLogAddsSpread: Spread;
  storeAdds: number;
  storeAddsSpread: Spread;
}
export function median(xs: number[]): number;
export function quantile(xs: number[], q: number): number;
export function spread(xs: number[]): Spread;
export function summarise(
  rows: Array<{ id: string; label: string; spansPerSampled: number; h2?: boolean; baseline?: string }>,
  samples: Record<string, Array<Record<string, number>>>,
  memory: Record<string, { idle: number; peak: number }>,
): Summary;
export function table(summary: Summary): string;
export function targets(summary: Summary, startup: unknown, steady: unknown): Array<{ target: string; measured: string; met: boolean | null }>;
