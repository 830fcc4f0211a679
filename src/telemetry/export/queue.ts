/**
 * The bounded span queue between span end and the collector.
 *
 * Spans are encoded as they end into the open batch; a batch is sealed when it holds
 * maxExportBatchSize spans, when scheduledDelay passed since its first span, or when the resource
 * changes (a reload renamed the service). Sealed batches leave in order, one request in flight.
 *
 * Faults (docs/hardening.md, "collector faults"): a batch that fails with a retryable error stays
 * at the head of the queue and is sent again after an exponential backoff (or the delay the
 * collector asked for), until it is delivered or retry.maxElapsed has passed since its first
 * failure (then it is dropped: `retries_exhausted`). Meanwhile new spans keep queueing behind it
 * up to maxQueueSize, then are dropped (`queue_full`): memory stays bounded by the queue. A
 * non-retryable answer drops the batch at once (`non_retryable`). Every drop is counted by
 * reason; the log gets one line when a burst of drops starts and one when it is over, and one
 * when the collector becomes unavailable and one when export recovers — never one per span or
 * per batch.
 *
 * Span end calls begin() and commit() only: a bound check and an append to a buffer. Exports start from
 * timers and from the completion of the previous export, never from inside them.
 */
import { tracecarError, type TracecarError } from '../../errors.js';
import type { Batch, Frame } from './batch.js';
import { Batch as BatchClass } from './batch.js';
import { ProtoWriter } from '../otlp/writer.js';
import { DROP_REASONS, ExportFailure, type DropReason, type ExportQueueStats, type RetryPolicy, type Transport } from './types.js';

export interface SpanQueueOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelay: number;
  /** An export still unsettled after this long counts as a retryable failure (the transport's own timeout should fire first). */
  exportTimeout: number;
  retry: RetryPolicy;
  random: () => number;
  onError?: (err: TracecarError) => void;
  onRecovered?: (message: string, fields: Record<string, unknown>) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { initialBackoff: 500, maxBackoff: 5_000, maxElapsed: 60_000 };

/** A burst of drops is over when no span was dropped for this long (then one line sums it up). */
const BURST_QUIET_MS = 30_000;
/** Batch buffers kept for reuse, and the largest one worth keeping. */
const SPARE_WRITERS = 2;
const MAX_SPARE_BYTES = 8 * 1024 * 1024;
const INITIAL_BATCH_BYTES = 64 * 1024;

export class SpanQueue {
  private open: Batch | undefined;
  /** Sealed batches in order; the first is being sent or waiting to be retried. */
  private readonly sealed: Batch[] = [];
  private queuedSpans = 0;
  private sending = false;
  private closed = false;
  /** The shutdown deadline (Date.now() ms), once closing. */
  private deadline = Infinity;
  private nextSeq = 1;
  private doneSeq = 0;
  private readonly flushWaiters: Array<{ seq: number; resolve: () => void }> = [];
  private spare: ProtoWriter[] = [];
  private batchBytes = INITIAL_BATCH_BYTES;

  private delayTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  private exported = 0;
  private retried = 0;
  private failedExports = 0;
  private lastError: string | undefined;
  private readonly dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  /** Episode state for the log: since when the collector has been failing, and the current burst of drops. */
  private failingSince = 0;
  private retriesThisEpisode = 0;
  private burst: { since: number; last: number; counts: Record<DropReason, number>; reported: boolean } | undefined;
  private burstTimer: NodeJS.Timeout | undefined;
  private reportScheduled: NodeJS.Immediate | undefined;

  private readonly maxQueueSize: number;
  private readonly batchSize: number;
  private readonly delay: number;

  constructor(
    private readonly transport: Transport,
    private readonly options: SpanQueueOptions,
  ) {
    this.maxQueueSize = Math.max(1, Math.floor(options.maxQueueSize));
    this.batchSize = Math.max(1, Math.min(Math.floor(options.maxExportBatchSize), this.maxQueueSize));
    this.delay = Math.max(0, options.scheduledDelay);
  }

