/**
 * Reading back what SpanEncoder wrote (the admin store keeps spans as their OTLP bytes and builds
 * attributes, events and links only when the API asks), and the two small messages an OTLP
 * exporter reads from a collector: ExportTraceServiceResponse.partial_success and the
 * google.rpc.RetryInfo in a gRPC error's status details.
 *
 * A tolerant reader: unknown fields are skipped, a truncated message ends the read.
 */
import type { AttributeValue, Attributes, SpanKindName, SpanRecord, SpanStatus } from '../span.js';

const STATUS_CODES: Array<SpanStatus['code']> = ['unset', 'ok', 'error'];

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return shift < 28 ? result >>> 0 : result;
      shift += 7;
      if (shift > 63) throw new RangeError('varint too long');
    }
  }

  /** A varint as int64 (a negative int64 arrives as its ten-byte two's complement). */
  int64(): number {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 63n) throw new RangeError('varint too long');
    }
    if (this.pos - start <= 4) return Number(v);
    return Number(BigInt.asIntN(64, v));
  }

  fixed32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** fixed64 unix nanoseconds → epoch milliseconds; the exact inverse of ProtoWriter.timeMs for its input. */
  timeMs(): number {
    const ns = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    const seconds = ns / 1_000_000_000n;
    return Number(seconds) * 1000 + Number(ns - seconds * 1_000_000_000n) / 1e6;
  }

  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field's body; moves past it. */
  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new RangeError('truncated message');
    this.pos = end;
    return new Reader(this.buf, start, end);
  }

  string(): string {
    const r = this.sub();
    return this.buf.toString('utf8', r.pos, r.end);
  }

  hex(): string {
    const r = this.sub();
    return this.buf.toString('hex', r.pos, r.end);
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.sub();
    else if (wireType === 5) this.pos += 4;
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }
}

