import type { TracecarConfig } from './types.js';

/**
 * Every default, declared once. The loader merges file/env/CLI input over this and freezes the result.
 * Sampling defaults to parent-based ratio 1: on a laptop every request is traced; production
 * configs lower it (consistent on trace id, so every sidecar on a trace agrees).
 */
export const DEFAULTS: TracecarConfig = {
  service: { name: 'tracecar-service', attributes: {} },
  ingress: {
    listen: '8080',
    target: '',
    protocol: 'auto',
    targetTls: {},
    tls: null,
    timeout: { connect: 2_000, response: 30_000, idle: 300_000 },
  },
  egress: {
    listen: null,
    routes: [],
    inferParent: 'off',
    timeout: { connect: 2_000, response: 30_000, idle: 300_000 },
  },
  propagation: {
    extract: ['w3c', 'b3', 'b3multi'],
    inject: ['w3c'],
    injectIncomingB3: true,
    correlationHeaders: ['x-request-id', 'x-correlation-id'],
  },
  export: {
    otlp: { endpoint: '', protocol: 'grpc', headers: {}, timeout: 10_000, compression: 'none' },
    console: 'auto',
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelay: 1000,
    retry: { initialBackoff: 500, maxBackoff: 5_000, maxElapsed: 60_000 },
  },
  sampling: {
    default: { ratio: 1 },
    parentBased: true,
    rules: [],
    keep: { errors: true, slowerThan: null },
    forceHeader: 'x-tracecar-force',
  },
  chaos: { enabled: false, allowHeader: false, maxActiveFaults: null, seed: null, rules: [] },
  routes: [],
  redact: {
    headers: ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'],
    query: ['token', 'access_token', 'id_token', 'key', 'api_key', 'apikey', 'password', 'secret', 'signature', 'sig', 'code', 'awsaccesskeyid', 'x-goog-signature'],
  },
  admin: {
    listen: '127.0.0.1:9901',
    viewer: true,
    receiveOtlp: true,
    store: { maxTraces: 1000, maxBytes: 64 * 1024 * 1024, maxSpansPerSecond: 1000 },
  },
  http2: {
    maxConcurrentStreams: 100,
    idleTimeout: 300_000,
    upstream: { maxConcurrentStreams: 100, maxSessions: 4, pingInterval: 30_000, pingTimeout: 10_000, idleTimeout: 60_000 },
  },
  grpc: { attributes: 'current' },
  // Sidecar values: Node's header size and keep-alive, Envoy's header count and edge headers
  // timeout, Node's and Envoy's edge request timeout, Envoy's edge per-listener connection limit.
  limits: {
    maxHeaderBytes: 16 * 1024,
    maxHeaderCount: 100,
    maxUrlBytes: 8 * 1024,
    maxBodyBytes: null,
    headersTimeout: 10_000,
    requestTimeout: 300_000,
    keepAliveTimeout: 5_000,
    maxConnections: 10_000,
  },
  log: { level: 'info' },
  shutdownTimeout: 10_000,
};
