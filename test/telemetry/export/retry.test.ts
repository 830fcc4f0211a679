/**
 * The retry policy of the span queue, on vitest's fake clock (exact times, no wall-clock waits):
 * a scripted transport answers each export call as the test says (the transports' own
 * classification of gRPC codes and HTTP statuses is tested against real peers in
 * collector-faults.test.ts and retryable-answers.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchFormat } from '../../../src/telemetry/export/batch.js';
import { DEFAULT_RETRY, SpanQueue } from '../../../src/telemetry/export/queue.js';
import { ExportFailure, type SendResult, type Transport } from '../../../src/telemetry/export/types.js';
import { ExportTraceServiceRequest } from '../../helpers/otlp-proto.js';
import { serverSpan } from './span-fixtures.js';

type Answer = SendResult | ExportFailure;

/** A transport that answers from a script (then succeeds) and records when each call came. */
function scripted(answers: Answer[]): Transport & { calls: Array<{ at: number; names: string[] }> } {
  const calls: Array<{ at: number; names: string[] }> = [];
  return {
    calls,
    async send(body) {
      const request = ExportTraceServiceRequest.decode(body);
      const names = (request.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => s.name)));
      calls.push({ at: Date.now(), names });
      const answer = answers.shift() ?? { rejected: 0 };
      if (answer instanceof ExportFailure) throw answer;
      return answer;
    },
    async close() {},
  };
}

const unavailable = (): ExportFailure => new ExportFailure('14 UNAVAILABLE: connection refused', true);

function queue(transport: Transport, overrides: Partial<ConstructorParameters<typeof SpanQueue>[1]> = {}) {
  const format = new BatchFormat(false, { serviceName: 'orders', attributes: {} }, '1.0.0');
  const q = new SpanQueue(transport, {
    maxQueueSize: 100,
    maxExportBatchSize: 2,
    scheduledDelay: 50,
    exportTimeout: 15_000,
    retry: DEFAULT_RETRY,
    random: () => 0.5, // jitter factor 0.8 + 0.4 × 0.5 = 1: the nominal backoff exactly
    ...overrides,
  });
  const add = (name: string) => {
    const record = serverSpan({ name });
    const batch = q.begin(format.frameOfRecord(record));
    if (batch === undefined) return;
    format.appendRecord(batch, record);
    q.commit(batch);
  };
  return { q, add };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('retry with exponential backoff', () => {
  it('retries the head batch after 0.5, 1, 2, 4, 5, 5 s (default policy), in order, then delivers it and the rest', async () => {
    const t = scripted([unavailable(), unavailable(), unavailable(), unavailable(), unavailable(), unavailable()]);
    const { q, add } = queue(t);
    add('a');
    add('b'); // a full batch: sent at once
    add('c');
    add('d');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.calls.map((c) => c.names)).toEqual([['a', 'b']]);
    await vi.advanceTimersByTimeAsync(30_000);
    const start = t.calls[0]!.at;
    expect(t.calls.map((c) => c.at - start)).toEqual([0, 500, 1_500, 3_500, 7_500, 12_500, 17_500, 17_500]);
    // The failing batch went again and again, alone; the next one waited behind it.
    expect(t.calls.map((c) => c.names.join())).toEqual(['a,b', 'a,b', 'a,b', 'a,b', 'a,b', 'a,b', 'a,b', 'c,d']);
    expect(q.stats()).toMatchObject({ exported: 4, dropped: 0, queued: 0, retried: 12, failedExports: 6 });
  });

  it("honours the delay the collector asks for (Retry-After, RetryInfo) instead of the backoff", async () => {
    const t = scripted([new ExportFailure('503', true, 7_000), new ExportFailure('429', true, 250)]);
    const { add } = queue(t);
    add('a');
    add('b');
    await vi.advanceTimersByTimeAsync(10_000);
    const start = t.calls[0]!.at;
    expect(t.calls.map((c) => c.at - start)).toEqual([0, 7_000, 7_250]);
  });

  it('gives a batch up once retry.maxElapsed has passed since its first failure (retries_exhausted), then moves on', async () => {
    const t = scripted(Array.from({ length: 6 }, unavailable));
    const { q, add } = queue(t, { retry: { initialBackoff: 500, maxBackoff: 5_000, maxElapsed: 4_000 } });
    add('a');
    add('b');
    add('c');
    add('d');
    await vi.advanceTimersByTimeAsync(30_000);
    const start = t.calls[0]!.at;
    // 0.5 + 1 + 2 = 3.5 s; the next wait (4 s) would end past 4 s: the batch is dropped, the next one goes.
    expect(t.calls.map((c) => [c.at - start, c.names.join()])).toEqual([
      [0, 'a,b'],
      [500, 'a,b'],
      [1_500, 'a,b'],
      [3_500, 'a,b'],
      [3_500, 'c,d'],
      [4_000, 'c,d'],
      [5_000, 'c,d'],
    ]);
    expect(q.stats()).toMatchObject({ exported: 2, dropped: 2, queued: 0 });
    expect(q.stats().droppedByReason).toMatchObject({ retries_exhausted: 2 });
  });

  it('a non-retryable answer drops the batch at once; a partial success counts the rejected spans as dropped', async () => {
    const t = scripted([new ExportFailure('3 INVALID_ARGUMENT', false), { rejected: 1, errorMessage: 'too old' }]);
    const { q, add } = queue(t);
    add('a');
    add('b');
    add('c');
    add('d');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.calls.map((c) => c.names.join())).toEqual(['a,b', 'c,d']);
    expect(q.stats()).toMatchObject({ exported: 1, dropped: 3, retried: 0 });
    expect(q.stats().droppedByReason).toMatchObject({ non_retryable: 2, rejected: 1 });
  });

  it('while a batch is retried, spans queue behind it up to maxQueueSize; beyond, they are dropped (queue_full)', async () => {
    const t = scripted(Array.from({ length: 3 }, unavailable));
    const { q, add } = queue(t, { maxQueueSize: 6 });
    for (let i = 0; i < 10; i++) add(`s${i}`);
    expect(q.stats()).toMatchObject({ queued: 6, dropped: 4, droppedQueueFull: 4 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.calls.flatMap((c) => c.names).filter((n, i, all) => all.indexOf(n) === i)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(q.stats()).toMatchObject({ exported: 6, dropped: 4, queued: 0 });
  });

  it('maxElapsed 0 turns retry off: a retryable failure drops the batch (retries_exhausted)', async () => {
    const t = scripted([unavailable()]);
    const { q, add } = queue(t, { retry: { initialBackoff: 500, maxBackoff: 5_000, maxElapsed: 0 } });
    add('a');
    add('b');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.calls).toHaveLength(1);
    expect(q.stats().droppedByReason.retries_exhausted).toBe(2);
  });

  it('shutdown sends a batch waiting for its backoff now, and gives up (shutdown) if the collector fails again', async () => {
    const t = scripted([unavailable(), unavailable()]);
    const { q, add } = queue(t);
    add('a');
    add('b');
    add('c');
    await vi.advanceTimersByTimeAsync(10); // a,b failed once; c waits for the delay
    const closing = q.shutdown(2_000);
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    expect(t.calls.map((c) => c.names.join())).toEqual(['a,b', 'a,b']);
    expect(q.stats()).toMatchObject({ exported: 0, dropped: 3, queued: 0 });
    expect(q.stats().droppedByReason.shutdown).toBe(3);
    add('late');
    expect(q.stats().droppedByReason.shutdown).toBe(4);
  });
});
