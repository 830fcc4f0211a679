/**
 * The effective tracecar configuration, after defaults, file, environment and CLI flags have
 * been merged, validated and frozen. Durations are milliseconds, ratios are 0..1, percents 0..100.
 * The YAML file uses the same shape with human units ("250ms", "2s", "10%"); see config/schema.json.
 */
import type { OtlpProtocol } from './otlp-endpoint.js';

export type { OtlpProtocol };

export type PropagationFormat = 'w3c' | 'b3' | 'b3multi';

export interface ServiceConfig {
  /** service.name resource attribute. @default "tracecar-service" (or OTEL_SERVICE_NAME) */
  name: string;
  /** service.version resource attribute. */
  version?: string;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES is merged in). */
  attributes: Record<string, string>;
}

export interface TimeoutConfig {
  /** TCP connect to the upstream; exceeded → 504. @default 2000 */
  connect: number;
  /** Wait for the upstream's response headers; exceeded → 504. @default 30000 */
  response: number;
  /** Longest silence between the upstream's response body chunks; exceeded → request aborted (a slow client body is limits.requestTimeout's). @default 300000 */
  idle: number;
}

/**
 * How tracecar speaks to a target. `auto` follows the URL's scheme: http:// → HTTP/1.1, h2c:// →
 * HTTP/2 with prior knowledge, https:// → TLS with ALPN offering h2 and http/1.1.
 * `http1`, `h2c` and `h2` pin it (h2c for an http:// URL; h2 or http1 for an https:// one).
 */
export type TargetProtocol = 'auto' | 'http1' | 'h2c' | 'h2';

/** TLS towards an https:// target. Verification is always on; these settings say what to trust. */
export interface TargetTlsConfig {
  /** PEM file of the CA certificates trusted for this target, instead of the system store. */
  ca?: string;
  /** PEM client certificate (chain) presented to the target (mutual TLS); needs `key`. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Name sent as SNI and checked against the target's certificate, instead of the URL's host. */
  servername?: string;
}

/** TLS on the ingress listener: HTTPS and HTTP/2 by ALPN (h2, http/1.1). Files are re-read when they change. */
export interface ListenerTlsConfig {
  /** PEM certificate chain served to callers. */
  cert: string;
  /** PEM private key of `cert`. */
  key: string;
}

export interface IngressConfig {
  /** Port or host:port. @default 8080 on 0.0.0.0 (a sidecar must be reachable by its callers) */
  listen: string;
  /** The app this sidecar fronts (http://, https:// or h2c://). Required to run. */
  target: string;
  /** @default "auto" */
  protocol: TargetProtocol;
  /** TLS towards an https:// target. */
  targetTls: TargetTlsConfig;
  /** TLS on the listener; null = plain TCP (HTTP/1.1 and h2c on the same port). @default null */
  tls: ListenerTlsConfig | null;
  timeout: TimeoutConfig;
}

export interface EgressRoute {
  name: string;
  listen: string;
  /** http://, https:// or h2c:// */
  target: string;
  /** @default "auto" */
  protocol?: TargetProtocol;
  targetTls?: TargetTlsConfig;
}

export interface EgressConfig {
  /** Forward-proxy listener (HTTP_PROXY); null = off. @default null (CLI --egress-port turns it on) */
  listen: string | null;
  routes: EgressRoute[];
  /** @default "off" */
  inferParent: 'off' | 'when-unambiguous';
  timeout: TimeoutConfig;
}

export interface PropagationConfig {
  /** Formats read from incoming requests, in priority order. @default ["w3c","b3","b3multi"] */
  extract: PropagationFormat[];
  /**
   * Formats written to outgoing requests, plus the B3 style the caller used when injectIncomingB3
   * is true. Empty (OTEL_PROPAGATORS=none) injects nothing. @default ["w3c"]
   */
  inject: PropagationFormat[];
  /** Also inject the B3 style (single or multi) the caller used. @default true */
  injectIncomingB3: boolean;
  /** Correlation id headers, first is canonical (sent on, returned). @default ["x-request-id","x-correlation-id"] */
  correlationHeaders: string[];
}

