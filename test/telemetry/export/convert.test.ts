import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createSpanConverter } from '../../../src/telemetry/export/convert.js';
import { serverSpan } from './span-fixtures.js';

const convert = createSpanConverter({ serviceName: 'orders', attributes: { 'service.version': '1.0.0' } }, '0.1.0');

describe('SpanRecord → ReadableSpan', () => {
  it('maps ids, kind, status, times and scope', () => {
    const record = serverSpan({ parentSpanId: '00f067aa0ba902b7', traceState: 'a=1', status: { code: 'error', message: 'boom' } });
    const span = convert(record);
    expect(span.spanContext()).toMatchObject({ traceId: record.traceId, spanId: record.spanId, traceFlags: 1, isRemote: false });
    expect(span.spanContext().traceState?.serialize()).toBe('a=1');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span.instrumentationScope).toEqual({ name: 'tracecar', version: '0.1.0' });
    expect(span.ended).toBe(true);
    const [s, ns] = span.startTime;
    expect(s * 1000 + ns / 1e6).toBeCloseTo(record.startTime, 3);
    const [ds, dns] = span.duration;
    expect(ds * 1000 + dns / 1e6).toBeCloseTo(record.endTime - record.startTime, 3);
  });

  it("marks a SERVER span's parent remote and a CLIENT span's parent local", () => {
    expect(convert(serverSpan({ parentSpanId: '1'.repeat(16) })).parentSpanContext?.isRemote).toBe(true);
    expect(convert(serverSpan({ kind: 'client', parentSpanId: '1'.repeat(16) })).parentSpanContext?.isRemote).toBe(false);
    expect(convert(serverSpan()).parentSpanContext).toBeUndefined();
  });

  it('shares one resource object for the configured service (one ResourceSpans per batch)', () => {
    const a = convert(serverSpan());
    const b = convert(serverSpan());
    expect(a.resource).toBe(b.resource);
    expect(a.resource.attributes['service.name']).toBe('orders');
    expect(a.resource.attributes['service.version']).toBe('1.0.0');
    const other = convert(serverSpan({ service: 'payments' }));
    expect(other.resource).not.toBe(a.resource);
    expect(other.resource.attributes['service.name']).toBe('payments');
    expect(convert(serverSpan({ service: 'payments' })).resource).toBe(other.resource);
  });
});
