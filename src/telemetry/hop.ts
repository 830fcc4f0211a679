import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import type { ATTR_RPC_GRPC_STATUS_CODE as LegacyStatus, ATTR_RPC_SERVICE as LegacyService, ATTR_RPC_SYSTEM as LegacySystem, RPC_SYSTEM_VALUE_GRPC as LegacyGrpc } from '@opentelemetry/semantic-conventions/incubating';
import { grpcStatusName, isGrpcError, type GrpcMethod } from '../grpc/index.js';
import { knownMethod } from './http-method.js';
import { boundedValue } from '../propagation/excerpt.js';
import type { Attributes, SpanEvent, SpanKindName, SpanLink, SpanRecord, SpanStatus } from './span.js';
import type { ErrorCode, FailureCause } from '../errors.js';

// Incubating semconv names (stable enough to rely on, not yet exported from the stable entry point).
export const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
export const ATTR_PEER_SERVICE = 'peer.service';

/**
 * The rpc.* names before the RPC conventions were stabilised (grpc.attributes: legacy | both), for
 * backends that still expect them. They are deprecated and only in the incubating entry point,
 * which is not loaded at run time (the package's own advice): each literal is typed as the
 * package's constant, so a rename there fails the type check here.
 */
export const LEGACY_RPC = {
  system: 'rpc.system' as typeof LegacySystem,
  service: 'rpc.service' as typeof LegacyService,
  grpcStatusCode: 'rpc.grpc.status_code' as typeof LegacyStatus,
  grpc: 'grpc' as typeof LegacyGrpc,
} as const;

/** tracecar's own attributes, namespaced as OTel asks for non-standard keys. */
export const TC = {
  correlationId: 'tracecar.correlation_id',
  correlationRejected: 'tracecar.correlation_id.rejected',
  correlationSource: 'tracecar.correlation_id.source',
  samplingRule: 'tracecar.sampling.rule',
  samplingReason: 'tracecar.sampling.reason',
  samplingKept: 'tracecar.sampling.kept',
  parentInferred: 'tracecar.parent.inferred',
  parentSource: 'tracecar.parent.source',
  newRoot: 'tracecar.root',
  side: 'tracecar.side',
  errorCode: 'tracecar.error.code',
} as const;

/**
 * Everything the request path learns about one proxied request, kept as plain fields; attributes
 * are only derived (hopAttributes) when the span leaves the process: written straight into OTLP
 * protobuf at span end, or built as an object when the admin API asks for the span.
 */
export class Hop {
  traceId = '';
  spanId = '';
  parentSpanId: string | undefined = undefined;
  traceState: string | undefined = undefined;
  traceIdBits: 64 | 128 = 128;
  random = true;
  debug = false;
  sampled = false;
  samplingRule = '';
  samplingReason = '';
  correlationId = '';
  correlationSource = '';
  correlationRejected: string | undefined = undefined;
  route = '';
  name = '';
  /** Request target as received (path + query). */
  path = '';
  query = '';
  userAgent: string | undefined = undefined;
  clientAddress: string | undefined = undefined;
  peerAddress: string | undefined = undefined;
  peerPort: number | undefined = undefined;
  httpVersion = '1.1';
  /** url.scheme as the caller used it (https on a TLS listener). */
  scheme = 'http';
  /** gRPC calls: the method called (the span name is its full form). */
  rpc: GrpcMethod | undefined = undefined;
  /** gRPC status from the trailers, or from the headers of a Trailers-Only response. */
  grpcStatus: number | undefined = undefined;
  grpcMessage: string | undefined = undefined;
  /** Which rpc.* names the span carries (config grpc.attributes). */
  rpcAttributes: 'current' | 'legacy' | 'both' = 'current';
  /** CLIENT spans: the upstream URL (query already redacted) and peer service. */
  urlFull: string | undefined = undefined;
  serverAddress: string | undefined = undefined;
  serverPort: number | undefined = undefined;
  peerService: string | undefined = undefined;
  events: SpanEvent[] = [];
  links: SpanLink[] = [];
  /** Extra attributes set by stages (stitching, doctor, chaos, websocket). */
  extra: Attributes | undefined = undefined;
  endTime = 0;
  status = 0;
  requestBytes = 0;
  responseBytes = 0;
  errorType: string | undefined = undefined;
  errorMessage: string | undefined = undefined;
  errorCode: ErrorCode | undefined = undefined;
  keptBy: string | null = null;

  constructor(
    readonly side: 'ingress' | 'egress',
    readonly kind: SpanKindName,
    readonly method: string,
    readonly startTime: number,
  ) {}

  /** Continue a trace whose parent span is `parent.spanId` (a caller's context or an in-flight SERVER span). */
  continueTrace(parent: { traceId: string; spanId: string; traceState?: string; traceIdBits: 64 | 128; random: boolean; debug: boolean }): void {
    this.traceId = parent.traceId;
    this.parentSpanId = parent.spanId;
    this.traceState = parent.traceState;
    this.traceIdBits = parent.traceIdBits;
    this.random = parent.random;
    this.debug = parent.debug;
  }

