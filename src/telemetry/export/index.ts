/**
 * The export side: finished spans from the request path to an OTLP collector.
 *
 *   span-exporter.ts   createSpanExporter: wires the queue to a sender (worker or inline)
 *   queue.ts           the bounded span queue and its batching timer (the request path's only call)
 *   worker-host.ts     main-thread side of worker mode; worker.ts + worker-protocol.ts the worker side
 *   worker-entry.ts    where the worker's code is (dist/ build, or the TypeScript sources under test)
 *   inline-sender.ts   convert + encode + send on the calling thread (inline mode, and inside the worker)
 *   convert.ts         SpanRecord → the ReadableSpan shape the OpenTelemetry exporters take
 *   otlp-exporter.ts   the OpenTelemetry OTLP exporter for the configured protocol
 *   types.ts           the interfaces between these parts
 */
export { createSpanExporter, DEFAULT_EXPORT_MODE } from './span-exporter.js';
export type { ExportQueueStats, ExporterStats, ExportMode, ExportResource, SpanExporter, SpanExporterOptions } from './types.js';