  /**
   * The open batch a span of `frame` is to be appended to, or undefined when the span is dropped
   * (queue full, or shutting down: counted). The caller appends, then calls commit() — or
   * abandon() if the span could not be encoded. Never throws.
   */
  begin(frame: Frame): Batch | undefined {
    if (this.closed) {
      this.drop('shutdown', 1);
      return undefined;
    }
    if (this.queuedSpans >= this.maxQueueSize) {
      this.drop('queue_full', 1);
      return undefined;
    }
    let batch = this.open;
    if (batch === undefined || batch.frame !== frame) {
      if (batch !== undefined) this.sealOpen();
      batch = this.open = new BatchClass(frame, this.writer());
    }
    return batch;
  }

  /** The span appended to the batch begin() gave is queued. */
  commit(batch: Batch): void {
    batch.count++;
    this.queuedSpans++;
    if (batch.count >= this.batchSize) {
      this.sealOpen();
      this.kick();
    } else if (batch.count === 1 && this.delayTimer === undefined) {
      this.delayTimer = setTimeout(this.onDelay, this.delay);
      this.delayTimer.unref();
    }
  }

  /** The span could not be encoded: its partial bytes (from `pos` on) go, the span is counted `invalid`. */
  abandon(batch: Batch, pos: number): void {
    batch.w.pos = pos;
    this.drop('invalid', 1);
  }

