/**
 * Collector faults (issue 10), each against a real peer on loopback: a TCP server that accepts and
 * never answers (a black hole), a closed port, a slow OTLP/gRPC receiver, and a real receiver
 * stopped and restarted on the same port. In every case: span end never waits or throws, the
 * queue (and the bytes it holds) stays within maxQueueSize, every span is either delivered or
 * counted as dropped with its reason, the log gets one line per episode (not per span or batch),
 * and connections do not pile up. The restart loses no span with the default retry policy.
 */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { OtlpConfig } from '../../../src/config/types.js';
import { TracecarError } from '../../../src/errors.js';
import { createSpanExporter, type SpanExporter, type SpanExporterOptions } from '../../../src/telemetry/export/index.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../../helpers/harness.js';
import { closedPort } from '../../helpers/net.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { parseExposition } from '../../helpers/admin-prom.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { serverSpan } from './span-fixtures.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

interface BlackHole {
  endpoint: string;
  /** Connections accepted so far, and those still open. */
  accepted: number;
  openSockets: number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never sends a byte (nor closes them). */
async function blackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const hole: BlackHole = { endpoint: '', accepted: 0, openSockets: 0, close: async () => undefined };
  const server = createServer((socket) => {
    hole.accepted++;
    sockets.add(socket);
    hole.openSockets = sockets.size;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      hole.openSockets = sockets.size;
    });
    socket.resume(); // read and discard, answer nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hole.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  hole.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  open.push(hole);
  return hole;
}


function otlp(endpoint: string, overrides: Partial<OtlpConfig> = {}): OtlpConfig {
  return { endpoint, protocol: 'grpc', headers: {}, timeout: 200, compression: 'none', ...overrides };
}

interface Watched {
  exporter: SpanExporter;
  warnings: TracecarError[];
  infos: string[];
}

function exporter(options: Partial<SpanExporterOptions> & { otlp: OtlpConfig }): Watched {
  const warnings: TracecarError[] = [];
  const infos: string[] = [];
  const e = createSpanExporter({
    maxQueueSize: 40,
    maxExportBatchSize: 10,
    scheduledDelay: 10,
    resource: { serviceName: 'orders', attributes: {} },
    retry: { initialBackoff: 20, maxBackoff: 50, maxElapsed: 400 },
    random: () => 0.5,
    onError: (err) => warnings.push(err as TracecarError),
    onRecovered: (message) => infos.push(message),
    ...options,
  });
  open.push({ close: () => e.shutdown(500) });
  return { exporter: e, warnings, infos };
}

/** Ends `count` spans in bursts of `burst`, yielding between bursts; returns the most spans ever queued. */
async function endSpans(e: SpanExporter, count: number, burst = 20, name = (i: number) => `span-${i}`): Promise<{ maxQueued: number; maxBytes: number }> {
  let maxQueued = 0;
  let maxBytes = 0;
  for (let i = 0; i < count; i++) {
    expect(e.enqueue(serverSpan({ name: name(i) }))).toBeUndefined();
    const s = e.stats();
    maxQueued = Math.max(maxQueued, s.queued);
    maxBytes = Math.max(maxBytes, s.queuedBytes);
    if (i % burst === burst - 1) await sleep(5);
  }
  return { maxQueued, maxBytes };
}

const codes = (warnings: TracecarError[]): string[] => warnings.map((w) => w.code);

