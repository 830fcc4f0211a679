/**
 * The span export pipeline over OTLP/HTTP (http/protobuf and http/json) against a real HTTP server
 * that records every request and decodes it with the admin receiver's own decoder.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtlpConfig, OtlpProtocol } from '../../../src/config/types.js';
import { decodeOtlpJson, decodeOtlpProtobuf } from '../../../src/admin/otlp/decode.js';
import { createSpanExporter, type SpanExporter } from '../../../src/telemetry/export/index.js';
import type { SpanRecord } from '../../../src/telemetry/span.js';
import { manySpans, serverSpan } from './span-fixtures.js';

interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  spans: SpanRecord[];
}

interface HttpReceiver {
  url: string;
  requests: Received[];
  /** Status to answer with (200 = accept). */
  status: number;
  close(): Promise<void>;
}

const open: Array<{ close(): Promise<void> } | SpanExporter> = [];

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) {
    if ('enqueue' in thing) await thing.shutdown(2_000);
    else await thing.close();
  }
});

async function httpReceiver(): Promise<HttpReceiver> {
  const requests: Received[] = [];
  const receiver: HttpReceiver = { url: '', requests, status: 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json = req.headers['content-type'] === 'application/json';
      const spans = body.length ? (json ? decodeOtlpJson(body) : decodeOtlpProtobuf(body)).spans : [];
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, spans });
      res.writeHead(receiver.status, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  open.push(receiver);
  return receiver;
}

function otlp(endpoint: string, protocol: OtlpProtocol, overrides: Partial<OtlpConfig> = {}): OtlpConfig {
  return { endpoint, protocol, headers: {}, timeout: 2_000, compression: 'none', ...overrides };
}

const CASES: Array<[OtlpProtocol, string]> = [
  ['http/protobuf', 'application/x-protobuf'],
  ['http/json', 'application/json'],
];

describe.each(CASES)('span export over %s', (protocol, contentType) => {
  const errors: Error[] = [];
  afterEach(() => {
    errors.length = 0;
  });

  function exporter(config: OtlpConfig, batch = 512): SpanExporter {
    const e = createSpanExporter({
      otlp: config,
      maxQueueSize: 2048,
      maxExportBatchSize: batch,
      scheduledDelay: 60_000,
      resource: { serviceName: 'orders', attributes: { 'service.version': '1.4.2' } },
      scopeVersion: '9.9.9',
      onError: (err) => errors.push(err),
    });
    open.push(e);
    return e;
  }

  it('POSTs to /v1/traces of a bare endpoint, with the right content type; ids, names, kinds, status, service survive', async () => {
    const r = await httpReceiver();
    const e = exporter(otlp(r.url, protocol));
    const parent = serverSpan({ status: { code: 'error', message: 'upstream said 503' }, attributes: { 'http.response.status_code': 503 } });
    const child = serverSpan({ traceId: parent.traceId, parentSpanId: parent.spanId, kind: 'client', name: 'GET payments' });
    e.enqueue(parent);
    e.enqueue(child);
    await e.forceFlush();

    expect(r.requests).toHaveLength(1);
    const [req] = r.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/v1/traces');
    expect(req!.headers['content-type']).toBe(contentType);
    const got = new Map(req!.spans.map((s) => [s.spanId, s]));
    expect(got.get(parent.spanId)).toMatchObject({
      traceId: parent.traceId,
      name: 'GET /orders/:id',
      kind: 'server',
      service: 'orders',
      status: { code: 'error', message: 'upstream said 503' },
      attributes: { 'http.response.status_code': 503 },
      scope: 'tracecar',
    });
    expect(got.get(child.spanId)).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId, kind: 'client', name: 'GET payments' });
    expect(e.stats()).toMatchObject({ exported: 2, dropped: 0, failedExports: 0 });
    expect(errors).toEqual([]);
  });

  it('an endpoint with a path is used as given; headers go as HTTP headers; gzip works', async () => {
    const r = await httpReceiver();
    const e = exporter(otlp(`${r.url}/tenant-a/traces`, protocol, { headers: { 'x-api-key': 'k-1', Tenant: 'acme' }, compression: 'gzip' }));
    e.enqueue(serverSpan());
    await e.forceFlush();
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.path).toBe('/tenant-a/traces');
    expect(r.requests[0]!.headers).toMatchObject({ 'x-api-key': 'k-1', tenant: 'acme', 'content-encoding': 'gzip' });
    expect(r.requests[0]!.spans).toHaveLength(1);
  });

  it('batches by maxExportBatchSize', async () => {
    const r = await httpReceiver();
    const e = exporter(otlp(r.url, protocol), 10);
    for (const s of manySpans(25)) e.enqueue(s);
    await e.forceFlush();
    expect(r.requests.map((q) => q.spans.length)).toEqual([10, 10, 5]);
  });

  it('a receiver answering 400 fails the batch (counted, reported), never the enqueue call', async () => {
    const r = await httpReceiver();
    r.status = 400;
    const e = exporter(otlp(r.url, protocol));
    e.enqueue(serverSpan());
    await e.forceFlush();
    expect(e.stats()).toMatchObject({ exported: 0, dropped: 1, failedExports: 1, retried: 0 });
    expect(e.stats().droppedByReason.non_retryable).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
  });
});
