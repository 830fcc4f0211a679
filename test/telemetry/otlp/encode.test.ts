/**
 * tracecar's own OTLP encoder against OpenTelemetry JS's: the same spans (built by the request
 * path as Hops) encoded by the exporter's real batch path and by the SDK's serializers
 * (test/helpers/sdk-spans.ts), both decoded with the official generated protobuf code
 * (otlp-proto-0.52) and compared field by field — protobuf and OTLP/JSON. Then the store's view:
 * the bytes decoded back give exactly the SpanRecord the Hop describes.
 */
import { describe, expect, it } from 'vitest';
import { Batch, BatchFormat, telemetryInfo } from '../../../src/telemetry/export/batch.js';
import { FinishedSpan } from '../../../src/telemetry/finish.js';
import { Hop, toSpanRecord, type ResourceInfo } from '../../../src/telemetry/hop.js';
import { newSpanId, newTraceId } from '../../../src/telemetry/ids.js';
import { decodeSpanField, decodePartialSuccess, decodeRetryInfoDelay } from '../../../src/telemetry/otlp/decode.js';
import { SpanEncoder } from '../../../src/telemetry/otlp/encode.js';
import { ProtoWriter } from '../../../src/telemetry/otlp/writer.js';
import type { SpanRecord } from '../../../src/telemetry/span.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../helpers/otlp-proto.js';
import { sdkJson, sdkProtobuf, toReadableSpans } from '../../helpers/sdk-spans.js';

const VERSION = '1.2.3';
const RESOURCE: ResourceInfo = {
  service: 'checkout',
  resource: { 'deployment.environment': 'test', 'service.name': 'checkout', 'service.version': '4.5.6' },
};

/** A finished span as the request path leaves it; `shape` picks the variant. */
function hop(shape: number): Hop {
  const start = 1_733_000_000_000 + shape * 1.234567 + 0.000321;
  const kind = shape % 3 === 1 ? 'client' : 'server';
  const h = new Hop(kind === 'client' ? 'egress' : 'ingress', kind, shape % 5 === 4 ? 'BREW' : 'GET', start);
  h.traceId = newTraceId();
  h.spanId = newSpanId();
  h.sampled = shape % 4 !== 3;
  h.random = shape % 2 === 0;
  if (!h.sampled) h.keptBy = 'error';
  if (shape % 3 !== 2) h.parentSpanId = newSpanId();
  if (shape % 4 === 1) h.traceState = 'vendor=abc,other=1';
  h.correlationId = `req-${shape}`;
  h.correlationSource = shape % 2 ? 'incoming' : 'generated';
  h.route = '/orders/:id';
  h.name = `${h.method} /orders/:id`;
  h.path = '/orders/42';
  h.query = shape % 2 ? 'x=1&token=[REDACTED]' : '';
  h.userAgent = shape === 5 ? 'naïve ☃ 𝄞 client \ud800' : 'curl/8.5.0';
  h.clientAddress = '10.0.0.7';
  h.peerAddress = '127.0.0.1';
  h.peerPort = 40_000 + shape;
  if (kind === 'client') {
    h.urlFull = `http://payments:8080/charge?n=${shape}`;
    h.serverAddress = 'payments';
    h.serverPort = 8080;
    h.peerService = shape % 2 ? 'payments' : undefined;
  }
  h.samplingRule = shape % 2 ? 'checkout' : '';
  h.samplingReason = 'ratio';
  h.status = shape % 6 === 5 ? 503 : 200;
  h.requestBytes = shape * 1000;
  h.responseBytes = shape === 7 ? 2 ** 40 : 512;
  h.event('upstream.connected', start + 0.2);
  h.event('upstream.first_byte', start + 1.1, shape % 2 ? { 'net.bytes': 3, 'tracecar.note': 'first' } : undefined);
  if (shape % 3 === 0) h.links.push({ traceId: newTraceId(), spanId: newSpanId(), attributes: { why: 'follows' } });
  if (shape % 3 === 1) h.links.push({ traceId: newTraceId(), spanId: newSpanId() });
  if (shape === 6) h.fail({ errorType: 'ECONNREFUSED', code: 'TRC_ERR_UPSTREAM_CONNECT', message: 'upstream refused the connection' });
  if (shape % 2 === 1) {
    h.set('tracecar.parent.source', 'w3c');
    h.set('tracecar.problems', ['a', 'b']);
    h.set('tracecar.ratio', 0.25);
    h.set('tracecar.flags', [true, false]);
    h.set('tracecar.weights', [0.5, 1.5]);
    h.set('tracecar.codes', [1, -2, 3]);
    h.set('tracecar.delta', -7);
  }
  // A stage's attribute that replaces one the span has anyway: it keeps its place, once.
  if (shape === 4) h.set('url.scheme', 'https');
  // Lengths past every one-byte and two-byte length prefix.
  if (shape === 8) h.set('tracecar.blob', 'x'.repeat(20_000));
  if (shape === 9) h.set('tracecar.medium', 'y'.repeat(150));
  h.endTime = start + 4.5 + shape;
  return h;
}

const HOPS = Array.from({ length: 12 }, (_, i) => hop(i));

