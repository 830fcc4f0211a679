/**
 * A real OTLP/gRPC trace receiver for tests: @grpc/grpc-js serving
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export`, decoding every request with the
 * protobufjs code generated from the official opentelemetry-proto definitions (shipped by
 * @opentelemetry/otlp-transformer 0.52.x, installed here as the alias `otlp-proto-0.52`).
 *
 * The exporter under test encodes with its own hand-written serializer (otlp-transformer 0.2xx),
 * so decoding here with the official generated code is an independent check of the wire format.
 */
import * as grpc from '@grpc/grpc-js';
import {
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  type LongLike,
  type ProtoAnyValue,
  type ProtoKeyValue,
  type ProtoRequest,
} from './otlp-proto.js';

/* ------------------------------------------------------------------------------------------ */
/* What tests see.                                                                              */

export type ReceivedValue = string | number | boolean | ReceivedValue[] | { [key: string]: ReceivedValue } | Uint8Array | null;
export type ReceivedAttributes = Record<string, ReceivedValue>;

export type ReceivedKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' when the span has no parent. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: ReceivedKind;
  attributes: ReceivedAttributes;
  events: Array<{ name: string; timeUnixNano: bigint; attributes: ReceivedAttributes }>;
  links: Array<{ traceId: string; spanId: string; traceState: string; attributes: ReceivedAttributes }>;
  status: { code: 'unset' | 'ok' | 'error'; message: string };
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  resource: ReceivedAttributes;
  scope: string;
  scopeVersion: string;
}

export interface OtlpReceiverOptions {
  /** Answer every Export with this gRPC status instead of OK (spans are not recorded). */
  failWith?: grpc.status;
  /** Wait this long before answering each Export. */
  delayMs?: number;
  /** Bind this port (a receiver restarted where the exporter expects it). @default 0, any free port */
  port?: number;
}

export interface OtlpReceiver {
  port: number;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Every span accepted so far, flattened across requests, resources and scopes. */
  spans(): ReceivedSpan[];
  /** Resolves once at least `count` spans were accepted; rejects after timeoutMs (default 5000). */
  waitForSpans(count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Resolves once at least `count` Export calls arrived (accepted or failed). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Export calls received, failed ones included. */
  readonly requests: number;
  /** Most Export calls that were being answered at the same time (with delayMs). */
  readonly maxConcurrentRequests: number;
  /** Spans per accepted request, in arrival order. */
  readonly batchSizes: number[];
  /** gRPC metadata of each Export call, as plain lowercase-keyed objects. */
  readonly metadata: Array<Record<string, string>>;
  /**
   * Make later calls fail with `code` (default UNAVAILABLE); `null` makes them succeed again.
   * `retryDelayMs`: also send a google.rpc.RetryInfo with that delay (grpc-status-details-bin).
   */
  setFailure(code?: grpc.status | null, options?: { retryDelayMs?: number }): void;
  /** Change the answer delay at runtime. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const KINDS: ReceivedKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: Array<ReceivedSpan['status']['code']> = ['unset', 'ok', 'error'];

function has<K extends string>(obj: object, key: K): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : '';
}

function toBigInt(v: number | LongLike | undefined): bigint {
  if (v === undefined || v === null) return 0n;
  return BigInt(typeof v === 'number' ? v : v.toString());
}

function anyValue(v: ProtoAnyValue | undefined): ReceivedValue {
  if (!v) return null;
  if (has(v, 'stringValue')) return v.stringValue ?? '';
  if (has(v, 'boolValue')) return v.boolValue ?? false;
  if (has(v, 'intValue')) return Number(toBigInt(v.intValue));
  if (has(v, 'doubleValue')) return v.doubleValue ?? 0;
  if (has(v, 'arrayValue')) return (v.arrayValue?.values ?? []).map(anyValue);
  if (has(v, 'kvlistValue')) return attributes(v.kvlistValue?.values);
  if (has(v, 'bytesValue')) return v.bytesValue ?? new Uint8Array();
  return null;
}

function attributes(kvs: ProtoKeyValue[] | undefined): ReceivedAttributes {
  const out: ReceivedAttributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Flattens one decoded ExportTraceServiceRequest into ReceivedSpans. */
export function flattenRequest(request: ProtoRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = ss.scope?.name ?? '';
      const scopeVersion = ss.scope?.version ?? '';
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          traceState: s.traceState ?? '',
          name: s.name,
          kind: KINDS[s.kind] ?? 'unspecified',
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeUnixNano: toBigInt(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            traceState: l.traceState ?? '',
            attributes: attributes(l.attributes),
          })),
          status: { code: STATUS[s.status?.code ?? 0] ?? 'unset', message: s.status?.message ?? '' },
          startTimeUnixNano: toBigInt(s.startTimeUnixNano),
          endTimeUnixNano: toBigInt(s.endTimeUnixNano),
          resource,
          scope,
          scopeVersion,
        });
      }
    }
  }
  return out;
}

