/**
 * admin.store.maxSpansPerSecond: over that many spans a second the store keeps a share of new
 * traces, chosen by trace id with head sampling's threshold rule, and skips the rest before they
 * are encoded. Exact expectations on a fake clock and chosen ids, then one statistical check.
 */
import { describe, expect, it, vi } from 'vitest';
import { FinishedSpan } from '../../src/telemetry/finish.js';
import type { ResourceInfo } from '../../src/telemetry/hop.js';
import { createTraceStore } from '../../src/telemetry/store.js';
import { createTelemetrySinks } from '../../src/telemetry/sinks.js';
import { ratioThreshold } from '../../src/sampling/index.js';
import { proxySpan } from '../helpers/admin-fixtures.js';
import { captureLogger, startTracecar, startUpstream, testConfig } from '../helpers/harness.js';
import { hopOfShape } from '../helpers/hops.js';
import { waitFor } from '../helpers/wait.js';

const T0 = 1_700_000_000_000; // a whole second
/** A trace id whose randomness (last 14 hex digits) is `r`. */
const idWith = (r: string, head = 'a1b2c3d4e5f60718a9'): string => head.padEnd(18, '0').slice(0, 18) + r;
const HIGH = 'ffffffffffffff';
const LOW = '00000000000001';

function clocked(maxSpansPerSecond: number) {
  let t = T0;
  const store = createTraceStore({ maxTraces: 100_000, maxBytes: 1 << 28, maxSpansPerSecond, now: () => t });
  return { store, at: (ms: number) => (t = T0 + ms) };
}

/** `n` received spans of distinct traces whose randomness is counted up from `from` (hex). */
function spansOfNewTraces(n: number, tag: number, r: (i: number) => string) {
  return Array.from({ length: n }, (_, i) => proxySpan({ traceId: idWith(r(i), `${tag.toString(16).padStart(4, '0')}${i.toString(16).padStart(14, '0')}`) }));
}

