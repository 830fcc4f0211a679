/**
 * An ExportTraceServiceRequest around a run of already encoded spans (ScopeSpans `spans` fields,
 * as SpanEncoder writes them): one ResourceSpans with one ScopeSpans. The header depends only on
 * the resource, the scope and the length of the run, so a batch keeps `headroom` free bytes in
 * front of its spans and the header is written there when the batch is sealed: no copy.
 *
 *   ExportTraceServiceRequest.resource_spans = 1 → ResourceSpans { resource = 1, scope_spans = 2 }
 *   ScopeSpans { scope = 1, spans = 2 }
 */
import { ProtoWriter, varintSize } from './writer.js';

const REQUEST_RESOURCE_SPANS = 0x0a;
const RESOURCE_SPANS_RESOURCE = 0x0a;
const RESOURCE_SPANS_SCOPE_SPANS = 0x12;
const SCOPE_SPANS_SCOPE = 0x0a;

export class RequestFrame {
  /** Bytes to keep free in front of the spans for writeHeader(). */
  readonly headroom: number;
  private readonly resourceField: Buffer;
  private readonly scopeField: Buffer;

  /** `resource` and `scope`: encoded Resource and InstrumentationScope message bodies. */
  constructor(resource: Uint8Array, scope: Uint8Array) {
    this.resourceField = field(RESOURCE_SPANS_RESOURCE, resource);
    this.scopeField = field(SCOPE_SPANS_SCOPE, scope);
    this.headroom = 1 + 5 + this.resourceField.length + 1 + 5 + this.scopeField.length;
  }

  /**
   * Writes the request header so that it ends at `spansStart`, where `spansLength` bytes of spans
   * follow. Returns the offset the request starts at (≥ spansStart − headroom).
   */
  writeHeader(buf: Buffer, spansStart: number, spansLength: number): number {
    const scopeSpansLength = this.scopeField.length + spansLength;
    const resourceSpansLength = this.resourceField.length + 1 + varintSize(scopeSpansLength) + scopeSpansLength;
    const headerLength =
      1 + varintSize(resourceSpansLength) + this.resourceField.length + 1 + varintSize(scopeSpansLength) + this.scopeField.length;
    const start = spansStart - headerLength;
    let p = start;
    buf[p++] = REQUEST_RESOURCE_SPANS;
    p = putVarint(buf, p, resourceSpansLength);
    this.resourceField.copy(buf, p);
    p += this.resourceField.length;
    buf[p++] = RESOURCE_SPANS_SCOPE_SPANS;
    p = putVarint(buf, p, scopeSpansLength);
    this.scopeField.copy(buf, p);
    return start;
  }
}

function field(tag: number, body: Uint8Array): Buffer {
  const w = new ProtoWriter(body.length + 8);
  w.byte(tag);
  w.bytes(body);
  return Buffer.from(w.view());
}

function putVarint(buf: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    buf[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[p++] = n;
  return p;
}
