/**
 * OTLP protobuf encoding of tracecar's spans, straight from the Hop (or, for spans received over
 * OTLP, from a SpanRecord): no intermediate span object, no attribute object.
 *
 * Field numbers are those of opentelemetry-proto (opentelemetry/proto/trace/v1/trace.proto,
 * common/v1/common.proto, resource/v1/resource.proto, collector/trace/v1/trace_service.proto).
 * What is written matches what OpenTelemetry JS's exporters wrote for the same span before
 * (test/telemetry/otlp/encode.test.ts decodes both with the official generated code and compares
 * them field by field), except that zero counts (dropped_*_count) are left out, as proto3 allows.
 */
import { extraOverridesBase, hopAttributeObject, hopAttributes, hopStatus, hopTraceFlags, type AttributeSink, type Hop } from '../hop.js';
import type { AttributeValue, Attributes, SpanEvent, SpanKindName, SpanLink, SpanRecord, SpanStatus } from '../span.js';
import { ProtoWriter, varintSize } from './writer.js';

/** Span.flags bits beyond the W3C trace flags (trace.proto SpanFlags). */
export const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
export const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200;

export const SPAN_KIND_NUMBER: Readonly<Record<SpanKindName, number>> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
export const STATUS_CODE_NUMBER: Readonly<Record<SpanStatus['code'], number>> = { unset: 0, ok: 1, error: 2 };

// Tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
const SPAN_TRACE_ID = 0x0a;
const SPAN_SPAN_ID = 0x12;
const SPAN_TRACE_STATE = 0x1a;
const SPAN_PARENT_SPAN_ID = 0x22;
const SPAN_NAME = 0x2a;
const SPAN_KIND = 0x30;
const SPAN_START = 0x39;
const SPAN_END = 0x41;
const SPAN_ATTRIBUTES = 0x4a;
const SPAN_EVENTS = 0x5a;
const SPAN_LINKS = 0x6a;
const SPAN_STATUS = 0x7a;
/** Span.flags = 16, fixed32: a two-byte tag. */
const SPAN_FLAGS_TAG_0 = 0x85;
const SPAN_FLAGS_TAG_1 = 0x01;
const EVENT_TIME = 0x09;
const EVENT_NAME = 0x12;
const EVENT_ATTRIBUTES = 0x1a;
const LINK_TRACE_ID = 0x0a;
const LINK_SPAN_ID = 0x12;
const LINK_TRACE_STATE = 0x1a;
const LINK_ATTRIBUTES = 0x22;
const LINK_FLAGS = 0x35;
const STATUS_MESSAGE = 0x12;
const STATUS_CODE = 0x18;
const KEY_VALUE_KEY = 0x0a;
const KEY_VALUE_VALUE = 0x12;
const ANY_STRING = 0x0a;
const ANY_BOOL = 0x10;
const ANY_INT = 0x18;
const ANY_DOUBLE = 0x21;
const ANY_ARRAY = 0x2a;
const ANY_KVLIST = 0x32;
const ANY_BYTES = 0x3a;
const ARRAY_VALUES = 0x0a;
const KVLIST_VALUES = 0x0a;
const RESOURCE_ATTRIBUTES = 0x0a;
const SCOPE_NAME = 0x0a;
const SCOPE_VERSION = 0x12;
/** ScopeSpans.spans = 2. */
export const SCOPE_SPANS_SPAN = 0x12;

const INT64_MIN = -(2 ** 63);
const INT64_END = 2 ** 63;

/** Writes KeyValues of one repeated attributes field (the field's tag is set per message). */
class AttributeWriter implements AttributeSink {
  tag = SPAN_ATTRIBUTES;
  constructor(readonly w: ProtoWriter) {}

  str(key: string, value: string): void {
    if (!this.shortAscii(key, value)) this.any(key, value);
  }

  /**
   * The usual case in one pass: an ASCII key and value whose KeyValue fits in 127 bytes, so every
   * length prefix is one byte and known before the bytes are written. False (nothing written) otherwise.
   */
  private shortAscii(key: string, value: string): boolean {
    const kl = key.length;
    const vl = value.length;
    const kvLen = 6 + kl + vl; // 0x0a kl key 0x12 anyLen 0x0a vl value
    if (kvLen > 127) return false;
    const w = this.w;
    w.ensure(kvLen + 2);
    const buf = w.buf;
    const start = w.pos;
    let p = start;
    buf[p++] = this.tag;
    buf[p++] = kvLen;
    buf[p++] = KEY_VALUE_KEY;
    buf[p++] = kl;
    for (let i = 0; i < kl; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[p++] = c;
    }
    buf[p++] = KEY_VALUE_VALUE;
    buf[p++] = vl + 2;
    buf[p++] = ANY_STRING;
    buf[p++] = vl;
    for (let i = 0; i < vl; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[p++] = c;
    }
    w.pos = p;
    return true;
  }