function metadataToObject(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(md.getMap())) out[key] = String(value);
  return out;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** Protobuf bytes of one length-delimited field. */
function field(tag: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** google.rpc.Status { code, details: [Any(google.rpc.RetryInfo { retry_delay: Duration })] }, hand-encoded. */
function statusWithRetryInfo(code: number, delayMs: number): Buffer {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = (delayMs % 1000) * 1e6;
  const duration = Buffer.from([0x08, ...varint(seconds), 0x10, ...varint(nanos)]);
  const retryInfo = field(0x0a, duration);
  const any = Buffer.concat([field(0x0a, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(0x12, retryInfo)]);
  return Buffer.concat([Buffer.from([0x08, ...varint(code)]), field(0x1a, any)]);
}

const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: object) => Buffer.from(ExportTraceServiceRequest.encode(message).finish()),
    requestDeserialize: (bytes: Buffer) => ExportTraceServiceRequest.decode(bytes),
    responseSerialize: (message: object) => Buffer.from(ExportTraceServiceResponse.encode(message).finish()),
    responseDeserialize: (bytes: Buffer) => ExportTraceServiceResponse.decode(bytes),
  },
};

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const batchSizes: number[] = [];
  const metadata: Array<Record<string, string>> = [];
  let requests = 0;
  let active = 0;
  let maxActive = 0;
  let failure: grpc.status | null = options.failWith ?? null;
  let failureDetails: Buffer | undefined;
  let delayMs = options.delayMs ?? 0;
  const waiters = new Set<() => void>();
  const pendingTimers = new Set<NodeJS.Timeout>();

  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  const server = new grpc.Server();
  server.addService(traceServiceDefinition, {
    Export: (call: grpc.ServerUnaryCall<ProtoRequest, object>, callback: grpc.sendUnaryData<object>) => {
      requests += 1;
      active += 1;
      maxActive = Math.max(maxActive, active);
      metadata.push(metadataToObject(call.metadata));
      const answer = (): void => {
        active -= 1;
        if (failure !== null) {
          const metadata = new grpc.Metadata();
          if (failureDetails) metadata.set('grpc-status-details-bin', failureDetails);
          callback({ code: failure, details: 'otlp-receiver: failure injected by the test', metadata });
        } else {
          const spans = flattenRequest(call.request);
          received.push(...spans);
          batchSizes.push(spans.length);
          callback(null, ExportTraceServiceResponse.create({}));
        }
        notify();
      };
      if (delayMs > 0) {
        const t = setTimeout(() => {
          pendingTimers.delete(t);
          answer();
        }, delayMs);
        pendingTimers.add(t);
      } else {
        answer();
      }
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) =>
      err ? reject(err) : resolve(boundPort),
    );
  });

  // Event-driven, not polled: every answered Export call runs the waiters.
  const whenReceived = <T>(ready: () => boolean, value: () => T, timeoutMs: number, what: () => string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (ready()) return resolve(value());
      const check = (): void => {
        if (!ready()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value());
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`otlp-receiver: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      waiters.add(check);
    });

  let closed: Promise<void> | undefined;

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    waitForSpans: (count, timeoutMs = 5000) =>
      whenReceived(
        () => received.length >= count,
        () => [...received],
        timeoutMs,
        () => `${count} spans (got ${received.length} in ${requests} requests)`,
      ),
    waitForRequests: (count, timeoutMs = 5000) =>
      whenReceived(
        () => requests >= count,
        () => undefined,
        timeoutMs,
        () => `${count} requests (got ${requests})`,
      ),
    get requests() {
      return requests;
    },
    get maxConcurrentRequests() {
      return maxActive;
    },
    batchSizes,
    metadata,
    setFailure(code: grpc.status | null = grpc.status.UNAVAILABLE, opts: { retryDelayMs?: number } = {}) {
      failure = code;
      failureDetails = opts.retryDelayMs === undefined || code === null ? undefined : statusWithRetryInfo(code, opts.retryDelayMs);
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of pendingTimers) clearTimeout(t);
        pendingTimers.clear();
        server.forceShutdown();
        resolve();
      });
      return closed;
    },
  };
}