function anyValue(r: Reader): AttributeValue | undefined {
  let value: AttributeValue | undefined;
  while (r.more) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        value = r.string();
        break;
      case 0x10:
        value = r.varint() !== 0;
        break;
      case 0x18:
        value = r.int64();
        break;
      case 0x21:
        value = r.double();
        break;
      case 0x2a: {
        const list = r.sub();
        const items: Array<string | number | boolean> = [];
        while (list.more) {
          const t = list.varint();
          if (t === 0x0a) {
            const item = anyValue(list.sub());
            if (item !== undefined && !Array.isArray(item)) items.push(item);
          } else list.skip(t & 7);
        }
        value = items as AttributeValue;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

function keyValue(r: Reader, into: Attributes, only?: ReadonlySet<string>): void {
  let key = '';
  let value: AttributeValue | undefined;
  while (r.more) {
    const tag = r.varint();
    if (tag === 0x0a) {
      key = r.string();
      if (only !== undefined && !only.has(key)) return;
    } else if (tag === 0x12) value = anyValue(r.sub());
    else r.skip(tag & 7);
  }
  if (value !== undefined) into[key] = value;
}

const KINDS: SpanKindName[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];

/** A span read back from its encoding: everything but who recorded it (service, resource, scope). Times exactly as encoded. */
export type DecodedSpan = Omit<SpanRecord, 'service' | 'resource' | 'scope' | 'sampled'>;

export interface DecodeSpanOptions {
  /**
   * Give events and links an `attributes` object even when they have none (the shape of spans
   * received over OTLP); otherwise, as the request path records them, leave it out.
   */
  emptyAttributes?: boolean;
  /** Decode only these attributes, and no events or links (what trace summaries need). */
  onlyAttributes?: ReadonlySet<string>;
}

/** Decodes a ScopeSpans `spans` field as SpanEncoder writes it (tag, length, Span message). */
export function decodeSpanField(field: Buffer, options: DecodeSpanOptions = {}): DecodedSpan {
  const outer = new Reader(field, 0, field.length);
  outer.varint(); // the `spans` tag
  const r = outer.sub();
  const only = options.onlyAttributes;
  const emptyAttributes = options.emptyAttributes === true;
  const out: DecodedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: undefined,
    traceState: undefined,
    traceFlags: 0,
    name: '',
    kind: 'internal',
    startTime: 0,
    endTime: 0,
    attributes: {},
    events: [],
    links: [],
    status: { code: 'unset' },
  };
  while (r.more) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        out.traceId = r.hex();
        break;
      case 0x12:
        out.spanId = r.hex();
        break;
      case 0x1a:
        out.traceState = r.string();
        break;
      case 0x22:
        out.parentSpanId = r.hex() || undefined;
        break;
      case 0x2a:
        out.name = r.string();
        break;
      case 0x30:
        out.kind = KINDS[r.varint()] ?? 'internal';
        break;
      case 0x39:
        out.startTime = r.timeMs();
        break;
      case 0x41:
        out.endTime = r.timeMs();
        break;
      case 0x4a:
        keyValue(r.sub(), out.attributes, only);
        break;
      case 0x5a: {
        const e = r.sub();
        if (only) break;
        let name = '';
        let time = 0;
        let attributes: Attributes | undefined;
        while (e.more) {
          const t = e.varint();
          if (t === 0x09) time = e.timeMs();
          else if (t === 0x12) name = e.string();
          else if (t === 0x1a) keyValue(e.sub(), (attributes ??= {}));
          else e.skip(t & 7);
        }
        if (emptyAttributes) attributes ??= {};
        out.events.push(attributes ? { name, time, attributes } : { name, time });
        break;
      }
      case 0x6a: {
        const l = r.sub();
        if (only) break;
        let traceId = '';
        let spanId = '';
        let attributes: Attributes | undefined;
        while (l.more) {
          const t = l.varint();
          if (t === 0x0a) traceId = l.hex();
          else if (t === 0x12) spanId = l.hex();
          else if (t === 0x22) keyValue(l.sub(), (attributes ??= {}));
          else l.skip(t & 7);
        }
        if (emptyAttributes) attributes ??= {};
        out.links.push(attributes ? { traceId, spanId, attributes } : { traceId, spanId });
        break;
      }
      case 0x7a: {
        const s = r.sub();
        let code = 0;
        let message = '';
        while (s.more) {
          const t = s.varint();
          if (t === 0x12) message = s.string();
          else if (t === 0x18) code = s.varint();
          else s.skip(t & 7);
        }
        const name = STATUS_CODES[code] ?? 'unset';
        out.status = message ? { code: name, message } : { code: name };
        break;
      }
      case (16 << 3) | 5: // Span.flags = 16, fixed32 (a two-byte tag, read as one varint)
        out.traceFlags = r.fixed32() & 0xff;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

/**
 * The span id of an encoded span field, as its 8 bytes in a one-byte string (a cheap identity for
 * de-duplication: no hex, no Buffer).
 */
export function spanIdKey(field: string): string {
  // tag, length varint, then trace_id (0x0a, 16, 16 bytes) and span_id (0x12, 8, 8 bytes) as SpanEncoder writes them.
  let p = 1;
  while (field.charCodeAt(p) >= 0x80) p++;
  p++;
  for (;;) {
    const tag = field.charCodeAt(p);
    const len = field.charCodeAt(p + 1);
    if (tag === 0x12) return field.substr(p + 2, len);
    if (tag !== 0x0a || p >= field.length) return '';
    p += 2 + len;
  }
}

/** ExportTraceServiceResponse.partial_success: spans the collector rejected, and why. */
export function decodePartialSuccess(body: Uint8Array): { rejectedSpans: number; errorMessage: string } | undefined {
  try {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const r = new Reader(buf, 0, buf.length);
    while (r.more) {
      const tag = r.varint();
      if (tag !== 0x0a) {
        r.skip(tag & 7);
        continue;
      }
      const p = r.sub();
      let rejectedSpans = 0;
      let errorMessage = '';
      while (p.more) {
        const t = p.varint();
        if (t === 0x08) rejectedSpans = p.int64();
        else if (t === 0x12) errorMessage = p.string();
        else p.skip(t & 7);
      }
      return rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined;
    }
  } catch {
    // an unreadable answer to a successful export: nothing rejected that we can tell
  }
  return undefined;
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * The delay a collector asks for in a gRPC error: google.rpc.Status (grpc-status-details-bin)
 * whose details hold a google.rpc.RetryInfo { retry_delay: Duration }. Milliseconds, or undefined.
 */
export function decodeRetryInfoDelay(statusDetails: Uint8Array): number | undefined {
  try {
    const buf = Buffer.from(statusDetails.buffer, statusDetails.byteOffset, statusDetails.byteLength);
    const status = new Reader(buf, 0, buf.length);
    while (status.more) {
      const tag = status.varint();
      if (tag !== 0x1a) {
        status.skip(tag & 7);
        continue;
      }
      // details: google.protobuf.Any { type_url = 1, value = 2 }
      const any = status.sub();
      let typeUrl = '';
      let value: Reader | undefined;
      while (any.more) {
        const t = any.varint();
        if (t === 0x0a) typeUrl = any.string();
        else if (t === 0x12) value = any.sub();
        else any.skip(t & 7);
      }
      if (typeUrl !== RETRY_INFO_TYPE || value === undefined) continue;
      while (value.more) {
        const t = value.varint();
        if (t !== 0x0a) {
          value.skip(t & 7);
          continue;
        }
        // retry_delay: google.protobuf.Duration { seconds = 1, nanos = 2 }
        const d = value.sub();
        let seconds = 0;
        let nanos = 0;
        while (d.more) {
          const u = d.varint();
          if (u === 0x08) seconds = d.int64();
          else if (u === 0x10) nanos = d.int64();
          else d.skip(u & 7);
        }
        const ms = seconds * 1000 + nanos / 1e6;
        return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
      }
    }
  } catch {
    // malformed details: no delay asked for
  }
  return undefined;
}
