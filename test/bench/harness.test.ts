/**
 * The bench harness (bench/run.mjs) in a tiny mode: the baseline, the OTLP-export row and the
 * as-shipped row, 300 requests each by autocannon, one round, one start-up launch. Checks the
 * harness's own accounting against what the real parts saw — every request reached the upstream,
 * the OTLP sink decoded one span per request, the access log wrote one line per request — never a
 * timing. Runs the built CLI (`npm test` builds first).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const REQUESTS = 300;

interface Sample {
  requests: number;
  served: number;
  owed: number;
  spans: number;
  cpuUs: number;
  accessLines: number;
  errorSpans: number;
  errors: number;
  non2xx: number;
}
interface Report {
  config: { load: string };
  samples: Record<string, Sample[]>;
  startup: { versionMs: number[]; listenMs: number[]; idleRss: number[] };
  targets: Array<{ target: string; met: boolean | null }>;
}

describe('bench harness, tiny mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracecar-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts one delivered span and one served request per request sent, per row', async () => {
    const json = join(dir, 'bench.json');
    const { stdout } = await run(process.execPath, ['bench/run.mjs', '--json', json, '--out', '-'], {
      cwd: root,
      timeout: 60_000,
      env: cleanEnv({
        BENCH_ROWS: 'otlp,shipped',
        BENCH_ROUNDS: '1',
        BENCH_REQUESTS: String(REQUESTS),
        BENCH_CONNECTIONS: '8',
        BENCH_LOAD: 'autocannon',
        BENCH_WARMUP: '0',
        BENCH_STARTUP_RUNS: '1',
        BENCH_PIN: '0',
        BENCH_FLUSH_WAIT: '20',
      }),
    });
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.config.load).toBe('autocannon');
    expect(Object.keys(report.samples).sort()).toEqual(['bare', 'otlp', 'shipped']);
    for (const [id, [s]] of Object.entries(report.samples)) {
      expect({ id, requests: s.requests, served: s.served, errors: s.errors + s.non2xx }).toEqual({ id, requests: REQUESTS, served: REQUESTS, errors: 0 });
      expect(s.cpuUs).toBeGreaterThan(0);
    }
    for (const id of ['otlp', 'shipped']) {
      const [s] = report.samples[id];
      // Every request was sampled (traceparent flag seen by the upstream), and the sink decoded exactly that many spans.
      expect({ id, owed: s.owed, spans: s.spans }).toEqual({ id, owed: REQUESTS, spans: REQUESTS });
    }
    expect(report.samples.shipped[0].accessLines).toBe(REQUESTS);
    expect(report.samples.otlp[0].accessLines).toBe(0);
    expect(report.targets.find((t) => t.target.startsWith('otlp: every span delivered'))?.met).toBe(true);
    expect(report.samples.otlp[0].errorSpans).toBe(0);
    expect(report.startup.versionMs).toHaveLength(1);
    expect(report.startup.listenMs).toHaveLength(1);
    expect(report.startup.idleRss[0]).toBeGreaterThan(0);
    // The printed table has every row, with the baseline's ratio.
    expect(stdout).toMatch(/\| bare undici proxy \(baseline\) \|.*\| 1\.00× \|/);
    expect(stdout).toContain('| tracecar, OTLP gRPC export at 100%, quiet, no admin |');
    expect(stdout).toContain(`| ${REQUESTS} / ${REQUESTS} |`);
  });

  it('the raw-socket probe rows run only when named, and forward every request', async () => {
    const { selectRows } = await import('../../bench/lib/rows.mjs');
    expect(selectRows().map((r) => r.id)).not.toContain('raw-probe');
    expect(selectRows().map((r) => r.id)).not.toContain('http-raw-upstream');
    expect(selectRows('raw-probe,http-raw-upstream').map((r) => r.id)).toEqual(['bare', 'raw-probe', 'http-raw-upstream']);
    const json = join(dir, 'bench-probe.json');
    await run(process.execPath, ['bench/run.mjs', '--json', json, '--out', '-'], {
      cwd: root,
      timeout: 60_000,
      env: cleanEnv({ BENCH_ROWS: 'raw-probe,http-raw-upstream', BENCH_ROUNDS: '1', BENCH_REQUESTS: String(REQUESTS), BENCH_CONNECTIONS: '4', BENCH_WARMUP: '0', BENCH_STARTUP_RUNS: '0', BENCH_PIN: '0', BENCH_LOAD: 'autocannon' }),
    });
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    for (const id of ['raw-probe', 'http-raw-upstream']) {
      const [s] = report.samples[id];
      expect({ id, requests: s.requests, served: s.served, errors: s.errors + s.non2xx }).toEqual({ id, requests: REQUESTS, served: REQUESTS, errors: 0 });
    }
  });

  // h2load (Debian's nghttp2-client) drives the HTTP/2 rows; without it the harness leaves them out.
  const h2load = !spawnSync('h2load', ['--version']).error;
  if (!h2load) console.warn('bench harness: h2load not installed (apt-get install nghttp2-client): the HTTP/2 row check is skipped');
  it.skipIf(!h2load)('HTTP/2 rows: h2load through tracecar and through the bare node:http2 proxy, ratios to h2-bare', async () => {
    const json = join(dir, 'bench-h2.json');
    const { stdout } = await run(process.execPath, ['bench/run.mjs', '--json', json, '--out', '-'], {
      cwd: root,
      timeout: 60_000,
      env: cleanEnv({ BENCH_ROWS: 'h2', BENCH_ROUNDS: '1', BENCH_REQUESTS: String(REQUESTS), BENCH_CONNECTIONS: '4', BENCH_WARMUP: '0', BENCH_STARTUP_RUNS: '0', BENCH_PIN: '0', BENCH_LOAD: 'autocannon' }),
    });
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report & { summary: { rows: Record<string, { cpuRatio: number; baseline: string }> } };
    // Only the HTTP/2 rows and their own baseline: no undici baseline is needed for them.
    expect(Object.keys(report.samples).sort()).toEqual(['h2', 'h2-bare']);
    for (const [id, [s]] of Object.entries(report.samples)) {
      expect({ id, requests: s.requests, served: s.served, errors: s.errors + s.non2xx }).toEqual({ id, requests: REQUESTS, served: REQUESTS, errors: 0 });
    }
    expect(report.summary.rows.h2.baseline).toBe('h2-bare');
    expect(report.summary.rows['h2-bare'].cpuRatio).toBe(1);
    expect(report.summary.rows.h2.cpuRatio).toBeGreaterThan(0);
    expect(stdout).toMatch(/\| HTTP\/2: bare node:http2 proxy \(baseline of the h2 rows\), h2c both sides \|.*\| 1\.00× \|/);
  });
});
