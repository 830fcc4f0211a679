import { newSpanId, newTraceId } from '../../../src/telemetry/ids.js';
import type { SpanRecord } from '../../../src/telemetry/span.js';

/** A finished SERVER span as the request path records it; override any field. */
export function serverSpan(overrides: Partial<SpanRecord> = {}): SpanRecord {
  const start = Date.now() - 5.25;
  return {
    traceId: newTraceId(),
    spanId: newSpanId(),
    traceFlags: 0x01,
    name: 'GET /orders/:id',
    kind: 'server',
    startTime: start,
    endTime: start + 4.5,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    events: [],
    links: [],
    status: { code: 'unset' },
    service: 'orders',
    sampled: true,
    ...overrides,
  };
}

/** n independent spans named span-0 … span-(n-1). */
export function manySpans(n: number, overrides: Partial<SpanRecord> = {}): SpanRecord[] {
  return Array.from({ length: n }, (_, i) => serverSpan({ name: `span-${i}`, ...overrides }));
}
