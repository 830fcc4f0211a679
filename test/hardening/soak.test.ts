/**
 * The soak, bounded for the suite (npm run soak is the 10-minute run): steady traffic through
 * tracecar with the viewer store on, and after it nothing has grown: timers, sockets, stitching
 * entries, pooled upstream connections, store within its bounds. Counts, never timing. Also the
 * soak's verdict rule (scripts/lib/flat.mjs) on series whose answer is known.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { flatness, slope } from '../../scripts/lib/flat.mjs';
import { steadyRate } from '../../scripts/lib/steady.mjs';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const RATE = 200;

function count(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('soak (bounded): steady traffic leaves nothing growing', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  let pool: Pool;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' }, admin: { store: { maxTraces: 500 } } });
    pool = new Pool(tc.url, { connections: 8 });
  });
  afterAll(async () => {
    await pool.close();
    await tc.close();
    await app.close();
  });

  /** `seconds` of requests at RATE; resolves when all answered; every one must be a 200. */
  async function steady(seconds: number): Promise<void> {
    const statuses = await steadyRate(RATE, seconds, (n) =>
      pool.request({ path: `/orders/${n % 50}`, method: n % 10 === 0 ? 'POST' : 'GET', body: n % 10 === 0 ? '{"item":1}' : undefined }).then(async (res) => {
        await res.body.text();
        return res.statusCode;
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }

  async function settled(): Promise<{ timeouts: number; sockets: number; pooled: number; entries: number }> {
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'nothing in flight');
    await waitFor(() => Object.values(tc.tracecar.upstreamPools()).every((p) => p.running === 0 && p.pending === 0), 5_000, 'the upstream pool idle');
    return {
      timeouts: count('Timeout'),
      sockets: count('TCPSocketWrap'),
      pooled: Object.values(tc.tracecar.upstreamPools()).reduce((n, p) => n + p.connected, 0),
      entries: tc.tracecar.inflightEntries,
    };
  }

  it('2 s of warm-up, then 10 s more: timers, sockets, stitching entries and pooled connections are no higher; the store stays bounded', async () => {
    await steady(2);
    const warm = await settled();
    await steady(10);
    const after = await settled();
    expect(after.entries).toBe(0);
    expect(warm.entries).toBe(0);
    expect(after.timeouts).toBeLessThanOrEqual(warm.timeouts);
    expect(after.pooled).toBeLessThanOrEqual(8);
    expect(after.sockets).toBeLessThanOrEqual(warm.sockets);
    const store = tc.tracecar.store.stats();
    expect(store.traces).toBeLessThanOrEqual(500);
    expect(store.evictedTraces).toBeGreaterThan(0);
  });
});

describe('the soak verdict rule', () => {
  const series = (f: (t: number) => number) => Array.from({ length: 120 }, (_, i) => ({ t: i * 5, value: f(i * 5) }));
  it('npm run soak refuses a run too short for the verdict (exit 2, the minimum named) before starting anything', () => {
    const script = fileURLToPath(new URL('../../scripts/soak.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [script], { env: { ...process.env, SOAK_SECONDS: '15' }, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('SOAK_SECONDS ≥ 25');
    expect(run.stdout).toBe('');
  });

  it('a noisy flat series is flat; a steady leak of the same size as the noise is not', () => {
    let seed = 7;
    const noise = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647 - 0.5) * 20;
    expect(flatness(series(() => 150 + noise()), 10).flat).toBe(true);
    // 150 MiB rising 3 MiB a minute: +20 MiB over the 400 s window.
    const leak = flatness(series((t) => 150 + (3 * t) / 60 + noise()), 10);
    expect(leak.flat).toBe(false);
    expect(leak.growth).toBeGreaterThan(15);
    expect(leak.window).toBe(395);
  });
  it('warm-up growth in the first third does not count', () => {
    expect(flatness(series((t) => (t < 200 ? t / 2 : 100)), 10).flat).toBe(true);
  });
  it('one spike near the end does not make a flat series grow (Theil–Sen, not least squares)', () => {
    const spiked = series((t) => (t === 590 ? 190 : 12));
    expect(flatness(spiked, 20).flat).toBe(true);
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBe(2);
    expect(slope([0], [1])).toBe(0);
  });
});
