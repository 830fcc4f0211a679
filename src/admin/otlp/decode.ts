/**
 * OTLP/HTTP trace export requests (protobuf or JSON) → SpanRecords for the trace store.
 *
 * Protobuf uses the vendored opentelemetry-proto descriptor (trace-descriptor.json, see NOTICE).
 * JSON follows the OTLP/JSON mapping: lowerCamelCase keys, trace and span ids as hex strings, enums
 * as integers, 64-bit integers as decimal strings or numbers. Both decode into the same plain shape,
 * converted by one function. Nothing here throws past decodeOtlp*: malformed spans are counted as
 * rejected, a malformed body is an OtlpDecodeError (→ 400).
 */
import { readFileSync } from 'node:fs';
// protobufjs 7 on purpose: the OTLP gRPC exporter's @grpc/grpc-js → @grpc/proto-loader needs ^7, so
// depending on 7 ships one copy instead of two majors. Move to 8 when proto-loader does (grpc-node#3062).
import protobuf from 'protobufjs';
import type { AttributeValue, Attributes, SpanKindName, SpanRecord, SpanStatus } from '../../telemetry/span.js';

export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

export interface DecodedSpans {
  spans: SpanRecord[];
  /** Spans left out (bad trace or span id). */
  rejected: number;
  /** Why the first rejected span was rejected. */
  errorMessage?: string;
}

const descriptor = JSON.parse(readFileSync(new URL('./trace-descriptor.json', import.meta.url), 'utf8')) as protobuf.INamespace;
const root = protobuf.Root.fromJSON(descriptor);
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

/** google.rpc.Status, the body OTLP/HTTP prescribes for 4xx/5xx answers (details omitted). */
const RpcStatusType = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(RpcStatusType);

export function decodeOtlpProtobuf(body: Uint8Array): DecodedSpans {
  let plain: Record<string, unknown>;
  try {
    const message = RequestType.decode(body);
    plain = RequestType.toObject(message, { longs: String, enums: Number, defaults: false, arrays: true }) as Record<string, unknown>;
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP protobuf body: ${(err as Error).message}`);
  }
  return convertRequest(plain);
}

export function decodeOtlpJson(body: Uint8Array): DecodedSpans {
  let plain: unknown;
  try {
    plain = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP JSON body: ${(err as Error).message}`);
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new OtlpDecodeError('invalid OTLP JSON body: expected an ExportTraceServiceRequest object');
  }
  return convertRequest(plain as Record<string, unknown>);
}

/** ExportTraceServiceResponse; partial_success only when spans were rejected (as the spec asks). */
export function encodeOtlpResponse(encoding: 'protobuf' | 'json', result: DecodedSpans): Uint8Array | string {
  const partial = result.rejected > 0 ? { rejectedSpans: String(result.rejected), errorMessage: result.errorMessage ?? '' } : undefined;
  if (encoding === 'json') return JSON.stringify(partial ? { partialSuccess: partial } : {});
  const message = ResponseType.fromObject(partial ? { partialSuccess: partial } : {});
  return ResponseType.encode(message).finish();
}

/** google.rpc.Status body for an error answer. `code` is a gRPC code (3 = INVALID_ARGUMENT, ...). */
export function encodeRpcStatus(encoding: 'protobuf' | 'json', code: number, message: string): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  return RpcStatusType.encode(RpcStatusType.fromObject({ code, message })).finish();
}

// ---- conversion of the plain (protobuf.toObject or JSON) shape ----

type Plain = Record<string, unknown>;

function arr(v: unknown): Plain[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Plain[]) : [];
}
function obj(v: unknown): Plain | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Plain) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const HEX = /^[0-9a-fA-F]+$/;

/** Ids: bytes (protobuf), hex (OTLP/JSON) or, leniently, base64 (proto3 JSON). All-zero = invalid. */
export function idToHex(v: unknown, bytes: number): string | undefined {
  let hex: string | undefined;
  if (v instanceof Uint8Array) {
    if (v.length === bytes) hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  } else if (typeof v === 'string') {
    if (v.length === bytes * 2 && HEX.test(v)) hex = v.toLowerCase();
    else if (v.length === Math.ceil(bytes / 3) * 4) {
      const b = Buffer.from(v, 'base64');
      if (b.length === bytes) hex = b.toString('hex');
    }
  }
  if (hex === undefined || /^0+$/.test(hex)) return undefined;
  return hex;
}

/** Unix nanoseconds (decimal string, number or bigint) → epoch milliseconds with µs precision. */
export function nanosToMs(v: unknown): number {
  try {
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(BigInt(v) / 1000n) / 1000;
    if (typeof v === 'bigint') return Number(v / 1000n) / 1000;
    if (typeof v === 'number' && Number.isFinite(v)) return v / 1e6;
  } catch {
    // fall through
  }
  return 0;
}

