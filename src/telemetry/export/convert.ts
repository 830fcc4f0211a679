/**
 * SpanRecord → ReadableSpan (the @opentelemetry/sdk-trace-base 2.x shape the OTLP exporters take).
 * Runs off the request path: in the export worker, or in the exporter's timer callback inline.
 */
import { SpanKind, SpanStatusCode, createTraceState, type Link, type SpanContext } from '@opentelemetry/api';
import { SDK_INFO, hrTimeDuration, millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { ExportResource } from './types.js';
import type { SpanKindName, SpanRecord, SpanStatus } from '../span.js';

export const TRACECAR_SCOPE = 'tracecar';

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

/** Distinct per-span resources remembered; beyond this, unusual resources are built per span. */
const MAX_CACHED_RESOURCES = 64;

export type SpanConverter = (record: SpanRecord) => ReadableSpan;

/**
 * Builds the converter for one exporter. All spans of this process share one Resource object and
 * one scope object, so the OTLP transformer groups a batch into a single ResourceSpans/ScopeSpans.
 */
export function createSpanConverter(resource: ExportResource, scopeVersion: string): SpanConverter {
  const baseAttributes: Record<string, string> = {
    ...SDK_INFO,
    ...resource.attributes,
    'service.name': resource.serviceName,
  };
  const baseResource = resourceFromAttributes(baseAttributes);
  const resources = new Map<string, Resource>();
  const scopes = new Map<string, { name: string; version?: string }>();
  const tracecarScope = { name: TRACECAR_SCOPE, version: scopeVersion };

  const resourceFor = (record: SpanRecord): Resource => {
    const service = record.service || resource.serviceName;
    if (service === resource.serviceName && record.resource === undefined) return baseResource;
    const key = record.resource === undefined ? service : `${service}\n${JSON.stringify(record.resource)}`;
    let r = resources.get(key);
    if (r === undefined) {
      r = resourceFromAttributes({ ...baseAttributes, ...record.resource, 'service.name': service });
      if (resources.size < MAX_CACHED_RESOURCES) resources.set(key, r);
    }
    return r;
  };

  const scopeFor = (name: string | undefined): { name: string; version?: string } => {
    if (name === undefined || name === TRACECAR_SCOPE) return tracecarScope;
    let s = scopes.get(name);
    if (s === undefined) {
      s = { name };
      if (scopes.size < MAX_CACHED_RESOURCES) scopes.set(name, s);
    }
    return s;
  };

  return (record) => {
    const kind = KIND[record.kind] ?? SpanKind.INTERNAL;
    const spanContext: SpanContext = {
      traceId: record.traceId,
      spanId: record.spanId,
      traceFlags: record.traceFlags,
      traceState: record.traceState ? createTraceState(record.traceState) : undefined,
      isRemote: false,
    };
    // A SERVER span's parent is the caller's span (remote); any other parent lives in this process.
    const parentSpanContext: SpanContext | undefined = record.parentSpanId
      ? {
          traceId: record.traceId,
          spanId: record.parentSpanId,
          traceFlags: record.traceFlags,
          isRemote: kind === SpanKind.SERVER,
        }
      : undefined;
    const startTime = millisToHrTime(record.startTime);
    const endTime = millisToHrTime(record.endTime);
    const events: TimedEvent[] = record.events.map((e) => ({
      name: e.name,
      time: millisToHrTime(e.time),
      attributes: e.attributes,
    }));
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
      status: { code: STATUS[record.status.code] ?? SpanStatusCode.UNSET, message: record.status.message },
      attributes: record.attributes,
      links,
      events,
      ended: true,
      resource: resourceFor(record),
      instrumentationScope: scopeFor(record.scope),
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  };
}