  /** Like shortAscii for a small non-negative integer. */
  private shortInt(key: string, value: number): boolean {
    const kl = key.length;
    if (!(value >= 0 && value < 0x1000_0000) || kl > 100) return false;
    const w = this.w;
    const vs = varintSize(value);
    w.ensure(kl + vs + 8);
    const buf = w.buf;
    let p = w.pos;
    buf[p++] = this.tag;
    buf[p++] = 5 + kl + vs; // 0x0a kl key 0x12 anyLen 0x18 varint
    buf[p++] = KEY_VALUE_KEY;
    buf[p++] = kl;
    for (let i = 0; i < kl; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[p++] = c;
    }
    buf[p++] = KEY_VALUE_VALUE;
    buf[p++] = 1 + vs;
    buf[p++] = ANY_INT;
    let v = value;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    w.pos = p;
    return true;
  }

  int(key: string, value: number): void {
    if (!this.shortInt(key, value)) this.any(key, value);
  }

  /** Any value (and the long or non-ASCII strings and large integers the fast paths above leave). */
  any(key: string, value: AttributeValue | Uint8Array | Record<string, unknown> | null | undefined): void {
    const w = this.w;
    w.byte(this.tag);
    const kv = w.startLd(1);
    w.byte(KEY_VALUE_KEY);
    w.string(key);
    w.byte(KEY_VALUE_VALUE);
    const any = w.startLd(1);
    anyValue(w, value);
    w.endLd(any);
    w.endLd(kv);
  }

  all(attributes: Attributes | undefined, tag: number): void {
    if (attributes === undefined) return;
    this.tag = tag;
    for (const key in attributes) this.any(key, attributes[key]);
  }
}

/** An AnyValue body, typed as OpenTelemetry JS types it (integers in the int64 range → int_value). */
function anyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.byte(ANY_STRING);
      w.string(value);
      return;
    case 'boolean':
      w.byte(ANY_BOOL);
      w.byte(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= INT64_MIN && value < INT64_END) {
        w.byte(ANY_INT);
        w.int64(value);
      } else {
        w.byte(ANY_DOUBLE);
        w.double(value);
      }
      return;
    case 'object':
      if (value === null) return;
      if (value instanceof Uint8Array) {
        w.byte(ANY_BYTES);
        w.bytes(value);
      } else if (Array.isArray(value)) {
        w.byte(ANY_ARRAY);
        const list = w.startLd(1);
        for (const item of value) {
          w.byte(ARRAY_VALUES);
          const v = w.startLd(1);
          anyValue(w, item);
          w.endLd(v);
        }
        w.endLd(list);
      } else {
        w.byte(ANY_KVLIST);
        const list = w.startLd(1);
        const obj = value as Record<string, unknown>;
        for (const key in obj) {
          w.byte(KVLIST_VALUES);
          const kv = w.startLd(1);
          w.byte(KEY_VALUE_KEY);
          w.string(key);
          w.byte(KEY_VALUE_VALUE);
          const v = w.startLd(1);
          anyValue(w, obj[key]);
          w.endLd(v);
          w.endLd(kv);
        }
        w.endLd(list);
      }
      return;
    default:
      // undefined, functions, symbols, bigints: an empty AnyValue, as OpenTelemetry JS writes them
      return;
  }
}

/** What a Hop and a SpanRecord have in common: the head of a Span message. */
type SpanHead = Pick<SpanRecord, 'traceId' | 'spanId' | 'traceState' | 'parentSpanId' | 'name' | 'kind' | 'startTime' | 'endTime'>;

/**
 * Encodes spans into a ProtoWriter. Each span goes out as a ScopeSpans `spans` field (tag, length,
 * Span message), so a batch is a run of these behind a ResourceSpans/ScopeSpans header.
 */
export class SpanEncoder {
  readonly w: ProtoWriter;
  private readonly attributes: AttributeWriter;

  constructor(w: ProtoWriter = new ProtoWriter()) {
    this.w = w;
    this.attributes = new AttributeWriter(w);
  }

  /** A span of this process, from its Hop. */
  hop(hop: Hop): void {
    const span = this.head(hop);
    const attributes = this.attributes;
    if (hop.extra !== undefined && extraOverridesBase(hop)) {
      attributes.all(hopAttributeObject(hop), SPAN_ATTRIBUTES);
    } else {
      attributes.tag = SPAN_ATTRIBUTES;
      hopAttributes(hop, attributes);
    }
    this.events(hop.events);
    this.links(hop.links);
    if (hop.isError) this.status(hopStatus(hop));
    else this.statusUnset();
    this.flags(hopTraceFlags(hop), hop.parentSpanId ? hop.kind === 'server' : undefined);
    this.w.endLd(span);
  }

