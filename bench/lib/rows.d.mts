// Types for the tests that read the bench's rows (test/bench/harness.test.ts).
export interface BenchRow {
  id: string;
  label: string;
  script: string;
  spansPerSampled: number;
  /** Run only when BENCH_ROWS names it. */
  optional?: boolean;
  h2?: boolean;
  baseline?: string;
}
export const ROWS: BenchRow[];
/** BENCH_ROWS=id,id → those rows in table order, with the baseline each needs; none → every row not optional. */
export function selectRows(filter?: string): BenchRow[];
