/**
 * The export side: finished spans from span end to an OTLP collector.
 *
 *   span-exporter.ts   createSpanExporter: the sink span end calls, wired to a queue and a transport
 *   queue.ts           the bounded queue of batches: sealing, one export in flight, retry with
 *                      backoff, drops counted by reason, one log line per episode
 *   batch.ts           a batch's buffer (spans encoded in place behind room for the request header)
 *                      and the wire format per protocol
 *   grpc-transport.ts  OTLP/gRPC through @grpc/grpc-js, pre-encoded bytes, retry classification
 *   http-transport.ts  OTLP/HTTP (protobuf or JSON) on an undici pool, Retry-After
 *   tls.ts             OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_* / INSECURE
 *   types.ts           the interfaces between these parts
 *
 * The encoding itself is telemetry/otlp/ (shared with the admin store, which keeps spans encoded).
 */
export { createSpanExporter } from './span-exporter.js';
export { DEFAULT_RETRY } from './queue.js';
export { DROP_REASONS } from './types.js';
export type { DropReason, ExportQueueStats, ExportResource, RetryPolicy, SpanExporter, SpanExporterOptions } from './types.js';
