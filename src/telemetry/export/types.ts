import type { OtlpConfig } from '../../config/types.js';
import type { SpanSink } from '../finish.js';
import type { SpanRecord } from '../span.js';

/**
 * The finished-span path: spans are encoded at span end into the open batch of a bounded queue,
 * and each sealed batch goes to the collector as one OTLP request (gRPC or HTTP), retried with
 * backoff while the collector is unavailable.
 */
export interface SpanExporter extends SpanSink {
  /** A span given as a record (tests, tools): encoded and queued like a finished span. Never throws. */
  enqueue(span: SpanRecord): void;
  /** Exports everything queued at call time; resolves when those batches were delivered or given up. */
  forceFlush(): Promise<void>;
  /** Stops accepting spans, flushes within timeoutMs, closes the transport. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
  stats(): ExportQueueStats;
}

/** Why spans never reached the collector (the `reason` label of tracecar_spans_dropped_total). */
export type DropReason =
  /** The queue was full when the span ended. */
  | 'queue_full'
  /** Its batch kept failing with retryable errors for longer than export.retry.maxElapsed. */
  | 'retries_exhausted'
  /** The collector refused its batch with an error that retrying cannot fix (HTTP 400, INVALID_ARGUMENT, ...). */
  | 'non_retryable'
  /** The collector accepted the batch but rejected these spans (OTLP partial success). */
  | 'rejected'
  /** Still queued (or ended) when shutdown's time ran out. */
  | 'shutdown'
  /** The span could not be encoded (a malformed record). */
  | 'invalid';

export const DROP_REASONS: readonly DropReason[] = ['queue_full', 'retries_exhausted', 'non_retryable', 'rejected', 'shutdown', 'invalid'];

/** The exporter's counters, as /metrics and tests read them. */
export interface ExportQueueStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans that will never reach the collector, all reasons. */
  dropped: number;
  droppedByReason: Record<DropReason, number>;
  /** The `queue_full` part of `dropped`. */
  droppedQueueFull: number;
  /** Spans sent again after a retryable failure of their batch (once per retry). */
  retried: number;
  /** Spans accepted and not yet exported or dropped (waiting, or in the batch being exported). */
  queued: number;
  /** Bytes those spans take, encoded (bounded through maxQueueSize). */
  queuedBytes: number;
  /** Export calls (batches) that failed, whether retried afterwards or not. */
  failedExports: number;
  /** The message of the last failed export. */
  lastError?: string;
}

export interface ExportResource {
  serviceName: string;
  /** Other resource attributes (service.version, deployment.environment, ...). */
  attributes: Record<string, string>;
}

/** How a batch that failed with a retryable error is retried (docs/hardening.md, "collector faults"). */
export interface RetryPolicy {
  /** Wait before the first retry, milliseconds. @default 500 */
  initialBackoff: number;
  /** Longest wait between retries (the wait doubles up to this), milliseconds. @default 5000 */
  maxBackoff: number;
  /** A batch is given up (retries_exhausted) once this long has passed since its first failure; 0 = never retry. @default 60000 */
  maxElapsed: number;
}

export interface SpanExporterOptions {
  otlp: OtlpConfig;
  maxQueueSize: number;
  maxExportBatchSize: number;
  /** Milliseconds between exports when no batch fills up. */
  scheduledDelay: number;
  /** The resource of spans given as records without one; finished spans carry their config version's. */
  resource: ExportResource;
  retry?: Partial<RetryPolicy>;
  /**
   * Export trouble, once per episode and never on the request path: the collector started failing
   * (TRC_ERR_EXPORT, retrying), a burst of drops started (TRC_ERR_EXPORT_QUEUE_FULL or TRC_ERR_EXPORT).
   */
  onError?: (err: Error) => void;
  /** The end of an episode: export recovered, or a burst of drops is over (with its counts). */
  onRecovered?: (message: string, fields: Record<string, unknown>) => void;
  /** Version of the "tracecar" instrumentation scope and telemetry.sdk.version. @default tracecar's package.json version */
  scopeVersion?: string;
  /** Random source for backoff jitter (tests pass a seeded one). @default Math.random */
  random?: () => number;
}

/** The outcome of one delivered request. */
export interface SendResult {
  /** Spans the collector rejected in an otherwise successful answer (OTLP partial success). */
  rejected: number;
  errorMessage?: string;
}

/** Delivers one encoded ExportTraceServiceRequest. Rejects with an ExportFailure. */
export interface Transport {
  send(body: Buffer): Promise<SendResult>;
  close(): Promise<void>;
}

/** A failed export call, classified by the OTLP spec's retry rules. */
export class ExportFailure extends Error {
  override readonly name = 'ExportFailure';
  constructor(
    message: string,
    /** Whether the OTLP spec says to retry (gRPC UNAVAILABLE…, HTTP 429/502/503/504, network errors). */
    readonly retryable: boolean,
    /** The delay the collector asked for (Retry-After, gRPC RetryInfo), milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