  /** Start a new trace: our ids are fully random, so the W3C random flag is honest. */
  startTrace(traceId: string): void {
    this.traceId = traceId;
    this.random = true;
  }

  /** Records why this hop failed: `error.type`, `tracecar.error.code` and the span status message. */
  fail(cause: FailureCause): void {
    this.errorType = cause.errorType;
    this.errorCode = cause.code;
    this.errorMessage = cause.message;
  }

  /** Whether a cause is already recorded (the first cause wins where several could apply). */
  get failed(): boolean {
    return this.errorType !== undefined;
  }

  event(name: string, time: number, attributes?: Attributes): void {
    this.events.push(attributes ? { name, time, attributes } : { name, time });
  }

  set(key: string, value: Attributes[string]): void {
    (this.extra ??= {})[key] = value;
  }

  get durationMs(): number {
    return this.endTime - this.startTime;
  }

  /**
   * ERROR per OTel HTTP semconv: transport failures always; 5xx for both kinds; 4xx only for CLIENT
   * spans. A gRPC call with a status: per the gRPC conventions (grpc/status.ts isGrpcError).
   */
  get isError(): boolean {
    if (this.errorType !== undefined) return true;
    if (this.grpcStatus !== undefined) return isGrpcError(this.grpcStatus, this.kind === 'server' ? 'server' : 'client');
    if (this.status >= 500) return true;
    return this.kind === 'client' && this.status >= 400;
  }
}

/**
 * Bounds of the span attributes copied from request headers (the value is kept as received on
 * the hop and bounded only when a span is built): User-Agent, the first X-Forwarded-For entry,
 * and the Host authority.
 */
export const ATTRIBUTE_LIMITS = { userAgent: 256, clientAddress: 128, serverAddress: 256 } as const;

export interface ResourceInfo {
  service: string;
  resource: Attributes;
}

/**
 * Receives a span's attributes in order, typed; the OTLP encoder (telemetry/otlp/encode.ts) writes
 * them straight into protobuf, toSpanRecord collects them into an object. One mapping from Hop to
 * attributes (hopAttributes) serves both, so the wire and the store never disagree.
 */
export interface AttributeSink {
  str(key: string, value: string): void;
  /** An integer (status codes, ports, byte counts). */
  int(key: string, value: number): void;
  /** Any other value (the stages' extra attributes). */
  any(key: string, value: Attributes[string]): void;
}

/** The attribute keys hopAttributes can write before the extras (an extra with one of these keys replaces it). */
export const HOP_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL, ATTR_URL_PATH, ATTR_URL_QUERY, ATTR_URL_SCHEME, ATTR_HTTP_ROUTE,
  ATTR_CLIENT_ADDRESS, ATTR_URL_FULL, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT,
  ATTR_PEER_SERVICE, ATTR_NETWORK_PROTOCOL_VERSION, ATTR_USER_AGENT_ORIGINAL, ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_REQUEST_BODY_SIZE, ATTR_HTTP_RESPONSE_BODY_SIZE, TC.side, TC.correlationId, TC.correlationSource,
  TC.correlationRejected, TC.samplingRule, TC.samplingReason, TC.samplingKept, TC.errorCode, ATTR_ERROR_TYPE,
  ATTR_RPC_SYSTEM_NAME, ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, LEGACY_RPC.system, LEGACY_RPC.service, LEGACY_RPC.grpcStatusCode,
]);

/** The span's attributes, in the order they go out; `extra` (set by stages) last. */
export function hopAttributes(hop: Hop, a: AttributeSink): void {
  const method = knownMethod(hop.method);
  a.str(ATTR_HTTP_REQUEST_METHOD, method);
  if (method === HTTP_REQUEST_METHOD_VALUE_OTHER) a.str(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, hop.method);
  if (hop.kind === 'server') {
    a.str(ATTR_URL_PATH, hop.path);
    if (hop.query) a.str(ATTR_URL_QUERY, hop.query);
    a.str(ATTR_URL_SCHEME, hop.scheme);
    a.str(ATTR_HTTP_ROUTE, hop.route);
    if (hop.clientAddress) a.str(ATTR_CLIENT_ADDRESS, boundedValue(hop.clientAddress, ATTRIBUTE_LIMITS.clientAddress));
  } else if (hop.urlFull) {
    a.str(ATTR_URL_FULL, hop.urlFull);
  }
  if (hop.serverAddress) a.str(ATTR_SERVER_ADDRESS, boundedValue(hop.serverAddress, ATTRIBUTE_LIMITS.serverAddress));
  if (hop.serverPort !== undefined) a.int(ATTR_SERVER_PORT, hop.serverPort);
  if (hop.peerAddress) a.str(ATTR_NETWORK_PEER_ADDRESS, hop.peerAddress);
  if (hop.peerPort !== undefined) a.int(ATTR_NETWORK_PEER_PORT, hop.peerPort);
  if (hop.peerService) a.str(ATTR_PEER_SERVICE, hop.peerService);
  a.str(ATTR_NETWORK_PROTOCOL_VERSION, hop.httpVersion);
  if (hop.userAgent) a.str(ATTR_USER_AGENT_ORIGINAL, boundedValue(hop.userAgent, ATTRIBUTE_LIMITS.userAgent));
  if (hop.status > 0) a.int(ATTR_HTTP_RESPONSE_STATUS_CODE, hop.status);
  a.int(ATTR_HTTP_REQUEST_BODY_SIZE, hop.requestBytes);
  a.int(ATTR_HTTP_RESPONSE_BODY_SIZE, hop.responseBytes);
  a.str(TC.side, hop.side);
  a.str(TC.correlationId, hop.correlationId);
  if (hop.correlationSource !== 'incoming') a.str(TC.correlationSource, hop.correlationSource);
  if (hop.correlationRejected !== undefined) a.str(TC.correlationRejected, hop.correlationRejected);
  if (hop.samplingRule) a.str(TC.samplingRule, hop.samplingRule);
  if (hop.samplingReason) a.str(TC.samplingReason, hop.samplingReason);
  if (hop.keptBy) a.str(TC.samplingKept, hop.keptBy);
  if (hop.errorCode) a.str(TC.errorCode, hop.errorCode);
  // error.type: tracecar's own cause, else a failed gRPC call's status name, else the HTTP status.
  if (hop.isError) a.str(ATTR_ERROR_TYPE, hop.errorType ?? (hop.grpcStatus !== undefined ? grpcStatusName(hop.grpcStatus) : String(hop.status)));
  if (hop.rpc) rpcAttributes(a, hop);
  const extra = hop.extra;
  if (extra) for (const key in extra) a.any(key, extra[key]!);
}