describe('trace store: spans per second', () => {
  it('keeps everything while at or under the limit, then the share limit/offered of the second before, by trace id', () => {
    const { store, at } = clocked(10);
    // Second 0: 40 spans offered; the second before offered none, so all are kept.
    const first = spansOfNewTraces(40, 1, () => LOW);
    for (const s of first) store.add(s);
    expect(store.stats()).toMatchObject({ traces: 40, skippedSpans: 0, keepRatio: 1 });

    // Second 1: share 10/40 = 0.25, T = ratioThreshold(0.25): R ≥ T kept, R < T skipped.
    at(1_000);
    expect(store.stats().keepRatio).toBe(0.25);
    const t = ratioThreshold(0.25).hex!;
    expect(t).toBe('c0000000000000');
    const below = (BigInt(`0x${t}`) - 1n).toString(16).padStart(14, '0');
    const high = proxySpan({ traceId: idWith(HIGH, '11111111111111111100') });
    const atT = proxySpan({ traceId: idWith(t, '22222222222222222200') });
    const under = proxySpan({ traceId: idWith(below, '33333333333333333300') });
    for (const s of [high, atT, under]) store.add(s);
    expect(store.get(high.traceId)).toHaveLength(1);
    expect(store.get(atT.traceId)).toHaveLength(1);
    expect(store.get(under.traceId)).toBeUndefined();
    // A trace the store holds takes its later spans whatever their randomness (LOW: would be skipped).
    store.add(proxySpan({ parent: first[0] }));
    expect(store.get(first[0]!.traceId)).toHaveLength(2);
    expect(store.stats()).toMatchObject({ traces: 42, spans: 43, skippedSpans: 1 });

    // Second 2 follows a second of 4 spans: everything again.
    at(2_500);
    expect(store.stats().keepRatio).toBe(1);
    const low = proxySpan({ traceId: idWith(LOW, '44444444444444444400') });
    store.add(low);
    expect(store.get(low.traceId)).toHaveLength(1);
  });

  it('a second with nothing offered resets the share: the one before a gap does not carry over', () => {
    const { store, at } = clocked(5);
    for (const s of spansOfNewTraces(50, 2, () => LOW)) store.add(s);
    at(1_000);
    expect(store.stats().keepRatio).toBe(0.1);
    at(2_000); // second 1 had no span
    expect(store.stats().keepRatio).toBe(1);
    const s = proxySpan({ traceId: idWith(LOW, '55555555555555555500') });
    store.add(s);
    expect(store.get(s.traceId)).toHaveLength(1);
    expect(store.stats().skippedSpans).toBe(0);
  });

  it('0 keeps every span however many arrive', () => {
    const { store, at } = clocked(0);
    for (const s of spansOfNewTraces(3_000, 3, () => LOW)) store.add(s);
    at(1_000);
    for (const s of spansOfNewTraces(3_000, 4, () => LOW)) store.add(s);
    expect(store.stats()).toMatchObject({ traces: 6_000, skippedSpans: 0, keepRatio: 1, maxSpansPerSecond: 0 });
  });

  it("this process's spans: counted at their end time; a skipped span is never encoded; an explicit rv decides like head sampling", () => {
    // The store's clock stays in second 0: only the spans' end times move on to second 1.
    const { store, at } = clocked(1);
    const resource: ResourceInfo = { service: 'checkout', resource: { 'service.name': 'checkout' } };
    const finished = new FinishedSpan();
    const encode = vi.spyOn(finished, 'protobuf');
    const end = (endMs: number, shape: number, traceId: string, traceState?: string) => {
      const h = hopOfShape(shape);
      h.traceId = traceId;
      h.traceState = traceState;
      h.endTime = T0 + endMs;
      finished.reset(h, resource);
      store.spanEnded(finished);
      return h;
    };
    end(100, 0, idWith(LOW, 'bb'.repeat(9)));
    end(200, 0, idWith(LOW, 'cc'.repeat(9)));
    expect(encode).toHaveBeenCalledTimes(2);
    // Ended in second 1: share 1/2, T = 80000000000000.
    const skipped = end(1_100, 0, idWith(LOW, 'dd'.repeat(9)));
    expect(encode).toHaveBeenCalledTimes(2);
    const kept = end(1_200, 0, idWith(HIGH, 'ee'.repeat(9)));
    // The id's own bits say skip, its rv says keep: rv wins, as in sampling/threshold.ts.
    const byRv = end(1_300, 2, idWith(LOW, 'ff'.repeat(9)), 'ot=rv:90000000000000');
    expect(encode).toHaveBeenCalledTimes(4);
    expect(store.get(skipped.traceId)).toBeUndefined();
    expect(store.get(kept.traceId)).toHaveLength(1);
    expect(store.get(byRv.traceId)).toHaveLength(1);
    at(1_000);
    expect(store.stats()).toMatchObject({ traces: 4, skippedSpans: 1, keepRatio: 0.5 });
  });

  it('two stores over their limit alike keep the same traces (as sidecars under the same load would)', () => {
    const a = clocked(100);
    const b = clocked(100);
    const warm = spansOfNewTraces(400, 5, () => LOW);
    for (const s of warm) {
      a.store.add(s);
      b.store.add(s);
    }
    a.at(1_000);
    b.at(1_000);
    // Randomness spread over the whole 56-bit range (a multiplicative hash of i).
    const spans = spansOfNewTraces(400, 6, (i) => BigInt.asUintN(56, BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(14, '0'));
    for (const s of spans) {
      a.store.add(s);
      b.store.add(s);
    }
    const keptA = spans.filter((s) => a.store.get(s.traceId)).map((s) => s.traceId);
    const keptB = spans.filter((s) => b.store.get(s.traceId)).map((s) => s.traceId);
    expect(keptA.length).toBeGreaterThan(0);
    expect(keptA.length).toBeLessThan(400);
    expect(keptB).toEqual(keptA);
  });

  it('statistically: over 20,000 spans a second with a limit of 1,000, about 1,000 are kept (±5 sd)', () => {
    const { store, at } = clocked(1_000);
    // Seeded ids (mulberry32), so the run is the same every time; the tolerance is for the rule, not the seed.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0).toString(16).padStart(8, '0');
    };
    const randomId = () => (rand() + rand() + rand() + rand()).slice(0, 32);
    for (let i = 0; i < 20_000; i++) store.add(proxySpan({ traceId: randomId() }));
    expect(store.stats().traces).toBe(20_000);
    at(1_000);
    for (let i = 0; i < 20_000; i++) store.add(proxySpan({ traceId: randomId() }));
    const kept = store.stats().traces - 20_000;
    // Binomial(20,000, 0.05): sd ≈ 30.8.
    expect(Math.abs(kept - 1_000)).toBeLessThan(5 * 31);
    expect(store.stats().skippedSpans).toBe(20_000 - kept);
  });
});