export interface OtlpConfig {
  /**
   * Where spans go, e.g. http://collector:4317 (grpc) or http://collector:4318 (http/*); empty =
   * no OTLP export. For http/*, a URL with no path gets /v1/traces (see otlp-endpoint.ts).
   */
  endpoint: string;
  /** OTLP transport, as OTEL_EXPORTER_OTLP_PROTOCOL names it. @default "grpc" */
  protocol: OtlpProtocol;
  /** gRPC metadata or HTTP headers sent with every export. */
  headers: Record<string, string>;
  /** Per-export timeout. @default 10000 */
  timeout: number;
  /** Compression of export requests. @default "none" */
  compression: 'none' | 'gzip';
}

export interface ExportConfig {
  otlp: OtlpConfig;
  /** Terminal output: one line per request. "auto" = pretty on a TTY, JSON otherwise. @default "auto" */
  console: 'auto' | 'off' | 'pretty' | 'json';
  /** Bounded span queue between the request path and the exporter. @default 2048 */
  maxQueueSize: number;
  /** @default 512 */
  maxExportBatchSize: number;
  /** @default 1000 */
  scheduledDelay: number;
  /** Retry of batches that failed with a retryable error (collector down, restarting, overloaded). */
  retry: ExportRetryConfig;
}

export interface ExportRetryConfig {
  /** Wait before the first retry, milliseconds. @default 500 */
  initialBackoff: number;
  /** Longest wait between retries (the wait doubles up to it), milliseconds. @default 5000 */
  maxBackoff: number;
  /** A batch is dropped once retried this long after its first failure; 0 = no retry. @default 60000 */
  maxElapsed: number;
}

export interface MatchConfig {
  method?: string | string[];
  /** gRPC calls only: service (`package.Service`) and/or method name, `*` globs allowed. */
  grpc?: { service?: string; method?: string };
  /** Glob: `*` one segment, `**` any number. */
  path?: string;
  host?: string;
  /** Header name → exact value, or "*" for present. */
  headers?: Record<string, string>;
  /** W3C baggage key → exact value (trace-aware chaos targeting). */
  baggage?: Record<string, string>;
}

export interface SamplingRule {
  match: MatchConfig;
  /** 0..1 */
  ratio: number;
  /** Optional per-second cap on sampled traces for this rule. */
  ratePerSecond?: number;
}

export interface SamplingConfig {
  default: { ratio: number; ratePerSecond?: number };
  /** Respect the caller's sampled flag when present. @default true */
  parentBased: boolean;
  rules: SamplingRule[];
  keep: { errors: boolean; slowerThan: number | null };
  /** Header that forces sampling when present with any value; null = off. @default "x-tracecar-force" */
  forceHeader: string | null;
}

export interface DelayFault {
  distribution: 'fixed' | 'uniform' | 'normal';
  /** fixed */
  value?: number;
  /** uniform */
  min?: number;
  max?: number;
  /** normal */
  mean?: number;
  stddev?: number;
  percent: number;
}

export interface ChaosRule {
  match: MatchConfig;
  /** @default "ingress" */
  side: 'ingress' | 'egress' | 'both';
  delay?: DelayFault;
  /** status: the HTTP answer; gRPC requests get grpcStatus (default 14 UNAVAILABLE) in trailers-only form instead. */
  abort?: { status: number; body?: string; grpcStatus?: number; percent: number };
  reset?: { percent: number; afterBytes?: number };
  throttle?: { bytesPerSecond: number; percent: number };
  slowBody?: { chunkDelay: number; percent: number };
}

export interface ChaosConfig {
  enabled: boolean;
  /** Honour x-tracecar-chaos request header. @default false */
  allowHeader: boolean;
  /** Cap on concurrently active faults (Envoy max_active_faults). null = unlimited. */
  maxActiveFaults: number | null;
  /** Seed for reproducible chaos runs; null = Math.random. */
  seed: number | null;
  rules: ChaosRule[];
}

