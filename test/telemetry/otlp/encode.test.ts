/**
 * tracecar's own OTLP encoder against OpenTelemetry JS's: the same spans (built by the request
 * path as Hops) encoded by the exporter's real batch path and by the SDK's serializers
 * (test/helpers/sdk-spans.ts), both decoded with the official generated protobuf code
 * (otlp-proto-0.52) and compared field by field — protobuf and OTLP/JSON. Then the store's view:
 * the bytes decoded back give exactly the SpanRecord the Hop describes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batch, BatchFormat, telemetryInfo } from '../../../src/telemetry/export/batch.js';
import { FinishedSpan } from '../../../src/telemetry/finish.js';
import { toSpanRecord, type Hop, type ResourceInfo } from '../../../src/telemetry/hop.js';
import { decodeSpanField, decodePartialSuccess, decodeRetryInfoDelay } from '../../../src/telemetry/otlp/decode.js';
import { SpanEncoder } from '../../../src/telemetry/otlp/encode.js';
import { ProtoWriter } from '../../../src/telemetry/otlp/writer.js';
import type { SpanRecord } from '../../../src/telemetry/span.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../helpers/otlp-proto.js';
import { sdkJson, sdkProtobuf, toReadableSpans } from '../../helpers/sdk-spans.js';
import { hopOfShape } from '../../helpers/hops.js';

const VERSION = '1.2.3';
const RESOURCE: ResourceInfo = {
  service: 'checkout',
  resource: { 'deployment.environment': 'test', 'service.name': 'checkout', 'service.version': '4.5.6' },
};

const HOPS = Array.from({ length: 15 }, (_, i) => hopOfShape(i));

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
      const body = decodeSpanField(Buffer.from(f.protobuf().view()));
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

  it('timestamps: epoch milliseconds → unix nanoseconds, whole seconds and the rounded remainder, for any time', () => {
    const w = new ProtoWriter(16);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4_102_444_800_000, noNaN: true }), (ms) => {
        w.pos = 0;
        w.timeMs(ms);
        const rest = ms % 1000; // exact
        const expected = BigInt((ms - rest) / 1000) * 1_000_000_000n + BigInt(Math.round(rest * 1e6));
        expect(w.buf.readBigUInt64LE(0)).toBe(expected);
        // And back: the store reads the same millisecond value (for times of this century, to the bit).
        if (ms > 946_684_800_000) expect(decodeSpanField(spanWithTime(ms)).startTime).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });
});

/** A minimal encoded span field with this start time (for the read-back check above). */
function spanWithTime(ms: number): Buffer {
  const w = new ProtoWriter(64);
  w.byte(0x12);
  const m = w.startLd(1);
  w.byte(0x39);
  w.timeMs(ms);
  w.endLd(m);
  return Buffer.from(w.view());
}
