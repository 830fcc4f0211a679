/**
 * A span as a plain object: what the admin API answers (the store decodes it from the bytes it
 * keeps), what the admin OTLP receiver decodes, and what OTLP/JSON export is written from. This
 * process's own spans are not built this way on the request path: span end encodes them to OTLP
 * protobuf straight from the Hop (telemetry/otlp/encode.ts); toSpanRecord(hop) gives the same
 * span as a SpanRecord when one is needed.
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

/** The process's time origin: constant, and a getter that asks the runtime each time it is read. */
const TIME_ORIGIN = performance.timeOrigin;

/** Epoch milliseconds with microsecond precision, monotonic within the process. */
export function nowMs(): number {
  return TIME_ORIGIN + performance.now();
}
