/**
 * The bench's report (bench/lib/report.mjs): per-round ratios, their median and the middle half
 * shown beside it, and bench/render.mjs rebuilding RESULTS.md from a run's JSON. No load is run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { quantile, spread, summarise, table, targets } from '../../bench/lib/report.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ROWS = [
  { id: 'bare', label: 'bare', spansPerSampled: 0 },
  { id: 'quiet', label: 'quiet row', spansPerSampled: 0 },
  { id: 'access-log', label: 'access-log row', spansPerSampled: 0 },
];
const sample = (cpuUs: number, p99 = 4) => ({ requests: 1000, seconds: 1, p50: 1, p99, served: 1000, owed: 0, spans: 0, errorSpans: 0, errors: 0, non2xx: 0, accessLines: 0, cpuUs });
// Four rounds: bare 40 µs each; quiet 1.1×, 1.2×, 1.3×, 1.6× of it; the access log 2 µs (0.05×) over quiet, once 6 µs.
const samples = {
  bare: [40, 40, 40, 40].map((c) => sample(c)),
  quiet: [44, 48, 52, 64].map((c) => sample(c)),
  'access-log': [46, 50, 54, 70].map((c) => sample(c)),
};
const memory = { bare: { idle: 70, peak: 120 }, quiet: { idle: 68, peak: 121 }, 'access-log': { idle: 68, peak: 121 } };

describe('bench report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracecar-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('quantiles interpolate between neighbours, ignoring what is not a number', () => {
    expect(quantile([4, 1, 3, 2], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([4, 1, 3, 2], 0.75)).toBeCloseTo(3.25, 12);
    expect(quantile([5, NaN], 0.9)).toBe(5);
    expect(spread([])).toEqual({ median: NaN, q1: NaN, q3: NaN });
  });

  it('a row shows its median ratio with the middle half of its per-round ratios; the targets use the median', () => {
    const summary = summarise(ROWS, samples, memory);
    const quiet = summary.rows.quiet;
    expect(quiet.cpuRatio).toBeCloseTo(1.25, 12);
    expect(quiet.cpuRatioSpread.q1).toBeCloseTo(1.175, 12);
    expect(quiet.cpuRatioSpread.q3).toBeCloseTo(1.375, 12);
    expect(summary.accessLogAdds).toBeCloseTo(0.05, 12);
    expect(summary.accessLogAddsSpread.q3).toBeCloseTo(0.075, 12);
    expect(table(summary)).toContain('| quiet row | 1000 | 1.00 | 4.00 | 1.00× | 50.0 | 1.25× (1.18–1.38) |');
    // The baseline's ratios are all 1: no range to show.
    expect(table(summary)).toContain('| bare | 1000 | 1.00 | 4.00 | 1.00× | 40.0 | 1.00× |');
    const list = targets(summary, undefined, undefined);
    expect(list.find((t) => t.target.startsWith('No export, no admin, quiet'))).toMatchObject({ measured: '1.25× (1.18–1.38)', met: false });
    expect(list.find((t) => t.target.startsWith('Access log adds'))).toMatchObject({ measured: '+0.05× (+0.05× to +0.07×)', met: true });
  });

  it('bench/render.mjs writes RESULTS.md again from the JSON of a run', async () => {
    const json = join(dir, 'run.json');
    const summary = summarise(ROWS, samples, memory);
    const machine = { date: '2026-12-01T00:00:00.000Z', cpus: 2, cpuModel: 'test CPU', memGiB: 24, os: 'Linux', node: 'v22', loadStart: '0', loadEnd: '0' };
    const config = { load: 'wrk', threads: 1, connections: 32, seconds: 10, rounds: 4, pin: true, proxyCpu: 1, loadCpu: 0 };
    writeFileSync(json, JSON.stringify({ machine, command: 'npm run bench', config, samples, summary }));
    const { stdout } = await promisify(execFile)(process.execPath, ['bench/render.mjs', json, '-'], { cwd: root });
    expect(stdout).toContain('- Load: wrk -t1 -c32 -d10s; 4 round(s)');
    expect(stdout).toContain('- Pinning: proxy under test on CPU 1 (taskset); harness, wrk, upstream and OTLP sink on CPU 0.');
    expect(stdout).toContain('1.25× (1.18–1.38)');
    expect(stdout).toContain('## Targets (issue 9)');
  });
});