  /** Any span as a SpanRecord (received over OTLP, or built by tests). */
  record(record: SpanRecord): void {
    const span = this.head(record);
    this.attributes.all(record.attributes, SPAN_ATTRIBUTES);
    this.events(record.events);
    this.links(record.links);
    this.status(record.status);
    this.flags(record.traceFlags, record.parentSpanId ? record.kind === 'server' : undefined);
    this.w.endLd(span);
  }

  /** The `spans` tag, the Span's length (reserved), ids, name, kind and times; returns the length mark. */
  private head(s: SpanHead): number {
    const w = this.w;
    w.byte(SCOPE_SPANS_SPAN);
    const span = w.startLd(2);
    w.byte(SPAN_TRACE_ID);
    w.hexBytes(s.traceId);
    w.byte(SPAN_SPAN_ID);
    w.hexBytes(s.spanId);
    if (s.traceState) {
      w.byte(SPAN_TRACE_STATE);
      w.string(s.traceState);
    }
    if (s.parentSpanId) {
      w.byte(SPAN_PARENT_SPAN_ID);
      w.hexBytes(s.parentSpanId);
    }
    w.byte(SPAN_NAME);
    w.string(s.name);
    w.byte(SPAN_KIND);
    w.byte(SPAN_KIND_NUMBER[s.kind] ?? 1);
    w.byte(SPAN_START);
    w.timeMs(s.startTime);
    w.byte(SPAN_END);
    w.timeMs(s.endTime);
    return span;
  }

  private events(events: readonly SpanEvent[]): void {
    const w = this.w;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      w.byte(SPAN_EVENTS);
      const m = w.startLd(1);
      w.byte(EVENT_TIME);
      w.timeMs(e.time);
      w.byte(EVENT_NAME);
      w.string(e.name);
      this.attributes.all(e.attributes, EVENT_ATTRIBUTES);
      w.endLd(m);
    }
  }

  private links(links: readonly SpanLink[]): void {
    const w = this.w;
    for (let i = 0; i < links.length; i++) {
      const l = links[i]!;
      w.byte(SPAN_LINKS);
      const m = w.startLd(1);
      w.byte(LINK_TRACE_ID);
      w.hexBytes(l.traceId);
      w.byte(LINK_SPAN_ID);
      w.hexBytes(l.spanId);
      const traceState = (l as { traceState?: string }).traceState;
      if (traceState) {
        w.byte(LINK_TRACE_STATE);
        w.string(traceState);
      }
      this.attributes.all(l.attributes, LINK_ATTRIBUTES);
      // A link's context came from elsewhere: remote, flags unknown (0).
      w.byte(LINK_FLAGS);
      w.fixed32(SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | SPAN_FLAGS_CONTEXT_IS_REMOTE);
      w.endLd(m);
    }
  }

  private statusUnset(): void {
    const w = this.w;
    w.byte(SPAN_STATUS);
    w.byte(2);
    w.byte(STATUS_CODE);
    w.byte(0);
  }

  private status(status: SpanStatus): void {
    const w = this.w;
    w.byte(SPAN_STATUS);
    const m = w.startLd(1);
    if (status.message) {
      w.byte(STATUS_MESSAGE);
      w.string(status.message);
    }
    w.byte(STATUS_CODE);
    w.byte(STATUS_CODE_NUMBER[status.code] ?? 0);
    w.endLd(m);
  }

  /** W3C flags plus whether the parent is remote (a SERVER span's caller), as OTLP's SpanFlags say. */
  private flags(traceFlags: number, parentIsRemote: boolean | undefined): void {
    const w = this.w;
    w.byte(SPAN_FLAGS_TAG_0);
    w.byte(SPAN_FLAGS_TAG_1);
    w.fixed32((traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | (parentIsRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE : 0));
  }
}

/** A Resource message body (attributes only). */
export function encodeResource(attributes: Attributes): Buffer {
  const w = new ProtoWriter(256);
  const a = new AttributeWriter(w);
  a.all(attributes, RESOURCE_ATTRIBUTES);
  return Buffer.from(w.view());
}

/** An InstrumentationScope message body. */
export function encodeScope(name: string, version: string | undefined): Buffer {
  const w = new ProtoWriter(64);
  w.byte(SCOPE_NAME);
  w.string(name);
  if (version) {
    w.byte(SCOPE_VERSION);
    w.string(version);
  }
  return Buffer.from(w.view());
}