describe('admin.store.maxSpansPerSecond in a running tracecar', () => {
  it('reaches the store: every request is stored or counted as skipped, in /api/traces and /metrics alike', async () => {
    const app = await startUpstream((_req, res) => res.end('ok'));
    const tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' }, admin: { listen: '127.0.0.1:0', store: { maxSpansPerSecond: 1 } } });
    try {
      const burst = async () => {
        // Start just after a second begins, so the burst's spans fall in one second and the next one sees them.
        await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 5));
        await Promise.all(Array.from({ length: 20 }, () => fetch(tc.url).then((r) => r.text())));
      };
      let sent = 0;
      // Each round: a burst, then another in the next second, whose share is 1 / (the first burst's spans).
      // A round a stalled machine spreads over more seconds may skip nothing: up to 5 rounds.
      for (let round = 0; round < 5 && tc.tracecar.store.stats().skippedSpans === 0; round++) {
        await burst();
        await burst();
        sent += 40;
      }
      await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'nothing in flight');
      const stats = tc.tracecar.store.stats();
      expect(stats.maxSpansPerSecond).toBe(1);
      expect(stats.skippedSpans).toBeGreaterThan(0);
      expect(stats.spans + stats.skippedSpans).toBe(sent);
      const api = (await (await fetch(`${tc.adminUrl}/api/traces`)).json()) as { stats: { skippedSpans: number; maxSpansPerSecond: number } };
      expect(api.stats).toMatchObject({ skippedSpans: stats.skippedSpans, maxSpansPerSecond: 1 });
      const metrics = await (await fetch(`${tc.adminUrl}/metrics`)).text();
      expect(metrics).toContain(`tracecar_store_skipped_spans_total ${stats.skippedSpans}`);
    } finally {
      await tc.close();
      await app.close();
    }
  }, 30_000);
});

describe('terminal lines and the store over its limit', () => {
  it('a pretty line links to its trace only when the store took it; otherwise it names the trace id', () => {
    const log = captureLogger();
    const resource: ResourceInfo = { service: 'checkout', resource: { 'service.name': 'checkout' } };
    const sinks = createTelemetrySinks(testConfig({ admin: { listen: '127.0.0.1:0', store: { maxSpansPerSecond: 1 } } }), {
      logger: log.logger,
      accessLog: 'pretty',
      color: false,
      traceLink: (id) => `http://viewer/#/trace/${id}`,
      resource,
      requestFinished() {},
    });
    const ctx = { config: { sampling: { keep: { errors: true, slowerThan: null } } }, resource } as never;
    /** Ends a request in second 0 or 1 (the store counts spans at their end time); its terminal line. */
    const finish = (second: 0 | 1, traceId: string) => {
      const h = hopOfShape(0);
      h.traceId = traceId;
      h.traceState = undefined;
      h.endTime = (Math.floor(h.startTime / 1000) + 1 + second) * 1000;
      sinks.finishRequest(h, ctx);
      return String(log.lines.at(-1)!.line);
    };
    // Second 0: both kept (the second before offered nothing).
    for (const id of [idWith(LOW, 'ab'.repeat(9)), idWith(LOW, 'ac'.repeat(9))]) expect(finish(0, id)).toContain(`http://viewer/#/trace/${id}`);
    // Second 1: share 1/2.
    const skipped = idWith(LOW, 'ad'.repeat(9));
    const skippedLine = finish(1, skipped);
    expect(sinks.store.has(skipped)).toBe(false);
    expect(skippedLine).toContain(`trace=${skipped}`);
    expect(skippedLine).not.toContain('http://viewer/');
    const kept = idWith(HIGH, 'ae'.repeat(9));
    expect(finish(1, kept)).toContain(`http://viewer/#/trace/${kept}`);
    expect(sinks.store.has(kept.toUpperCase())).toBe(true);
  });
});
