/**
 * The bounded span queue between the request path and a BatchSender, after OpenTelemetry's
 * BatchSpanProcessorBase: spans wait in an array; a batch goes out when maxExportBatchSize spans
 * are waiting or scheduledDelay after the first one arrived; at most one export is in flight; a
 * full queue drops (and counts) instead of growing, and a failed batch is dropped and counted,
 * never retried here (the OTLP exporter already retries retryable codes within its timeout).
 *
 * enqueue() is the only method the request path calls: a length check and a push. Exports are
 * started from a timer or setImmediate, never from inside enqueue().
 */
import { tracecarError } from '../../errors.js';
import type { BatchSender, ExportQueueStats } from './types.js';
import type { SpanRecord } from '../span.js';

export interface SpanQueueOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelay: number;
  /** An export still unsettled after this long is counted as failed and the queue moves on. */
  exportTimeout: number;
  onError?: (err: Error) => void;
}

export class SpanQueue {
  private queue: SpanRecord[] = [];
  private inFlight: Promise<void> | undefined;
  private inFlightCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private exported = 0;
  private droppedQueueFull = 0;
  private droppedOther = 0;
  private failedExports = 0;
  private lastError: string | undefined;
  private reportedQueueFull = 0;

  private readonly maxQueueSize: number;
  private readonly batchSize: number;
  private readonly delay: number;

  private readonly sender: BatchSender;
  private readonly options: SpanQueueOptions;

  constructor(sender: BatchSender, options: SpanQueueOptions) {
    this.sender = sender;
    this.options = options;
    this.maxQueueSize = Math.max(1, Math.floor(options.maxQueueSize));
    this.batchSize = Math.max(1, Math.min(Math.floor(options.maxExportBatchSize), this.maxQueueSize));
    this.delay = Math.max(0, options.scheduledDelay);
  }

  enqueue(span: SpanRecord): void {
    try {
      if (this.closed) {
        this.droppedOther++;
        return;
      }
      const q = this.queue;
      if (q.length >= this.maxQueueSize) {
        this.droppedQueueFull++;
        return;
      }
      q.push(span);
      if (this.inFlight !== undefined) return; // its completion schedules the next export
      if (q.length >= this.batchSize) this.kick();
      else if (this.timer === undefined) this.arm();
    } catch {
      // Never let telemetry fail a request.
      this.droppedOther++;
    }
  }

  stats(): ExportQueueStats {
    return {
      exported: this.exported,
      dropped: this.droppedQueueFull + this.droppedOther,
      droppedQueueFull: this.droppedQueueFull,
      queued: this.queue.length + this.inFlightCount,
      failedExports: this.failedExports,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Exports the spans queued at call time and waits for those exports to settle. */
  async forceFlush(): Promise<void> {
    let batches = Math.ceil(this.queue.length / this.batchSize);
    for (;;) {
      while (this.inFlight !== undefined) await this.inFlight;
      if (batches-- <= 0 || this.queue.length === 0) return;
      this.cancelTimers();
      this.exportNext();
    }
  }

  /** Stop accepting, flush within timeoutMs, count what is left as dropped, release the sender. */
  shutdown(timeoutMs: number): Promise<void> {
    this.closing ??= this.close(timeoutMs);
    return this.closing;
  }

  private async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + Math.max(0, timeoutMs);
    await settleWithin(this.forceFlush(), timeoutMs);
    this.cancelTimers();
    this.droppedOther += this.queue.length;
    this.queue = [];
    this.reportQueueFull();
    try {
      await settleWithin(this.sender.shutdown(Math.max(0, deadline - Date.now())), Math.max(0, deadline - Date.now()));
    } catch (err) {
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private kick(): void {
    if (this.immediate !== undefined) return;
    this.immediate = setImmediate(this.run);
    this.immediate.unref();
  }

  private arm(): void {
    this.timer = setTimeout(this.run, this.delay);
    this.timer.unref();
  }

  private cancelTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private readonly run = (): void => {
    this.cancelTimers();
    this.exportNext();
  };

  private exportNext(): void {
    if (this.inFlight !== undefined || this.queue.length === 0) return;
    this.reportQueueFull();
    let batch: SpanRecord[];
    if (this.queue.length <= this.batchSize) {
      batch = this.queue;
      this.queue = [];
    } else {
      batch = this.queue.splice(0, this.batchSize);
    }
    this.inFlightCount = batch.length;
    this.inFlight = this.send(batch).then(this.afterExport);
  }

  private readonly afterExport = (): void => {
    this.inFlight = undefined;
    this.inFlightCount = 0;
    if (this.closed) return; // forceFlush/shutdown drive the rest
    if (this.queue.length >= this.batchSize) this.kick();
    else if (this.queue.length > 0 && this.timer === undefined) this.arm();
  };

  private async send(batch: SpanRecord[]): Promise<void> {
    try {
      const settled = await settleWithin(this.sender.send(batch), this.options.exportTimeout);
      if (!settled) throw new Error(`export did not settle within ${this.options.exportTimeout} ms`);
      this.exported += batch.length;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failedExports++;
      this.droppedOther += batch.length;
      this.lastError = message;
      this.report(
        tracecarError('TRC_ERR_EXPORT', `OTLP export of ${batch.length} spans failed; they were dropped: ${message}`, {
          cause: err,
        }),
      );
    }
  }

  private reportQueueFull(): void {
    const n = this.droppedQueueFull - this.reportedQueueFull;
    if (n <= 0) return;
    this.reportedQueueFull = this.droppedQueueFull;
    this.report(
      tracecarError('TRC_ERR_EXPORT_QUEUE_FULL', { max: this.maxQueueSize, count: n }, {
        hint: 'the collector is slow or unreachable, or export.maxQueueSize is too small for the request rate',
      }),
    );
  }

  private report(err: Error): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A failing error callback must not break the export loop.
    }
  }
}

/** Resolves true when `promise` settled (rejections propagate) within ms, false on timeout. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
