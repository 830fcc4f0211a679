/**
 * OTLP/JSON (for the `http/json` protocol): the same messages as encode.ts in the OTLP JSON mapping
 * — lowerCamelCase keys, hex trace and span ids, enums as numbers, 64-bit timestamps as decimal
 * strings — keyed and ordered as OpenTelemetry JS's JSON serializer writes them. Off the hot
 * path: a span is first built as a SpanRecord (toSpanRecord), then stringified here.
 */
import type { AttributeValue, Attributes, SpanRecord } from '../span.js';
import { SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, SPAN_FLAGS_CONTEXT_IS_REMOTE, SPAN_KIND_NUMBER, STATUS_CODE_NUMBER } from './encode.js';

type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: JsonAnyValue[] } }
  | Record<string, never>;

function anyValue(value: AttributeValue | undefined): JsonAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: (value as AttributeValue[]).map((v) => anyValue(v)) } };
  return {};
}

function keyValues(attributes: Attributes | undefined): Array<{ key: string; value: JsonAnyValue }> {
  if (!attributes) return [];
  return Object.keys(attributes).map((key) => ({ key, value: anyValue(attributes[key]) }));
}

/** Epoch milliseconds → unix nanoseconds as a decimal string, rounded as ProtoWriter.timeMs rounds. */
export function unixNanos(ms: number): string {
  const rest = ms % 1000;
  const seconds = (ms - rest) / 1000;
  return (BigInt(seconds) * 1_000_000_000n + BigInt(Math.round(rest * 1e6))).toString();
}

/** One span as the OTLP/JSON `Span` object. */
export function spanJson(record: SpanRecord): string {
  const remoteParent = record.parentSpanId ? record.kind === 'server' : false;
  return JSON.stringify({
    traceId: record.traceId,
    spanId: record.spanId,
    parentSpanId: record.parentSpanId || undefined,
    traceState: record.traceState || undefined,
    name: record.name,
    kind: SPAN_KIND_NUMBER[record.kind] ?? 1,
    startTimeUnixNano: unixNanos(record.startTime),
    endTimeUnixNano: unixNanos(record.endTime),
    attributes: keyValues(record.attributes),
    droppedAttributesCount: 0,
    events: record.events.map((e) => ({
      attributes: keyValues(e.attributes),
      name: e.name,
      timeUnixNano: unixNanos(e.time),
      droppedAttributesCount: 0,
    })),
    droppedEventsCount: 0,
    status: { code: STATUS_CODE_NUMBER[record.status.code] ?? 0, message: record.status.message },
    links: record.links.map((l) => ({
      attributes: keyValues(l.attributes),
      spanId: l.spanId,
      traceId: l.traceId,
      droppedAttributesCount: 0,
      flags: SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | SPAN_FLAGS_CONTEXT_IS_REMOTE,
    })),
    droppedLinksCount: 0,
    flags: (record.traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | (remoteParent ? SPAN_FLAGS_CONTEXT_IS_REMOTE : 0),
  });
}

/**
 * The text of an ExportTraceServiceRequest before and after its spans (joined with commas): one
 * ResourceSpans with one ScopeSpans.
 */
export function requestJsonFrame(resource: Attributes, scope: { name: string; version?: string }): { head: string; tail: string } {
  const head = JSON.stringify({
    resourceSpans: [{ resource: { attributes: keyValues(resource), droppedAttributesCount: 0 }, scopeSpans: [{ scope, spans: [] }] }],
  });
  const marker = '"spans":[';
  const at = head.lastIndexOf(marker) + marker.length;
  return { head: head.slice(0, at), tail: head.slice(at) };
}
