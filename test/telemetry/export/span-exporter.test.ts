/**
 * The span export pipeline against a real OTLP/gRPC receiver (grpc-js serving TraceService/Export,
 * decoding with the official generated protobuf code). Collector faults (black hole, refusal,
 * slow answers, restarts) are in collector-faults.test.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtlpConfig } from '../../../src/config/types.js';
import { TracecarError } from '../../../src/errors.js';
import { createSpanExporter, type SpanExporter, type SpanExporterOptions } from '../../../src/telemetry/export/index.js';
import { closedPort } from '../../helpers/net.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { manySpans, serverSpan } from './span-fixtures.js';

const open: Array<{ close(): Promise<void> } | SpanExporter> = [];

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) {
    if ('enqueue' in thing) await thing.shutdown(2_000);
    else await thing.close();
  }
});

async function receiver(options?: Parameters<typeof startOtlpReceiver>[0]): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(options);
  open.push(r);
  return r;
}

function otlp(endpoint: string, overrides: Partial<OtlpConfig> = {}): OtlpConfig {
  return { endpoint, protocol: 'grpc', headers: {}, timeout: 2_000, compression: 'none', ...overrides };
}


describe('span export over OTLP/gRPC', () => {
  const errors: Error[] = [];

  function exporter(overrides: Partial<SpanExporterOptions> & { otlp: OtlpConfig }): SpanExporter {
    const e = createSpanExporter({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelay: 60_000,
      resource: { serviceName: 'orders', attributes: { 'service.version': '1.4.2', 'deployment.environment': 'test' } },
      scopeVersion: '9.9.9',
      onError: (err) => errors.push(err),
      ...overrides,
    });
    open.push(e);
    return e;
  }

  afterEach(() => {
    errors.length = 0;
  });

  it('delivers ids, parent ids, kinds, attributes, events, links, status, resource and scope', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint) });

    const parent = serverSpan({
      parentSpanId: 'b7ad6b7169203331',
      traceState: 'vendor=abc,other=1',
      traceFlags: 0x03,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 503,
        'tracecar.ratio': 0.25,
        'tracecar.sampled': true,
        'tracecar.tags': ['a', 'b'],
        'tracecar.codes': [1, 2, 3],
        'tracecar.weights': [0.5, 1.5],
        'tracecar.flags': [true, false],
      },
      events: [{ name: 'upstream.connect', time: Date.now() - 3, attributes: { 'net.peer.port': 3000 } }],
      status: { code: 'error', message: 'upstream refused the connection' },
    });
    const child = serverSpan({
      traceId: parent.traceId,
      parentSpanId: parent.spanId,
      kind: 'client',
      name: 'GET',
      status: { code: 'ok' },
      links: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attributes: { why: 'follows' } }],
    });
    const root = serverSpan({ kind: 'internal', name: 'root' });
    e.enqueue(parent);
    e.enqueue(child);
    e.enqueue(root);
    await e.forceFlush();

    const spans = await r.waitForSpans(3);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const p = byId.get(parent.spanId)!;
    const c = byId.get(child.spanId)!;
    const o = byId.get(root.spanId)!;

    expect(p.traceId).toBe(parent.traceId);
    expect(p.parentSpanId).toBe('b7ad6b7169203331');
    expect(p.kind).toBe('server');
    expect(p.name).toBe('GET /orders/:id');
    expect(p.traceState).toBe('vendor=abc,other=1');
    expect(p.attributes).toEqual({
      'http.request.method': 'POST',
      'http.response.status_code': 503,
      'tracecar.ratio': 0.25,
      'tracecar.sampled': true,
      'tracecar.tags': ['a', 'b'],
      'tracecar.codes': [1, 2, 3],
      'tracecar.weights': [0.5, 1.5],
      'tracecar.flags': [true, false],
    });
    expect(p.status).toEqual({ code: 'error', message: 'upstream refused the connection' });
    expect(p.events).toHaveLength(1);
    expect(p.events[0]!.name).toBe('upstream.connect');
    expect(p.events[0]!.attributes).toEqual({ 'net.peer.port': 3000 });
    const eventMs = Number(p.events[0]!.timeUnixNano / 1_000_000n);
    expect(Math.abs(eventMs - parent.events[0]!.time)).toBeLessThanOrEqual(1);

    // Timestamps: epoch ms with a fraction → unix nanoseconds (float ms carries ~µs precision).
    const startNs = BigInt(Math.round(parent.startTime * 1000)) * 1000n;
    expect(p.startTimeUnixNano - startNs < 2_000n && startNs - p.startTimeUnixNano < 2_000n).toBe(true);
    expect(p.endTimeUnixNano - p.startTimeUnixNano).toBeGreaterThan(4_400_000n);
    expect(p.endTimeUnixNano - p.startTimeUnixNano).toBeLessThan(4_600_000n);

    expect(c.traceId).toBe(parent.traceId);
    expect(c.parentSpanId).toBe(parent.spanId);
    expect(c.kind).toBe('client');
    expect(c.status.code).toBe('ok');
    expect(c.links).toEqual([{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceState: '', attributes: { why: 'follows' } }]);

    expect(o.parentSpanId).toBe('');
    expect(o.kind).toBe('internal');
    expect(o.status.code).toBe('unset');

    for (const s of spans) {
      expect(s.resource['service.name']).toBe('orders');
      expect(s.resource['service.version']).toBe('1.4.2');
      expect(s.resource['deployment.environment']).toBe('test');
      expect(s.resource['telemetry.sdk.language']).toBe('nodejs');
      expect(s.resource['telemetry.sdk.name']).toBe('tracecar');
      expect(s.resource['telemetry.sdk.version']).toBe('9.9.9');
      expect(s.scope).toBe('tracecar');
      expect(s.scopeVersion).toBe('9.9.9');
    }
    // One resource, one scope: the three spans travel in a single request.
    expect(r.requests).toBe(1);
    expect(e.stats()).toMatchObject({ exported: 3, dropped: 0, queued: 0, failedExports: 0 });
  });

  it('a span recorded for another service or scope keeps its own resource and scope', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint) });
    e.enqueue(serverSpan({ service: 'payments', resource: { 'service.version': '2.0.0' }, scope: 'other-lib' }));
    e.enqueue(serverSpan());
    await e.forceFlush();
    const spans = await r.waitForSpans(2);
    const other = spans.find((s) => s.resource['service.name'] === 'payments')!;
    expect(other.resource['service.version']).toBe('2.0.0');
    expect(other.scope).toBe('other-lib');
    expect(spans.find((s) => s.resource['service.name'] === 'orders')!.scope).toBe('tracecar');
  });

  it('batches: N spans go out in at most ceil(N / maxExportBatchSize) requests of at most that size', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint), maxExportBatchSize: 4 });
    for (const s of manySpans(10)) e.enqueue(s);
    // Two full batches leave on their own, without waiting for scheduledDelay (60 s here).
    await r.waitForSpans(8);
    await e.forceFlush();
    await r.waitForSpans(10);
    expect(r.requests).toBeLessThanOrEqual(Math.ceil(10 / 4));
    expect(Math.max(...r.batchSizes)).toBeLessThanOrEqual(4);
    expect(new Set(r.spans().map((s) => s.name)).size).toBe(10);
    expect(e.stats()).toMatchObject({ exported: 10, queued: 0, dropped: 0 });
  });

  it('exports a partial batch after scheduledDelay', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint), scheduledDelay: 50 });
    e.enqueue(serverSpan());
    e.enqueue(serverSpan());
    const spans = await r.waitForSpans(2, 5_000);
    expect(spans).toHaveLength(2);
    expect(r.requests).toBe(1);
  });

  it('keeps at most one export in flight against a slow collector', async () => {
    const r = await receiver({ delayMs: 150 });
    const e = exporter({ otlp: otlp(r.endpoint), maxExportBatchSize: 2, scheduledDelay: 10 });
    for (const s of manySpans(8)) e.enqueue(s);
    await r.waitForSpans(8, 10_000);
    expect(r.maxConcurrentRequests).toBe(1);
    expect(r.requests).toBe(4);
  });

  it('queue full: drops and counts, never throws, reports TRC_ERR_EXPORT_QUEUE_FULL off the request path', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint), maxQueueSize: 5, maxExportBatchSize: 5 });
    for (const s of manySpans(20)) expect(() => e.enqueue(s)).not.toThrow();
    expect(e.stats()).toMatchObject({ queued: 5, dropped: 15, droppedQueueFull: 15, exported: 0 });
    expect(errors).toHaveLength(0); // nothing reported synchronously from enqueue
    await e.forceFlush();
    await r.waitForSpans(5);
    expect(e.stats()).toMatchObject({ queued: 0, dropped: 15, exported: 5 });
    const full = errors.find((err) => (err as TracecarError).code === 'TRC_ERR_EXPORT_QUEUE_FULL');
    expect(full?.message).toMatch(/15 spans dropped/);
  });

  it('collector down (nothing listening): enqueue returns at once; the batch is retried, then dropped and counted', async () => {
    const e = exporter({ otlp: otlp(await closedPort(), { timeout: 500 }), maxExportBatchSize: 3, scheduledDelay: 10, retry: { initialBackoff: 20, maxElapsed: 200 } });
    const returned = e.enqueue(serverSpan());
    expect(returned).toBeUndefined();
    expect(e.stats().queued).toBe(1); // accepted synchronously, nothing awaited
    for (const s of manySpans(5)) e.enqueue(s);
    await e.forceFlush();
    const stats = e.stats();
    expect(stats.exported).toBe(0);
    expect(stats.queued).toBe(0);
    expect(stats.dropped).toBe(6);
    expect(stats.droppedByReason.retries_exhausted).toBe(6);
    expect(stats.droppedQueueFull).toBe(0);
    expect(stats.retried).toBeGreaterThanOrEqual(6); // each batch sent again at least once
    expect(stats.failedExports).toBeGreaterThanOrEqual(4);
    expect(stats.lastError).toBeTruthy();
    expect(errors.some((err) => err instanceof TracecarError && err.code === 'TRC_ERR_EXPORT')).toBe(true);
  });

  it('collector answering UNAVAILABLE: the batch is retried and delivered once it recovers', async () => {
    const r = await receiver({ failWith: grpc.status.UNAVAILABLE });
    const e = exporter({ otlp: otlp(r.endpoint, { timeout: 500 }), retry: { initialBackoff: 20, maxBackoff: 50, maxElapsed: 60_000 } });
    e.enqueue(serverSpan({ name: 'held' }));
    e.enqueue(serverSpan({ name: 'held' }));
    const flushed = e.forceFlush();
    await r.waitForRequests(3);
    expect(e.stats()).toMatchObject({ exported: 0, dropped: 0, queued: 2 });
    expect(e.stats().lastError).toMatch(/UNAVAILABLE|14/);
    r.setFailure(null);
    await flushed;
    expect((await r.waitForSpans(2)).map((s) => s.name)).toEqual(['held', 'held']);
    expect(e.stats()).toMatchObject({ exported: 2, dropped: 0, queued: 0 });
    expect(e.stats().retried).toBeGreaterThanOrEqual(4);
  });

  it('a collector that starts failing at runtime (setFailure): counted, retried, then given up', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint, { timeout: 500 }), retry: { initialBackoff: 20, maxElapsed: 100 } });
    e.enqueue(serverSpan());
    await e.forceFlush();
    r.setFailure();
    e.enqueue(serverSpan());
    await e.forceFlush();
    expect(e.stats()).toMatchObject({ exported: 1, dropped: 1 });
    expect(e.stats().droppedByReason.retries_exhausted).toBe(1);
    expect(e.stats().failedExports).toBeGreaterThanOrEqual(2);
  });

  it('a non-retryable answer (INVALID_ARGUMENT) drops the batch at once; later batches go through', async () => {
    const r = await receiver({ failWith: grpc.status.INVALID_ARGUMENT });
    const e = exporter({ otlp: otlp(r.endpoint, { timeout: 500 }) });
    e.enqueue(serverSpan());
    e.enqueue(serverSpan());
    await e.forceFlush();
    expect(r.requests).toBe(1);
    expect(e.stats()).toMatchObject({ exported: 0, dropped: 2, failedExports: 1, retried: 0, queued: 0 });
    expect(e.stats().droppedByReason.non_retryable).toBe(2);
    r.setFailure(null);
    e.enqueue(serverSpan({ name: 'after' }));
    await e.forceFlush();
    expect((await r.waitForSpans(1)).map((s) => s.name)).toEqual(['after']);
  });

  it('a malformed record is dropped (invalid) at enqueue, never thrown; its batch still goes out', async () => {
    const r = await receiver();
    const e = exporter({ otlp: otlp(r.endpoint) });
    const bad = { ...serverSpan(), events: null } as unknown as Parameters<SpanExporter['enqueue']>[0];
    expect(() => e.enqueue(bad)).not.toThrow();
    e.enqueue(serverSpan({ name: 'good' }));
    await e.forceFlush();
    expect(e.stats()).toMatchObject({ exported: 1, dropped: 1, failedExports: 0 });
    expect(e.stats().droppedByReason.invalid).toBe(1);
    expect((await r.waitForSpans(1)).map((s) => s.name)).toEqual(['good']);
  });

  it('sends configured headers as gRPC metadata and supports gzip', async () => {
    const r = await receiver();
    const e = exporter({
      otlp: otlp(r.endpoint, { headers: { 'X-Api-Key': 'secret-1', tenant: 'acme' }, compression: 'gzip' }),
    });
    e.enqueue(serverSpan());
    await e.forceFlush();
    await r.waitForSpans(1);
    // grpc-js consumes grpc-encoding before the handler sees metadata; a gzip request that decodes is the proof.
    expect(r.metadata[0]).toMatchObject({ 'x-api-key': 'secret-1', tenant: 'acme' });
  });

  it('a header gRPC metadata cannot carry fails when the exporter is made, naming the header and never its value', () => {
    const make = (headers: Record<string, string>) => () => exporter({ otlp: otlp('http://127.0.0.1:4317', { headers }) });
    for (const [headers, what] of [
      [{ 'x-api!key': 'secret-1' }, '"x-api!key" cannot be sent as gRPC metadata'],
      [{ 'x-token-bin': 'secret-1' }, '"x-token-bin" cannot be sent as gRPC metadata'],
      [{ 'x-api-key': 'secret-\u00e9' }, 'the value of "x-api-key" cannot be sent as gRPC metadata'],
    ] as const) {
      let thrown: unknown;
      try {
        make(headers)();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TracecarError);
      expect((thrown as TracecarError).code).toBe('TRC_ERR_CONFIG_INVALID');
      expect((thrown as Error).message).toContain(what);
      expect((thrown as Error).message).not.toContain('secret');
    }
    // What grpc-js accepts passes (uppercase is lowercased, as the exporter sends it).
    expect(make({ 'X-Api-Key': 'secret-1', 'x.tenant_id': 'a b ~' })).not.toThrow();
  });

  it('shutdown flushes what is queued, then drops (counted) anything enqueued later', async () => {
    const r = await receiver();
    const e = createSpanExporter({
      otlp: otlp(r.endpoint),
      maxQueueSize: 100,
      maxExportBatchSize: 10,
      scheduledDelay: 60_000,
      resource: { serviceName: 'orders', attributes: {} },
    });
    for (const s of manySpans(25)) e.enqueue(s);
    await e.shutdown(5_000);
    expect(r.spans()).toHaveLength(25);
    expect(e.stats()).toMatchObject({ exported: 25, queued: 0, dropped: 0 });
    expect(() => e.enqueue(serverSpan())).not.toThrow();
    expect(e.stats().dropped).toBe(1);
    await e.shutdown(); // idempotent
  });

  it('shutdown against a dead collector is bounded by its timeout', async () => {
    const e = createSpanExporter({
      otlp: otlp(await closedPort(), { timeout: 10_000 }),
      maxQueueSize: 100,
      maxExportBatchSize: 10,
      scheduledDelay: 60_000,
      resource: { serviceName: 'orders', attributes: {} },
    });
    for (const s of manySpans(30)) e.enqueue(s);
    const started = Date.now();
    await e.shutdown(800);
    // Bounded by the shutdown timeout, not by the exporter's own 10 s timeout against the dead collector.
    expect(Date.now() - started).toBeLessThan(10_000);
    const stats = e.stats();
    expect(stats.exported).toBe(0);
    // Whatever never left is dropped; at most the batch still in flight remains "queued".
    expect(stats.dropped + stats.queued).toBe(30);
  });
});