function exportedBody(json: boolean, hops: Hop[]): Buffer {
  const format = new BatchFormat(json, { serviceName: RESOURCE.service, attributes: RESOURCE.resource as Record<string, string> }, VERSION);
  const frame = format.frameOfFinished(RESOURCE);
  const batch = new Batch(frame, new ProtoWriter(256));
  const finished = new FinishedSpan();
  for (const h of hops) {
    finished.reset(h, RESOURCE);
    format.appendFinished(batch, finished);
    batch.count++;
  }
  return Buffer.from(batch.seal());
}

function sdkSpans(hops: Hop[]) {
  return toReadableSpans(
    hops.map((h) => toSpanRecord(h, RESOURCE)),
    { ...telemetryInfo(VERSION), ...RESOURCE.resource, 'service.name': RESOURCE.service },
    { name: 'tracecar', version: VERSION },
  );
}

const decodeOptions = { longs: String, enums: Number, bytes: String, defaults: true, arrays: true, objects: true, oneofs: true };

function decoded(bytes: Uint8Array): unknown {
  return ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(bytes), decodeOptions);
}

describe('OTLP encoding straight from the Hop', () => {
  it('protobuf: decodes (official generated code) to exactly what the SDK encodes for the same spans', () => {
    const mine = decoded(exportedBody(false, HOPS));
    const sdk = decoded(sdkProtobuf(sdkSpans(HOPS)));
    expect(mine).toEqual(sdk);
    const request = mine as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    expect(request.resourceSpans).toHaveLength(1);
    expect(request.resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(HOPS.length);
  });

  it('protobuf: each span alone, too (every shape on its own)', () => {
    for (const h of HOPS) expect(decoded(exportedBody(false, [h]))).toEqual(decoded(sdkProtobuf(sdkSpans([h]))));
  });

  it('OTLP/JSON: the same document the SDK writes', () => {
    const mine = JSON.parse(exportedBody(true, HOPS).toString('utf8'));
    const sdk = JSON.parse(Buffer.from(sdkJson(sdkSpans(HOPS))).toString('utf8'));
    expect(mine).toEqual(sdk);
  });

  it('a SpanRecord (a span received over OTLP) encodes like the SDK too', () => {
    const records = HOPS.map((h) => toSpanRecord(h, RESOURCE));
    const w = new ProtoWriter(64);
    const encoder = new SpanEncoder(w);
    for (const r of records) {
      const hopBytes = (() => {
        const f = new FinishedSpan();
        f.reset(HOPS[records.indexOf(r)]!, RESOURCE);
        return Buffer.from(f.protobuf().view());
      })();
      w.pos = 0;
      encoder.record(r);
      expect(Buffer.from(w.view()).equals(hopBytes)).toBe(true);
    }
  });

  it('the store reads back exactly the SpanRecord of each Hop (attributes, events, links, status, flags, times)', () => {
    for (const h of HOPS) {
      const f = new FinishedSpan();
      f.reset(h, RESOURCE);
      const body = decodeSpanField(Buffer.from(f.protobuf().view()), false);
      const record = toSpanRecord(h, RESOURCE);
      const expected: Partial<SpanRecord> = {
        traceState: record.traceState,
        traceFlags: record.traceFlags,
        // A lone surrogate (no header can carry one: header strings are latin1) reads back as U+FFFD, as on the wire.
        attributes: Object.fromEntries(Object.entries(record.attributes).map(([k, v]) => [k, typeof v === 'string' ? v.toWellFormed() : v])),
        events: record.events,
        links: record.links,
        status: record.status,
      };
      const got = { traceState: body.traceState, traceFlags: body.traceFlags, attributes: body.attributes, events: body.events, links: body.links, status: body.status };
      // JSON text, so key order and absent-vs-undefined count as the admin API's answer would show them.
      expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
      // Times survive nanosecond encoding bit for bit.
      expect(body.events.map((e) => e.time)).toEqual(record.events.map((e) => e.time));
    }
  });

  it('reads partial success and RetryInfo the way a collector writes them', () => {
    const partial = ExportTraceServiceResponse.encode({ partialSuccess: { rejectedSpans: 3, errorMessage: 'too old' } }).finish();
    expect(decodePartialSuccess(partial)).toEqual({ rejectedSpans: 3, errorMessage: 'too old' });
    expect(decodePartialSuccess(ExportTraceServiceResponse.encode({}).finish())).toBeUndefined();
    // google.rpc.Status { code 8, details [Any { type_url RetryInfo, value RetryInfo { retry_delay { seconds 2, nanos 5e8 } } }] }
    const duration = Buffer.from([0x08, 0x02, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]);
    const retryInfo = Buffer.concat([Buffer.from([0x0a, duration.length]), duration]);
    const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
    const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retryInfo.length]), retryInfo]);
    const status = Buffer.concat([Buffer.from([0x08, 0x08, 0x1a, any.length]), any]);
    expect(decodeRetryInfoDelay(status)).toBe(2500);
    expect(decodeRetryInfoDelay(Buffer.from([0x08, 0x08]))).toBeUndefined();
    expect(decodeRetryInfoDelay(Buffer.from([0xff]))).toBeUndefined();
  });
});
