/**
 * The reference for tracecar's OTLP encoder: the same spans as OpenTelemetry JS's SDK shapes them
 * (ReadableSpan, @opentelemetry/sdk-trace-base 2.x) and encodes them (@opentelemetry/otlp-transformer's
 * ProtobufTraceSerializer / JsonTraceSerializer). This is how tracecar converted a SpanRecord
 * before it encoded spans itself (src/telemetry/export/convert.ts until then).
 */
import { SpanKind, SpanStatusCode, createTraceState, type Link, type SpanContext } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { Attributes, SpanKindName, SpanRecord, SpanStatus } from '../../src/telemetry/span.js';

const KIND: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

const STATUS: Record<SpanStatus['code'], SpanStatusCode> = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
};

/** SpanRecords → ReadableSpans sharing one resource and one scope (one ResourceSpans, one ScopeSpans). */
export function toReadableSpans(records: SpanRecord[], resourceAttributes: Attributes, scope: { name: string; version?: string }): ReadableSpan[] {
  const resource = resourceFromAttributes(resourceAttributes);
  return records.map((record) => {
    const kind = KIND[record.kind];
    const spanContext: SpanContext = {
      traceId: record.traceId,
      spanId: record.spanId,
      traceFlags: record.traceFlags,
      traceState: record.traceState ? createTraceState(record.traceState) : undefined,
      isRemote: false,
    };
    // A SERVER span's parent is the caller's span (remote); any other parent lives in this process.
    const parentSpanContext: SpanContext | undefined = record.parentSpanId
      ? { traceId: record.traceId, spanId: record.parentSpanId, traceFlags: record.traceFlags, isRemote: kind === SpanKind.SERVER }
      : undefined;
    const startTime = millisToHrTime(record.startTime);
    const endTime = millisToHrTime(record.endTime);
    const events: TimedEvent[] = record.events.map((e) => ({ name: e.name, time: millisToHrTime(e.time), attributes: e.attributes }));
    const links: Link[] = record.links.map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 0, isRemote: true },
      attributes: l.attributes,
    }));
    return {
      name: record.name,
      kind,
      spanContext: () => spanContext,
      parentSpanContext,
      startTime,
      endTime,
      duration: hrTimeDuration(startTime, endTime),
      status: { code: STATUS[record.status.code], message: record.status.message },
      attributes: record.attributes,
      links,
      events,
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

export function sdkProtobuf(spans: ReadableSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

export function sdkJson(spans: ReadableSpan[]): Uint8Array {
  return JsonTraceSerializer.serializeRequest(spans)!;
}
