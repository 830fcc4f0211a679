/**
 * Which collector answers are retried, against real peers: an OTLP/HTTP server answering each
 * status the OTLP spec names (429/502/503/504 retryable, honouring Retry-After; any other error
 * not), one that cuts the connection, and the OTLP/gRPC receiver answering RESOURCE_EXHAUSTED with
 * and without a google.rpc.RetryInfo. Retry timing itself is on the fake clock in retry.test.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtlpConfig } from '../../../src/config/types.js';
import { createSpanExporter, type SpanExporter } from '../../../src/telemetry/export/index.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import { manySpans } from './span-fixtures.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

/** An OTLP/HTTP endpoint answering each request with the next handler of `script` (then 200). */
async function scriptedHttp(script: Array<(req: IncomingMessage, res: ServerResponse) => void>): Promise<{ url: string; requests: number }> {
  const state = { url: '', requests: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.requests++;
      const next = script.shift();
      if (next) next(req, res);
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  open.push({ close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) });
  return state;
}

function exporter(otlp: OtlpConfig): SpanExporter {
  const e = createSpanExporter({
    otlp,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    scheduledDelay: 60_000,
    resource: { serviceName: 'orders', attributes: {} },
    retry: { initialBackoff: 20, maxBackoff: 50, maxElapsed: 5_000 },
  });
  open.push({ close: () => e.shutdown(1_000) });
  return e;
}

const status = (code: number, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(code, headers).end();

describe('OTLP/HTTP answers', () => {
  it.each([
    [429, { 'retry-after': '1' }],
    [502, {}],
    [503, { 'retry-after': new Date(Date.now() + 500).toUTCString() }],
    [504, {}],
  ])('%i is retried (Retry-After honoured when sent), then the batch is delivered', async (code, headers) => {
    const server = await scriptedHttp([status(code, headers)]);
    const e = exporter({ endpoint: server.url, protocol: 'http/protobuf', headers: {}, timeout: 2_000, compression: 'none' });
    for (const s of manySpans(3)) e.enqueue(s);
    await e.forceFlush();
    expect(server.requests).toBe(2);
    expect(e.stats()).toMatchObject({ exported: 3, dropped: 0, retried: 3, failedExports: 1 });
  });

  it.each([400, 401, 403, 404, 413, 500])('%i is not retried: the batch is dropped (non_retryable)', async (code) => {
    const server = await scriptedHttp([status(code)]);
    const e = exporter({ endpoint: server.url, protocol: 'http/json', headers: {}, timeout: 2_000, compression: 'none' });
    for (const s of manySpans(3)) e.enqueue(s);
    await e.forceFlush();
    expect(server.requests).toBe(1);
    expect(e.stats()).toMatchObject({ exported: 0, dropped: 3, retried: 0 });
    expect(e.stats().droppedByReason.non_retryable).toBe(3);
  });

  it('a connection cut mid-answer is retried', async () => {
    const server = await scriptedHttp([(req) => req.socket.destroy()]);
    const e = exporter({ endpoint: server.url, protocol: 'http/protobuf', headers: {}, timeout: 2_000, compression: 'gzip' });
    for (const s of manySpans(2)) e.enqueue(s);
    await e.forceFlush();
    expect(server.requests).toBe(2);
    expect(e.stats()).toMatchObject({ exported: 2, dropped: 0, retried: 2 });
  });
});

describe('OTLP/gRPC answers', () => {
  it('RESOURCE_EXHAUSTED without RetryInfo is not retried', async () => {
    const r = await startOtlpReceiver();
    open.push(r);
    r.setFailure(grpc.status.RESOURCE_EXHAUSTED);
    const e = exporter({ endpoint: r.endpoint, protocol: 'grpc', headers: {}, timeout: 2_000, compression: 'none' });
    for (const s of manySpans(2)) e.enqueue(s);
    await e.forceFlush();
    expect(r.requests).toBe(1);
    expect(e.stats().droppedByReason.non_retryable).toBe(2);
  });

  it('RESOURCE_EXHAUSTED with a RetryInfo is retried after the delay it gives, then delivered', async () => {
    const r = await startOtlpReceiver();
    open.push(r);
    r.setFailure(grpc.status.RESOURCE_EXHAUSTED, { retryDelayMs: 300 });
    const e = exporter({ endpoint: r.endpoint, protocol: 'grpc', headers: {}, timeout: 2_000, compression: 'none' });
    for (const s of manySpans(2)) e.enqueue(s);
    const flushed = e.forceFlush();
    await r.waitForRequests(1);
    r.setFailure(null);
    await flushed;
    expect(e.stats()).toMatchObject({ exported: 2, dropped: 0, retried: 2 });
    expect(r.spans()).toHaveLength(2);
  });
});
