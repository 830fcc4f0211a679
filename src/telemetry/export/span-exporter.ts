/**
 * createSpanExporter: the finished-span path from the request to an OTLP collector (gRPC or HTTP).
 *
 *   request path ── enqueue() ──▶ SpanQueue (bounded array, timer) ──▶ BatchSender
 *                                                                       ├─ worker: postMessage → export worker
 *                                                                       └─ inline: convert + encode + send here
 *
 * enqueue() is O(1) and never throws; everything after it runs from timers, off the request's
 * own call stack, and in worker mode off the main thread entirely.
 */
import { readFileSync } from 'node:fs';
import { createInlineSender } from './inline-sender.js';
import { SpanQueue } from './queue.js';
import type { BatchSender, ExportMode, SpanExporter, SpanExporterOptions } from './types.js';
import { createWorkerSender, type WorkerSender } from './worker-host.js';

/**
 * Worker mode by default. bench/export-cost.mjs (10k spans/s, 14-attribute SERVER spans, live
 * receiver, Node 22.23, this 2-core box): main-thread CPU per span ≈ 2.2 µs in worker mode
 * (structured clone of the batch) vs ≈ 9.7 µs inline (OTLP protobuf encoding ≈ 5.3 µs of it,
 * plus gRPC and GC). The worker costs more CPU in total (≈ 16.5 vs ≈ 11.5 µs/span process-wide:
 * the clone is paid twice), but none of it on the thread that serves requests.
 */
export const DEFAULT_EXPORT_MODE: ExportMode = 'worker';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Extra time past the OTLP timeout before the queue gives up on an export that never settled. */
const EXPORT_WATCHDOG_GRACE_MS = 5_000;

export function createSpanExporter(options: SpanExporterOptions): SpanExporter {
  const onError = (err: Error): void => {
    try {
      options.onError?.(err);
    } catch {
      // never let a reporting callback break export
    }
  };
  const backend = {
    otlp: options.otlp,
    resource: options.resource,
    scopeVersion: options.scopeVersion ?? packageVersion(),
  };

  let workerSender: WorkerSender | undefined;
  if ((options.mode ?? DEFAULT_EXPORT_MODE) === 'worker') {
    try {
      workerSender = createWorkerSender(backend, onError);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
  const sender: BatchSender = workerSender ?? createInlineSender(backend);

  const otlpTimeout = options.otlp.timeout > 0 ? options.otlp.timeout : 10_000;
  const queue = new SpanQueue(sender, {
    maxQueueSize: options.maxQueueSize,
    maxExportBatchSize: options.maxExportBatchSize,
    scheduledDelay: options.scheduledDelay,
    exportTimeout: otlpTimeout + EXPORT_WATCHDOG_GRACE_MS,
    onError,
  });

  return {
    enqueue: (span) => queue.enqueue(span),
    forceFlush: () => queue.forceFlush(),
    shutdown: (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) => queue.shutdown(timeoutMs),
    stats: () => ({ ...queue.stats(), mode: workerSender?.mode() ?? 'inline' }),
  };
}

/** tracecar's version for the instrumentation scope; package.json is three levels up (src|dist/telemetry/export/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