/** Whether an extra attribute replaces one hopAttributes wrote before it (then the key must appear once). */
export function extraOverridesBase(hop: Hop): boolean {
  const extra = hop.extra;
  if (extra) for (const key in extra) if (HOP_ATTRIBUTE_KEYS.has(key)) return true;
  return false;
}

/** W3C trace flags as the span goes out: 0x01 sampled, 0x02 random. */
export function hopTraceFlags(hop: Hop): number {
  return (hop.sampled ? 1 : 0) | (hop.random ? 2 : 0);
}

/** The span status: ERROR with a message per isError, else UNSET. */
export function hopStatus(hop: Hop): SpanStatus {
  return hop.isError ? { code: 'error', message: hop.errorMessage ?? statusMessage(hop) } : { code: 'unset' };
}

class ObjectAttributes implements AttributeSink {
  readonly out: Attributes = {};
  str(key: string, value: string): void {
    this.out[key] = value;
  }
  int(key: string, value: number): void {
    this.out[key] = value;
  }
  any(key: string, value: Attributes[string]): void {
    this.out[key] = value;
  }
}

/** The attributes as one object (a later key replaces an earlier one in place, as Object.assign does). */
export function hopAttributeObject(hop: Hop): Attributes {
  const sink = new ObjectAttributes();
  hopAttributes(hop, sink);
  return sink.out;
}

/** The span as a plain SpanRecord: for OTLP/JSON export and for tests; OTLP protobuf is encoded from the Hop directly. */
export function toSpanRecord(hop: Hop, res: ResourceInfo): SpanRecord {
  return {
    traceId: hop.traceId,
    spanId: hop.spanId,
    parentSpanId: hop.parentSpanId,
    traceState: hop.traceState,
    traceFlags: hopTraceFlags(hop),
    name: hop.name,
    kind: hop.kind,
    startTime: hop.startTime,
    endTime: hop.endTime,
    attributes: hopAttributeObject(hop),
    events: hop.events,
    links: hop.links,
    status: hopStatus(hop),
    service: res.service,
    resource: res.resource,
    scope: 'tracecar',
    sampled: hop.sampled || hop.keptBy !== null,
  };
}

/** The span status message of an error with no cause of tracecar's own. */
function statusMessage(hop: Hop): string {
  if (hop.grpcStatus === undefined) return `HTTP ${hop.status}`;
  const name = grpcStatusName(hop.grpcStatus);
  return hop.grpcMessage ? `${name}: ${hop.grpcMessage}` : name;
}

/** OpenTelemetry RPC attributes of a gRPC call, in the names grpc.attributes asks for. */
function rpcAttributes(a: AttributeSink, hop: Hop): void {
  const rpc = hop.rpc!;
  if (hop.rpcAttributes !== 'legacy') {
    a.str(ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC);
    a.str(ATTR_RPC_METHOD, rpc.full);
    if (hop.grpcStatus !== undefined) a.str(ATTR_RPC_STATUS_CODE, grpcStatusName(hop.grpcStatus));
  }
  if (hop.rpcAttributes !== 'current') {
    a.str(LEGACY_RPC.system, LEGACY_RPC.grpc);
    a.str(LEGACY_RPC.service, rpc.service);
    // The legacy rpc.method is the method alone; with "both", the current full form wins.
    if (hop.rpcAttributes === 'legacy') a.str(ATTR_RPC_METHOD, rpc.method);
    if (hop.grpcStatus !== undefined) a.int(LEGACY_RPC.grpcStatusCode, hop.grpcStatus);
  }
}