export interface RouteConfig {
  /** e.g. "/orders/:id" or "/files/**" */
  pattern: string;
  /** Optional override of the span name. */
  name?: string;
}

export interface RedactConfig {
  headers: string[];
  query: string[];
}

export interface AdminConfig {
  /** host:port; null = admin off. @default "127.0.0.1:9901" */
  listen: string | null;
  viewer: boolean;
  receiveOtlp: boolean;
  /** maxSpansPerSecond: spans a second the store takes in full; above it a share of new traces, by trace id; 0 = no limit. */
  store: { maxTraces: number; maxBytes: number; maxSpansPerSecond: number };
}

/** HTTP/2 on the listeners and in the pool of sessions to h2c/h2 upstreams. */
export interface Http2Config {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to callers on each connection. @default 100 */
  maxConcurrentStreams: number;
  /** A caller's connection with no open stream for this long is closed with GOAWAY. @default 300000 */
  idleTimeout: number;
  upstream: {
    /** Streams per session to one upstream before another session is opened (the upstream's SETTINGS may lower it). @default 100 */
    maxConcurrentStreams: number;
    /** Sessions per upstream; when all are full, streams queue in the least busy one. @default 4 */
    maxSessions: number;
    /** PING each session this often to keep it alive and detect a dead peer; null = never. @default 30000 */
    pingInterval: number | null;
    /** A PING unanswered for this long closes the session. @default 10000 */
    pingTimeout: number;
    /** A session with no stream for this long is closed. @default 60000 */
    idleTimeout: number;
  };
}

/** gRPC calls (content-type application/grpc*): how they appear on spans. */
export interface GrpcConfig {
  /**
   * rpc.* attribute names: "current" (rpc.system.name, rpc.method = package.Service/Method,
   * rpc.status_code = code name), "legacy" (rpc.system, rpc.service, rpc.method = Method,
   * rpc.grpc.status_code = integer) for backends that still expect them, or "both". @default "current"
   */
  attributes: 'current' | 'legacy' | 'both';
}

/**
 * Limits on what a client sends to the proxy listeners (ingress, egress, routes). Every one is
 * hot-reloaded (maxHeaderBytes applies to connections opened after the reload). docs/hardening.md
 * lists them next to Node's and Envoy's defaults.
 */
export interface LimitsConfig {
  /** Request line + header section, bytes; larger → 431, connection closed. @default 16384 (Node's) */
  maxHeaderBytes: number;
  /** Header fields per request; more → 431. @default 100 (Envoy's max_headers_count) */
  maxHeaderCount: number;
  /** Request target (path + query, or absolute URL), bytes; longer → 414. @default 8192 */
  maxUrlBytes: number;
  /** Request body, bytes; larger → 413. null = no limit (the body streams). @default null */
  maxBodyBytes: number | null;
  /** Time for the whole request head to arrive; exceeded → 408, connection closed. @default 10000 */
  headersTimeout: number;
  /** Time for the whole request, body included, to arrive; exceeded → 408. null = none. @default 300000 */
  requestTimeout: number | null;
  /** An idle keep-alive connection is closed after this long. @default 5000 (Node's) */
  keepAliveTimeout: number;
  /** Open client connections per listener; further ones are closed on accept. @default 10000 */
  maxConnections: number;
}

export interface LogConfig {
  /** pino level. @default "info" */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export interface TracecarConfig {
  service: ServiceConfig;
  ingress: IngressConfig;
  egress: EgressConfig;
  propagation: PropagationConfig;
  export: ExportConfig;
  sampling: SamplingConfig;
  chaos: ChaosConfig;
  routes: RouteConfig[];
  redact: RedactConfig;
  admin: AdminConfig;
  http2: Http2Config;
  grpc: GrpcConfig;
  limits: LimitsConfig;
  log: LogConfig;
  /** Grace period for draining in-flight requests on SIGTERM. @default 10000 */
  shutdownTimeout: number;
}

/** Deep-partial form accepted by createTracecar and produced by the loader before defaults. */
export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type TracecarConfigInput = DeepPartial<TracecarConfig>;