describe('collector faults', () => {
  it('a black hole (accepts, never answers): bounded queue, drops counted by reason, one line per episode, one connection', async () => {
    const hole = await blackHole();
    const { exporter: e, warnings, infos } = exporter({ otlp: otlp(hole.endpoint) });
    const one = serverSpan({ name: 'span-0' });
    const { maxQueued, maxBytes } = await endSpans(e, 400);
    expect(maxQueued).toBeLessThanOrEqual(40);
    // The bytes held are the queued spans' encodings: about one span's size each, never more than the queue holds.
    const spanSize = JSON.stringify(one).length * 2;
    expect(maxBytes).toBeLessThanOrEqual(40 * spanSize);
    await waitFor(() => (e.stats().droppedByReason.retries_exhausted > 0 ? true : undefined), 10_000, 'a batch given up');
    await e.shutdown(300);

    const s = e.stats();
    expect(hole.accepted).toBeGreaterThan(0);
    expect(s.exported).toBe(0);
    expect(s.queued).toBe(0);
    expect(s.dropped).toBe(400);
    expect(s.droppedByReason.queue_full).toBeGreaterThan(0);
    expect(s.droppedByReason.retries_exhausted).toBeGreaterThan(0);
    expect(s.droppedByReason.queue_full + s.droppedByReason.retries_exhausted + s.droppedByReason.shutdown).toBe(400);
    expect(s.retried).toBeGreaterThan(0);
    // One line when export started failing, one when drops started, one summing the burst up at shutdown.
    expect(codes(warnings).sort()).toEqual(['TRC_ERR_EXPORT', 'TRC_ERR_EXPORT_QUEUE_FULL']);
    expect(warnings.find((w) => w.code === 'TRC_ERR_EXPORT')!.message).toMatch(/retrying with backoff/);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatch(/span drops ended: 400 spans dropped/);
    // Every attempt went over the one connection the black hole accepted: none piles up. (That one
    // stays open until the collector closes it: grpc-js cannot cancel a connection still waiting
    // for the server's HTTP/2 SETTINGS.)
    expect(hole.accepted).toBe(1);
  });

  it('a closed port (connection refused): retried with backoff, then given up and counted; one line per episode', async () => {
    const { exporter: e, warnings } = exporter({ otlp: otlp(await closedPort()) });
    await endSpans(e, 100);
    await e.forceFlush();
    const s = e.stats();
    expect(s.exported).toBe(0);
    expect(s.dropped).toBe(100);
    expect(s.droppedByReason.retries_exhausted).toBeGreaterThan(0);
    expect(s.retried).toBeGreaterThan(0);
    expect(s.failedExports).toBeGreaterThan(s.retried / 10); // every attempt of every batch is one failed export
    // One line when export started failing, one when the drops started (queue full or a batch given up, whichever came first).
    expect(warnings).toHaveLength(2);
    expect(warnings.some((w) => /retrying with backoff/.test(w.message))).toBe(true);
  });

  it('a slow collector: one export in flight, the queue fills and drops (counted, one line); everything accepted is delivered', async () => {
    const r = await startOtlpReceiver({ delayMs: 150 });
    open.push(r);
    const { exporter: e, warnings } = exporter({ otlp: otlp(r.endpoint, { timeout: 5_000 }), maxQueueSize: 30 });
    const { maxQueued } = await endSpans(e, 200, 50);
    expect(maxQueued).toBeLessThanOrEqual(30);
    await e.forceFlush();
    const s = e.stats();
    expect(s.droppedByReason.queue_full).toBeGreaterThan(0);
    expect(s.exported + s.dropped).toBe(200);
    expect(s.dropped).toBe(s.droppedByReason.queue_full);
    expect(r.spans()).toHaveLength(s.exported);
    expect(r.maxConcurrentRequests).toBe(1);
    expect(codes(warnings)).toEqual(['TRC_ERR_EXPORT_QUEUE_FULL']);
    // Delivered in the order the spans ended.
    const order = r.spans().map((x) => Number(x.name.slice('span-'.length)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('a collector restart (2.5 s outage at 100 spans/s) loses no span with the default retry policy, and keeps the order', async () => {
    const first = await startOtlpReceiver();
    const port = first.port;
    const warnings: Error[] = [];
    const infos: string[] = [];
    // Default retry policy and queue; only the partial-batch delay is short so batches leave during the test.
    const e = createSpanExporter({
      otlp: { endpoint: first.endpoint, protocol: 'grpc', headers: {}, timeout: 10_000, compression: 'none' },
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelay: 100,
      resource: { serviceName: 'orders', attributes: {} },
      onError: (err) => warnings.push(err),
      onRecovered: (message) => infos.push(message),
    });
    open.push({ close: () => e.shutdown(1_000) });

    let sent = 0;
    const tick = setInterval(() => e.enqueue(serverSpan({ name: `span-${sent++}` })), 10);
    let second: OtlpReceiver | undefined;
    try {
      await waitFor(() => (first.spans().length > 20 ? true : undefined), 5_000, 'spans before the outage');
      await first.close();
      const stoppedAt = sent;
      await waitFor(() => (sent >= stoppedAt + 250 ? true : undefined), 10_000, '2.5 s of spans into the outage');
      // Restarted on the same port (another test file may briefly hold it: try again until it is free).
      second = await waitFor(async () => startOtlpReceiver({ port }).catch(() => undefined), 10_000, `port ${port} free again`);
      open.push(second);
      const restartedAt = sent;
      await waitFor(() => (sent >= restartedAt + 50 ? true : undefined), 5_000, 'spans after the restart');
    } finally {
      clearInterval(tick);
    }
    await e.forceFlush();

    const received = [...first.spans(), ...second!.spans()].map((x) => Number(x.name.slice('span-'.length)));
    expect(received).toHaveLength(sent);
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => i)); // all of them, once each, in order
    const s = e.stats();
    expect(s).toMatchObject({ exported: sent, dropped: 0, queued: 0 });
    expect(s.retried).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/retrying with backoff/);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatch(/OTLP export recovered after/);
  }, 30_000);

  describe('through tracecar: requests are unaffected', () => {
    let tc: RunningTracecar | undefined;
    let app: Upstream | undefined;
    afterEach(async () => {
      await tc?.close();
      await app?.close();
      tc = app = undefined;
    });

    it.each([
      ['a black hole', async () => (await blackHole()).endpoint],
      ['a closed port', closedPort],
    ])('%s: every request answered; /metrics counts drops by reason; one log line per episode', async (_what, endpoint) => {
      app = await startUpstream();
      tc = await startTracecar({
        ingress: { target: app.url },
        export: {
          otlp: { endpoint: await endpoint(), timeout: 200 },
          maxQueueSize: 20,
          maxExportBatchSize: 10,
          scheduledDelay: 10,
          retry: { initialBackoff: 20, maxBackoff: 50, maxElapsed: 300 },
        },
      });
      for (let i = 0; i < 100; i++) {
        const res = await request(`${tc.url}/orders/${i}`);
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
      await waitFor(() => (tc!.tracecar.exporter!.stats().droppedByReason.retries_exhausted > 0 ? true : undefined), 10_000, 'a batch given up');
      const stats = tc.tracecar.exporter!.stats();
      expect(stats.queued).toBeLessThanOrEqual(20);

      const m = parseExposition(await (await fetch(`${tc.adminUrl}/metrics`)).text());
      expect(m.value('tracecar_spans_dropped_total', { reason: 'queue_full' })).toBeGreaterThan(0);
      expect(m.value('tracecar_spans_dropped_total', { reason: 'retries_exhausted' })).toBeGreaterThan(0);
      expect(m.value('tracecar_spans_retried_total')).toBeGreaterThan(0);
      expect(m.value('tracecar_export_failures_total')).toBeGreaterThan(0);

      const warned = tc.log.lines.filter((l) => l.level === 40).map((l) => l.msg);
      expect(warned.filter((msg) => msg === 'span queue full: spans dropped')).toHaveLength(1);
      expect(warned.filter((msg) => msg === 'span export failed')).toHaveLength(1);
    });
  });
});
