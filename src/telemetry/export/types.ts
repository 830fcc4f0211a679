import type { OtlpConfig } from '../../config/types.js';
import type { SpanRecord } from '../span.js';

/** The finished-span path: a bounded queue in front of an OTLP exporter (gRPC or HTTP). */
export interface SpanExporter {
  /** O(1), never throws. Drops the span (counted) when the queue is full or after shutdown. */
  enqueue(span: SpanRecord): void;
  /** Exports everything queued at call time; resolves when those exports finished (ok or not). */
  forceFlush(): Promise<void>;
  /** Stops accepting spans, flushes within timeoutMs, releases the exporter (and worker). Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
  stats(): ExporterStats;
}

/** The export queue's counters (SpanQueue.stats()), as /metrics and tests read them. */
export interface ExportQueueStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans that will never reach the collector: queue full, failed batches, enqueued after shutdown. */
  dropped: number;
  /** The part of `dropped` refused at enqueue because the queue was full. */
  droppedQueueFull: number;
  /** Spans accepted and not yet exported or dropped (waiting, or in the batch being exported). */
  queued: number;
  /** Export calls (batches) that failed. */
  failedExports: number;
  /** The message of the last failed export. */
  lastError?: string;
}

export interface ExporterStats extends ExportQueueStats {
  /** The mode actually running (a worker that cannot start falls back to inline). */
  mode: ExportMode;
}

export type ExportMode = 'worker' | 'inline';

export interface ExportResource {
  serviceName: string;
  /** Other resource attributes (service.version, deployment.environment, ...). */
  attributes: Record<string, string>;
}

export interface SpanExporterOptions {
  otlp: OtlpConfig;
  maxQueueSize: number;
  maxExportBatchSize: number;
  /** Milliseconds between exports when no batch fills up. */
  scheduledDelay: number;
  resource: ExportResource;
  /** Where conversion, encoding and the OTLP transport run. @default "worker" */
  mode?: ExportMode;
  /** Export failures (TRC_ERR_EXPORT) and queue-full episodes (TRC_ERR_EXPORT_QUEUE_FULL); never on the request path. */
  onError?: (err: Error) => void;
  /** Version of the "tracecar" instrumentation scope. @default tracecar's package.json version */
  scopeVersion?: string;
}

/** Everything the conversion + transport side needs; plain data so it can go to a worker as workerData. */
export interface ExportBackendOptions {
  otlp: OtlpConfig;
  resource: ExportResource;
  scopeVersion: string;
}

/**
 * Delivers one batch. Resolves when the collector accepted it, rejects when the export failed.
 * The queue never calls send() again before the previous call settled.
 */
export interface BatchSender {
  send(batch: SpanRecord[]): Promise<void>;
  shutdown(timeoutMs: number): Promise<void>;
}
