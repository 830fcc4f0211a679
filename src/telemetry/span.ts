/**
 * The span as tracecar records it on the request path: a plain object, cheap to build and to
 * post to a worker. Conversion to OpenTelemetry's ReadableSpan happens off the hot path
 * (telemetry/export/convert.ts), and the admin store keeps these as they are.
 */
export type SpanKindName = 'server' | 'client' | 'internal' | 'producer' | 'consumer';
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue>;

export interface SpanEvent {
  name: string;
  /** Epoch milliseconds with sub-millisecond fraction. */
  time: number;
  attributes?: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes?: Attributes;
}

export interface SpanStatus {
  code: 'unset' | 'ok' | 'error';
  message?: string;
}

export interface SpanRecord {
  /** 32 lowercase hex. */
  traceId: string;
  /** 16 lowercase hex. */
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  /** W3C trace flags byte as it goes out (0x01 sampled, 0x02 random). */
  traceFlags: number;
  name: string;
  kind: SpanKindName;
  /** Epoch milliseconds with sub-millisecond fraction. */
  startTime: number;
  endTime: number;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  status: SpanStatus;
  /** service.name of the process that recorded it (the store mixes services received over OTLP). */
  service: string;
  /** Other resource attributes (service.version, ...). */
  resource?: Attributes;
  /** Instrumentation scope name; tracecar's own spans use "tracecar". */
  scope?: string;
  /** Whether this span leaves the process (head decision or tail keep). */
  sampled: boolean;
}

/** Epoch milliseconds with microsecond precision, monotonic within the process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