function int64(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** An int64 attribute: a number when it fits exactly, else its decimal string (no silent rounding). */
function int64Attribute(v: unknown): number | string | undefined {
  const n = int64(v);
  if (n === undefined || Number.isSafeInteger(n)) return n;
  return typeof v === 'string' ? v : String(v);
}

type Scalar = string | number | boolean;

function anyValue(v: unknown): AttributeValue | Scalar[] | undefined {
  const av = obj(v);
  if (!av) return undefined;
  if (typeof av.stringValue === 'string') return av.stringValue;
  if (typeof av.boolValue === 'boolean') return av.boolValue;
  if (av.intValue !== undefined && av.intValue !== null) return int64Attribute(av.intValue);
  if (av.doubleValue !== undefined && av.doubleValue !== null) {
    const d = av.doubleValue;
    if (typeof d === 'number') return d;
    if (typeof d === 'string') return d === 'NaN' || d === 'Infinity' || d === '-Infinity' ? d : Number(d);
  }
  if (av.bytesValue !== undefined && av.bytesValue !== null) {
    const b = av.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') : String(b);
  }
  const array = obj(av.arrayValue);
  if (array) {
    const items = arr(array.values).map(anyValue);
    const scalars = items.filter((x): x is Scalar => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
    if (scalars.length === items.length && scalars.every((x) => typeof x === typeof scalars[0])) return scalars;
    return JSON.stringify(items);
  }
  const kvlist = obj(av.kvlistValue);
  if (kvlist) return JSON.stringify(keyValues(kvlist.values));
  return undefined;
}

function keyValues(v: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of arr(v)) {
    const key = str(kv.key);
    if (key === undefined || key === '') continue;
    const value = anyValue(kv.value);
    if (value !== undefined) out[key] = value as AttributeValue;
  }
  return out;
}

const KINDS: SpanKindName[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const KIND_NAMES: Record<string, SpanKindName> = {
  SPAN_KIND_UNSPECIFIED: 'internal',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};

function kindOf(v: unknown): SpanKindName {
  if (typeof v === 'number') return KINDS[v] ?? 'internal';
  if (typeof v === 'string') return KIND_NAMES[v] ?? KINDS[Number(v)] ?? 'internal';
  return 'internal';
}

function statusOf(v: unknown): SpanStatus {
  const s = obj(v);
  if (!s) return { code: 'unset' };
  const c = s.code;
  const code = c === 2 || c === 'STATUS_CODE_ERROR' ? 'error' : c === 1 || c === 'STATUS_CODE_OK' ? 'ok' : 'unset';
  const message = str(s.message);
  return message ? { code, message } : { code };
}

function convertRequest(request: Plain): DecodedSpans {
  const spans: SpanRecord[] = [];
  let rejected = 0;
  let errorMessage: string | undefined;
  const reject = (why: string): void => {
    rejected++;
    errorMessage ??= why;
  };

  for (const rs of arr(request.resourceSpans)) {
    const resourceAttrs = keyValues(obj(rs.resource)?.attributes);
    const serviceName = resourceAttrs['service.name'];
    const service = typeof serviceName === 'string' && serviceName !== '' ? serviceName : 'unknown_service';
    const { ['service.name']: _omit, ...resource } = resourceAttrs;
    // Old exporters: instrumentationLibrarySpans (deprecated field 1000) in JSON.
    const scopes = [...arr(rs.scopeSpans), ...arr(rs.instrumentationLibrarySpans)];
    for (const ss of scopes) {
      const scope = str(obj(ss.scope)?.name) ?? str(obj(ss.instrumentationLibrary)?.name);
      for (const s of arr(ss.spans)) {
        const traceId = idToHex(s.traceId, 16);
        if (!traceId) {
          reject('span with an invalid trace_id (want 16 bytes, not all zero)');
          continue;
        }
        const spanId = idToHex(s.spanId, 8);
        if (!spanId) {
          reject('span with an invalid span_id (want 8 bytes, not all zero)');
          continue;
        }
        const parentSpanId = idToHex(s.parentSpanId, 8);
        const startTime = nanosToMs(s.startTimeUnixNano);
        const endTime = Math.max(startTime, nanosToMs(s.endTimeUnixNano));
        const flags = int64(s.flags);
        const record: SpanRecord = {
          traceId,
          spanId,
          parentSpanId,
          traceState: str(s.traceState) || undefined,
          traceFlags: flags !== undefined ? flags & 0xff : 1,
          name: str(s.name) ?? '',
          kind: kindOf(s.kind),
          startTime,
          endTime,
          attributes: keyValues(s.attributes),
          events: arr(s.events).map((e) => ({ name: str(e.name) ?? '', time: nanosToMs(e.timeUnixNano), attributes: keyValues(e.attributes) })),
          links: arr(s.links).flatMap((l) => {
            const lt = idToHex(l.traceId, 16);
            const ls = idToHex(l.spanId, 8);
            return lt && ls ? [{ traceId: lt, spanId: ls, attributes: keyValues(l.attributes) }] : [];
          }),
          status: statusOf(s.status),
          service,
          resource,
          scope,
          sampled: true,
        };
        spans.push(record);
      }
    }
  }
  return { spans, rejected, errorMessage };
}
