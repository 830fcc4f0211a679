/**
 * A storm of clients that abort at every stage of an exchange (while sending a body, while
 * waiting for the response, in the middle of the response body) leaves nothing behind: no
 * request in flight, no stitching entry, no timer, no upstream request running or queued, and
 * no upstream socket the pool does not hold as an idle connection. Abort points come from a
 * seeded sequence, so a failure replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/** Park–Miller: a small seeded sequence in [0, 1). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
}

/** tracecar_requests_total over all labels. */
async function requestsTotal(): Promise<number> {
  const metric = await tc.tracecar.metrics.registry.getSingleMetric('tracecar_requests_total')!.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}
let tc: RunningTracecar;

function count(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('client abort storms', () => {
  let app: Upstream;
  /** What the app has received of each request (body bytes for uploads), by path. */
  const progress = new Map<string, number>();
  beforeAll(async () => {
    app = await startUpstream(
      (req, res) => {
        const url = req.url ?? '';
        progress.set(url, 0);
        if (url.startsWith('/upload')) {
          req.on('data', (d: Buffer) => progress.set(url, progress.get(url)! + d.length));
          req.on('end', () => res.end('stored'));
          return;
        }
        // A response that takes ~200 ms to stream, and one that waits 100 ms before its headers.
        const wait = url.startsWith('/late') ? 100 : 0;
        const timer = setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          let n = 0;
          const tick = setInterval(() => {
            if (n++ === 20 || res.destroyed) {
              clearInterval(tick);
              res.end();
            } else res.write('x'.repeat(1024));
          }, 10);
          res.on('close', () => clearInterval(tick));
        }, wait);
        res.on('close', () => clearTimeout(timer));
      },
      { raw: true },
    );
    tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('300 clients aborting at random points leave no in-flight entry, timer, or unaccounted upstream socket', async () => {
    const port = tc.addresses.ingress.port;
    // Warm up the pool and every lazily created timer, then take the baseline.
    const warm = await fetch(`${tc.url}/warm`);
    await warm.text();
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'warm-up');
    const baseline = { timeouts: count('Timeout') };

    // Each client leaves at a point of its exchange, not of the clock (a busy machine must not
    // turn the storm into connections that never sent a request): mid-upload once the app has
    // some of the body, while waiting for the response once the app has the request, or in the
    // middle of the response body.
    const random = seeded(20_260_101);
    tc.tracecar.store.clear();
    const N = 300;
    await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const kind = ['upload', 'late', 'stream'][i % 3];
        const path = `/${kind}?i=${i}`;
        const point = random();
        return new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          socket.on('error', () => {});
          const watch = setInterval(() => {
            const got = progress.get(path);
            if (kind === 'upload' && got !== undefined && got >= point * 200_000) socket.destroy();
            if (kind === 'late' && got !== undefined) socket.destroy();
            if (kind === 'upload' && !socket.destroyed) socket.write('b'.repeat(4096));
          }, 5);
          socket.on('close', () => {
            clearInterval(watch);
            resolve();
          });
          let received = 0;
          socket.on('data', (d: Buffer) => {
            received += d.length;
            if (kind === 'stream' && received >= 1_000 + point * 15_000) socket.destroy();
          });
          if (kind === 'upload') socket.write(`POST ${path} HTTP/1.1\r\nHost: app\r\nContent-Length: 1000000\r\n\r\n`);
          else socket.write(`GET ${path} HTTP/1.1\r\nHost: app\r\n\r\n`);
        });
      }),
    );

    await waitFor(() => tc.tracecar.inflight === 0, 10_000, () => `no request in flight (${tc.tracecar.inflight} left)`);
    expect(tc.tracecar.inflightEntries).toBe(0);
    await waitFor(() => Object.values(tc.tracecar.upstreamPools()).every((p) => p.running === 0 && p.pending === 0), 5_000, 'no upstream request running or queued');
    // Every upstream socket still open is an idle connection the pool holds (the app's side of it too).
    await waitFor(
      async () => {
        const pooled = Object.values(tc.tracecar.upstreamPools()).reduce((n, p) => n + p.connected, 0);
        const free = Object.values(tc.tracecar.upstreamPools()).reduce((n, p) => n + p.free, 0);
        const atApp = await new Promise<number>((r) => app.server.getConnections((_e, n) => r(n)));
        return pooled === free && atApp === pooled;
      },
      10_000,
      'upstream sockets accounted for by the pool',
    );
    await waitFor(() => count('Timeout') <= baseline.timeouts, 10_000, () => `timers back to the baseline (${count('Timeout')} > ${baseline.timeouts})`);

    // Every request ended its span, as a client abort (or, for a stream the app finished first, normally).
    const spans = tc.tracecar.store.list({ limit: 10_000 }).flatMap((t) => tc.tracecar.store.get(t.traceId) ?? []);
    expect(spans.length).toBe(N);
    expect((await requestsTotal()) - 1).toBe(N);
    const aborted = spans.filter((s) => s.attributes['tracecar.error.code'] === 'TRC_ERR_CLIENT_ABORTED').length;
    const finished = spans.filter((s) => s.attributes['tracecar.error.code'] === undefined && s.attributes['http.response.status_code'] === 200).length;
    expect(aborted + finished).toBe(N);
    expect(aborted).toBeGreaterThan((2 * N) / 3);

    // And the proxy still serves.
    const after = await fetch(`${tc.url}/late?after`);
    expect(after.status).toBe(200);
    await after.text();
  });
});
