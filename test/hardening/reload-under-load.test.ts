/**
 * Hot reload under load, bounded for the suite (scripts/reload-under-load.mjs runs the full
 * minute against the real CLI): a new config version every 250 ms while requests flow at about
 * 200/s. No request fails, no span is lost, and every request runs under exactly one version:
 * each version names its own correlation header and service.name, and the header the app got,
 * the header the client got back and the span's service must all name the same version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { steadyRate } from '../../scripts/lib/steady.mjs';
import { startTracecar, startUpstream, testConfig, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const SECONDS = 4;
const RATE = 200;
const RELOAD_EVERY_MS = 250;

const versionConfig = (app: Upstream, v: number) =>
  testConfig({
    service: { name: `reload-v${v}` },
    ingress: { target: app.url },
    export: { console: 'off' },
    propagation: { correlationHeaders: [`x-v${v}-id`] },
    // The limits reload too (applied to the listener on every version).
    limits: { maxHeaderCount: 100 + (v % 2), keepAliveTimeout: 5_000 + v },
    // Every span is looked up in the store afterwards: no per-second limit on what it takes.
    admin: { store: { maxTraces: 5_000, maxSpansPerSecond: 0 } },
  });

describe('hot reload under load', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    // The app answers with the correlation header name it received (its version).
    app = await startUpstream((req, res) => {
      const name = Object.keys(req.headers).find((h) => /^x-v\d+-id$/.test(h)) ?? 'none';
      setTimeout(() => res.end(name), 5);
    });
    tc = await startTracecar(versionConfig(app, 0));
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it(`${SECONDS} s at ${RATE} req/s with a reload every ${RELOAD_EVERY_MS} ms: no failure, no lost span, one version per request`, async () => {
    const pool = new Pool(tc.url, { connections: 16 });
    let version = 0;
    const reloader = setInterval(() => tc.tracecar.reload(versionConfig(app, ++version)), RELOAD_EVERY_MS);
    const done = await steadyRate(RATE, SECONDS, (i) =>
      pool.request({ path: `/r/${i}`, method: 'GET' }).then(
        async (res): Promise<{ status: number; sent: string; seen: string; traceId: string } | { error: string }> => {
          const seen = await res.body.text();
          const sent = Object.keys(res.headers).find((h) => /^x-v\d+-id$/.test(h)) ?? 'none';
          return { status: res.statusCode, sent, seen, traceId: String(res.headers.traceresponse).split('-')[1] };
        },
        (err: Error) => ({ error: err.message }),
      ),
    );
    clearInterval(reloader);
    await pool.close();

    const failed = done.filter((r) => 'error' in r || r.status !== 200);
    expect(failed).toEqual([]);
    expect(version).toBeGreaterThanOrEqual((SECONDS * 1_000) / RELOAD_EVERY_MS - 2);
    const ok = done as Array<{ status: number; sent: string; seen: string; traceId: string }>;
    const versions = new Set<string>();
    for (const r of ok) {
      expect(r.seen, 'the header the app got names the version the client got back').toBe(r.sent);
      const spans = tc.tracecar.store.get(r.traceId);
      expect(spans, `span of trace ${r.traceId}`).toBeDefined();
      expect(spans![0].service).toBe(`reload-${r.sent.slice(2, -3)}`);
      versions.add(r.sent);
    }
    // Requests really ran under many versions.
    expect(versions.size).toBeGreaterThan(((SECONDS * 1_000) / RELOAD_EVERY_MS) / 2);
    expect(ok.length).toBeGreaterThan(SECONDS * RATE * 0.8);
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'nothing in flight');
  });
});