  stats(): ExportQueueStats {
    let dropped = 0;
    for (const r of DROP_REASONS) dropped += this.dropped[r];
    return {
      exported: this.exported,
      dropped,
      droppedByReason: { ...this.dropped },
      droppedQueueFull: this.dropped.queue_full,
      retried: this.retried,
      queued: this.queuedSpans,
      queuedBytes: this.queuedBytes(),
      failedExports: this.failedExports,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Seals the open batch and resolves when every batch sealed so far was delivered or given up. */
  forceFlush(): Promise<void> {
    this.sealOpen();
    const seq = this.nextSeq - 1;
    if (this.doneSeq >= seq) return Promise.resolve();
    this.pump();
    return new Promise<void>((resolve) => this.flushWaiters.push({ seq, resolve }));
  }

  /**
   * Stops accepting spans, sends what is queued within timeoutMs (retrying only while time is
   * left), drops the rest (`shutdown`) and closes the transport.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadline = Date.now() + Math.max(0, timeoutMs);
    if (this.retryTimer !== undefined) {
      // A retry waiting for its backoff goes now: shutdown has its own deadline.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const flushed = this.forceFlush();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, timeoutMs));
      timer.unref();
    });
    await Promise.race([flushed, expired]);
    clearTimeout(timer);
    this.cancelTimers();
    // Whatever has not left by now never will, the batch in flight included (closing the
    // transport cancels its call; its late outcome is ignored).
    this.dropRemaining();
    this.reportBurst(true);
    try {
      await this.transport.close();
    } catch {
      // closing a transport must not fail shutdown
    }
  }

  /** At shutdown: every batch still queued is dropped (`shutdown`). */
  private dropRemaining(): void {
    for (const b of this.sealed.splice(0)) this.finish(b, 'shutdown');
  }

  private queuedBytes(): number {
    let n = this.open === undefined ? 0 : this.open.w.pos - this.open.spansStart;
    for (const b of this.sealed) n += b.w.pos - b.spansStart;
    return n;
  }

  private writer(): ProtoWriter {
    return this.spare.pop() ?? new ProtoWriter(this.batchBytes);
  }

  private recycle(batch: Batch): void {
    const w = batch.w;
    // The next batch starts at the size this one needed.
    this.batchBytes = Math.max(INITIAL_BATCH_BYTES, Math.min(MAX_SPARE_BYTES, w.pos));
    if (this.spare.length < SPARE_WRITERS && w.buf.length <= MAX_SPARE_BYTES) this.spare.push(w);
  }

  private sealOpen(): void {
    const batch = this.open;
    if (batch === undefined) return;
    this.open = undefined;
    if (this.delayTimer !== undefined) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    batch.seq = this.nextSeq++;
    this.sealed.push(batch);
  }

  private readonly onDelay = (): void => {
    this.delayTimer = undefined;
    this.sealOpen();
    this.pump();
  };

  private kick(): void {
    if (this.immediate !== undefined || this.sending) return;
    this.immediate = setImmediate(this.onKick);
    this.immediate.unref();
  }

  private readonly onKick = (): void => {
    this.immediate = undefined;
    this.pump();
  };

  private readonly onRetry = (): void => {
    this.retryTimer = undefined;
    this.pump();
  };

  private cancelTimers(): void {
    clearTimeout(this.delayTimer);
    clearTimeout(this.retryTimer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.delayTimer = this.retryTimer = this.immediate = undefined;
  }

  /** Sends the head batch unless one is in flight or waiting for its retry. */
  private pump(): void {
    if (this.sending || this.retryTimer !== undefined) return;
    const batch = this.sealed[0];
    if (batch === undefined) return;
    this.sending = true;
    if (batch.attempts > 0) {
      this.retried += batch.count;
      this.retriesThisEpisode++;
    }
    batch.attempts++;
    let body: Buffer;
    try {
      body = batch.seal();
    } catch (err) {
      this.settle(batch, undefined, err);
      return;
    }
    this.sendWithin(body).then(
      (result) => this.settle(batch, result, undefined),
      (err: unknown) => this.settle(batch, undefined, err),
    );
  }

  private async sendWithin(body: Buffer): Promise<{ rejected: number; errorMessage?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ExportFailure(`export did not settle within ${this.options.exportTimeout} ms`, true)),
        this.options.exportTimeout,
      );
      timer.unref();
    });
    try {
      return await Promise.race([this.transport.send(body), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(batch: Batch, result: { rejected: number; errorMessage?: string } | undefined, err: unknown): void {
    this.sending = false;
    if (this.sealed[0] !== batch) return; // given up by shutdown while in flight
    if (result !== undefined) {
      const rejected = Math.min(batch.count, Math.max(0, result.rejected));
      this.exported += batch.count - rejected;
      if (rejected > 0) this.drop('rejected', rejected, result.errorMessage, true);
      this.sealed.shift();
      this.complete(batch);
      this.recovered();
      this.pump();
      return;
    }
    const failure = err instanceof ExportFailure ? err : new ExportFailure(err instanceof Error ? err.message : String(err), true);
    this.failedExports++;
    this.lastError = failure.message;
    if (this.closed) {
      // Shutting down and the collector failed again: waiting for it would only hold the exit.
      this.dropRemaining();
      this.pump();
      return;
    }
    const now = Date.now();
    if (batch.firstFailure === 0) batch.firstFailure = now;
    const policy = this.options.retry;
    if (failure.retryable && policy.maxElapsed > 0) {
      const backoff = Math.min(policy.maxBackoff, policy.initialBackoff * 2 ** Math.min(30, batch.attempts - 1));
      // ±20 % jitter so sidecars that lost the same collector do not retry in step.
      const wait = failure.retryAfterMs ?? backoff * (0.8 + 0.4 * this.options.random());
      const retryAt = now + wait;
      if (retryAt - batch.firstFailure <= policy.maxElapsed && retryAt < this.deadline) {
        this.unavailable(failure, batch);
        this.retryTimer = setTimeout(this.onRetry, Math.max(0, wait));
        this.retryTimer.unref();
        return;
      }
      this.sealed.shift();
      this.finish(batch, 'retries_exhausted', failure.message);
    } else {
      this.sealed.shift();
      this.finish(batch, failure.retryable ? 'retries_exhausted' : 'non_retryable', failure.message);
    }
    this.pump();
  }

  /** A batch leaves the queue without being delivered. */
  private finish(batch: Batch, reason: DropReason, why?: string): void {
    this.drop(reason, batch.count, why, true);
    this.complete(batch);
  }

  private complete(batch: Batch): void {
    this.queuedSpans -= batch.count;
    this.doneSeq = batch.seq;
    this.recycle(batch);
    if (this.flushWaiters.length > 0) {
      const still = this.flushWaiters.filter((w) => w.seq > this.doneSeq);
      for (const w of this.flushWaiters) if (w.seq <= this.doneSeq) w.resolve();
      this.flushWaiters.length = 0;
      this.flushWaiters.push(...still);
    }
  }

  /**
   * Counts dropped spans; the first drop of a burst is logged, deferred when it comes from
   * begin() or abandon() (span end), at once when it comes from an export's outcome (`fromExport`).
   */
  private drop(reason: DropReason, count: number, why?: string, fromExport = false): void {
    this.dropped[reason] += count;
    const now = Date.now();
    let opened = false;
    if (this.burst === undefined) {
      this.burst = { since: now, last: now, counts: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>, reported: false };
      this.burstFirst = { reason, why };
      this.burstTimer = setInterval(this.checkBurstEnd, BURST_QUIET_MS);
      this.burstTimer.unref();
      opened = true;
    }
    this.burst.last = now;
    this.burst.counts[reason] += count;
    if (!opened) return;
    if (!fromExport) {
      this.reportScheduled ??= setImmediate(this.reportBurstStart);
      this.reportScheduled.unref();
    } else {
      this.reportBurstStart();
    }
  }

  private burstFirst: { reason: DropReason; why?: string } | undefined;

  private readonly reportBurstStart = (): void => {
    this.reportScheduled = undefined;
    const burst = this.burst;
    const first = this.burstFirst;
    if (burst === undefined || first === undefined || burst.reported) return;
    burst.reported = true;
    const count = burst.counts[first.reason];
    if (first.reason === 'queue_full') {
      this.report(
        tracecarError('TRC_ERR_EXPORT_QUEUE_FULL', { max: this.maxQueueSize, count }, {
          hint: 'the collector is slow or unreachable, or export.maxQueueSize is too small for the request rate; further drops are counted in tracecar_spans_dropped_total',
        }),
      );
    } else {
      this.report(
        tracecarError('TRC_ERR_EXPORT', `OTLP export dropped ${count} spans (${first.reason})${first.why ? `: ${first.why}` : ''}`, {
          hint: 'further drops are counted in tracecar_spans_dropped_total{reason}; one line sums up the burst when it is over',
        }),
      );
    }
  };

  private readonly checkBurstEnd = (): void => {
    if (this.burst !== undefined && Date.now() - this.burst.last >= BURST_QUIET_MS) this.reportBurst(false);
  };

  /** Closes the current burst of drops with one line summing it up. */
  private reportBurst(final: boolean): void {
    const burst = this.burst;
    if (burst === undefined) return;
    if (this.reportScheduled !== undefined) {
      clearImmediate(this.reportScheduled);
      this.reportScheduled = undefined;
      this.reportBurstStart();
    }
    this.burst = undefined;
    this.burstFirst = undefined;
    clearInterval(this.burstTimer);
    this.burstTimer = undefined;
    let total = 0;
    const parts: string[] = [];
    for (const r of DROP_REASONS) {
      if (burst.counts[r] === 0) continue;
      total += burst.counts[r];
      parts.push(`${r}: ${burst.counts[r]}`);
    }
    const seconds = Math.round((burst.last - burst.since) / 100) / 10;
    this.options.onRecovered?.(`${final ? 'at shutdown, ' : ''}span drops ended: ${total} spans dropped over ${seconds} s (${parts.join(', ')})`, {
      dropped: total,
      ...burst.counts,
    });
  }

  /** The collector started failing (once per episode). */
  private unavailable(failure: ExportFailure, batch: Batch): void {
    if (this.failingSince !== 0) return;
    this.failingSince = batch.firstFailure;
    this.retriesThisEpisode = 0;
    this.report(
      tracecarError(
        'TRC_ERR_EXPORT',
        `OTLP export failed (${failure.message}); retrying with backoff, spans queue up to export.maxQueueSize (${this.maxQueueSize})`,
        { hint: 'requests are unaffected; retries are counted in tracecar_spans_retried_total' },
      ),
    );
  }

  /** A batch was delivered: ends a failure episode (one line). */
  private recovered(): void {
    if (this.failingSince === 0) return;
    const seconds = Math.round((Date.now() - this.failingSince) / 100) / 10;
    this.options.onRecovered?.(`OTLP export recovered after ${seconds} s (${this.retriesThisEpisode} retries)`, {
      seconds,
      retries: this.retriesThisEpisode,
    });
    this.failingSince = 0;
    this.retriesThisEpisode = 0;
  }

  private report(err: TracecarError): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A failing callback must not break the export loop.
    }
  }
}
