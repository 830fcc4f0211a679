import { describe, expect, it } from 'vitest';
import { createFinisher } from '../../src/telemetry/finish.js';
import { toSpanRecord, type ResourceInfo } from '../../src/telemetry/hop.js';
import { createTraceStore, isErrorSpan, TRACE_OVERHEAD_BYTES } from '../../src/telemetry/store.js';
import { hex, proxySpan, topologyTrace } from '../helpers/admin-fixtures.js';
import { hopOfShape } from '../helpers/hops.js';

describe('trace store', () => {
  it('groups spans by trace and summarises each trace', () => {
    const store = createTraceStore({ maxTraces: 10, maxBytes: 1 << 24 });
    const spans = topologyTrace({ start: 1_700_000_000_000, correlationId: 'req-abc' });
    // Arrival order is end order in a proxy: children first.
    for (const s of [...spans].reverse()) store.add(s);

    const [t] = store.list();
    expect(t.traceId).toBe(spans[0].traceId);
    expect(t.rootName).toBe('POST /checkout');
    expect(t.rootService).toBe('frontend');
    expect(t.rootStatusCode).toBe(200);
    expect(t.services).toEqual(['frontend', 'orders', 'payments']);
    expect(t.spanCount).toBe(6);
    expect(t.startTime).toBe(1_700_000_000_000);
    expect(t.durationMs).toBe(120);
    expect(t.error).toBe(false);
    expect(t.correlationId).toBe('req-abc');

    const got = store.get(spans[0].traceId)!;
    expect(got.map((s) => s.spanId)).toEqual(spans.map((s) => s.spanId));
    expect(store.get(hex(16))).toBeUndefined();
  });

  it('reads the correlation id from http.request.header.x-request-id too', () => {
    const store = createTraceStore({ maxTraces: 10, maxBytes: 1 << 24 });
    const s = proxySpan({ attributes: { 'http.request.header.x-request-id': ['from-header'] } });
    store.add(s);
    expect(store.list()[0].correlationId).toBe('from-header');
    expect(store.list({ correlationId: 'from-header' })).toHaveLength(1);
  });

  it('filters by service, route, status, duration, time window, trace id, correlation id and limit', () => {
    const store = createTraceStore({ maxTraces: 100, maxBytes: 1 << 24 });
    const base = 1_700_000_000_000;
    const ok = topologyTrace({ start: base, correlationId: 'ok-1' });
    const failed = topologyTrace({ start: base + 10_000, fail: true, correlationId: 'bad-1' });
    const slow = topologyTrace({ start: base + 20_000, slow: 900, correlationId: 'slow-1' });
    const lone = proxySpan({ service: 'billing', route: '/invoices', start: base + 30_000, durationMs: 3 });
    for (const s of [...ok, ...failed, ...slow, lone]) store.add(s);

    const ids = (f: Parameters<typeof store.list>[0]) => store.list(f).map((t) => t.traceId);
    expect(ids({})).toEqual([lone.traceId, slow[0].traceId, failed[0].traceId, ok[0].traceId]);
    expect(ids({ service: 'billing' })).toEqual([lone.traceId]);
    expect(ids({ service: 'payments' })).toHaveLength(3);
    expect(ids({ route: 'post /PAYMENTS' })).toHaveLength(3);
    expect(ids({ route: 'invoices' })).toEqual([lone.traceId]);
    expect(ids({ status: 'error' })).toEqual([failed[0].traceId]);
    expect(ids({ status: 'ok' })).not.toContain(failed[0].traceId);
    expect(ids({ minDuration: 500 })).toEqual([slow[0].traceId]);
    expect(ids({ maxDuration: 10 })).toEqual([lone.traceId]);
    expect(ids({ since: base + 5_000, until: base + 25_000 })).toEqual([slow[0].traceId, failed[0].traceId]);
    expect(ids({ traceId: ok[0].traceId.slice(0, 8).toUpperCase() })).toEqual([ok[0].traceId]);
    expect(ids({ correlationId: 'bad-1' })).toEqual([failed[0].traceId]);
    expect(ids({ limit: 2 })).toEqual([lone.traceId, slow[0].traceId]);

    const [f] = store.list({ status: 'error' });
    expect(f.error).toBe(true);
    expect(f.rootStatusCode).toBe(502);
    expect(f.errorCount).toBe(5); // all but the 200 call to inventory
  });

  it('evicts whole oldest traces when over maxTraces', () => {
    const store = createTraceStore({ maxTraces: 3, maxBytes: 1 << 24 });
    const traces = [0, 1, 2, 3, 4].map((i) => topologyTrace({ start: 1_700_000_000_000 + i }));
    for (const t of traces) for (const s of t) store.add(s);
    const kept = store.list().map((t) => t.traceId);
    expect(kept).toEqual([traces[4][0].traceId, traces[3][0].traceId, traces[2][0].traceId]);
    expect(store.get(traces[0][0].traceId)).toBeUndefined();
    // The kept traces are whole.
    for (const t of traces.slice(2)) expect(store.get(t[0].traceId)).toHaveLength(6);
    const stats = store.stats();
    expect(stats).toMatchObject({ traces: 3, spans: 18, evictedTraces: 2 });
  });

  it('evicts whole oldest traces when over the byte budget', () => {
    const store = createTraceStore({ maxTraces: 1000, maxBytes: 24 * 1024 });
    const traces = Array.from({ length: 20 }, () => topologyTrace());
    for (const t of traces) for (const s of t) store.add(s);
    const stats = store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes);
    expect(stats.evictedTraces).toBeGreaterThan(0);
    expect(stats.traces + stats.evictedTraces).toBe(20);
    // The newest traces stay, whole; the oldest went.
    const kept = traces.slice(20 - stats.traces);
    expect(store.list({ limit: 1000 }).map((t) => t.traceId)).toEqual(kept.reverse().map((t) => t[0].traceId));
    for (const t of kept) expect(store.get(t[0].traceId)).toHaveLength(6);
    expect(store.get(traces[0]![0]!.traceId)).toBeUndefined();
  });

  it('keeps a trace that alone is over the byte budget, and caps spans per trace', () => {
    const store = createTraceStore({ maxTraces: 10, maxBytes: 2000, maxSpansPerTrace: 5 });
    const traceId = hex(16);
    const big = Array.from({ length: 8 }, () => proxySpan({ traceId, attributes: { blob: 'x'.repeat(500) } }));
    for (const s of big) store.add(s);
    expect(store.get(traceId)).toHaveLength(5);
    expect(store.stats().droppedSpans).toBe(3);
    const other = proxySpan();
    store.add(other);
    // The older trace goes; the new one stays.
    expect(store.get(traceId)).toBeUndefined();
    expect(store.get(other.traceId)).toHaveLength(1);
  });

  it('replaces a span received twice instead of counting it twice', () => {
    const store = createTraceStore({ maxTraces: 10, maxBytes: 1 << 24 });
    const s = proxySpan({ status: 200 });
    store.add(s);
    store.add({ ...s, status: { code: 'error', message: 'late' } });
    expect(store.get(s.traceId)).toHaveLength(1);
    expect(store.list()[0]).toMatchObject({ spanCount: 1, error: true, errorCount: 1 });
    expect(store.stats().spans).toBe(1);
  });

  it('summarises latency per route, error patterns and service dependencies', () => {
    const store = createTraceStore({ maxTraces: 1000, maxBytes: 1 << 26 });
    for (let i = 0; i < 20; i++) for (const s of topologyTrace({ slow: i * 10 })) store.add(s);
    for (let i = 0; i < 3; i++) for (const s of topologyTrace({ fail: true })) store.add(s);
    const sum = store.summary();

    const pay = sum.routes.find((r) => r.service === 'payments' && r.name === 'POST /payments')!;
    expect(pay.count).toBe(23);
    expect(pay.errors).toBe(3);
    // Durations 66 + 10*i for i in 0..19 plus three of 66.
    expect(pay.p50).toBe(146); // nearest rank: 12th of 23
    expect(pay.p95).toBe(246);
    expect(pay.p99).toBe(256);
    expect(pay.max).toBe(256);
    // Client spans are not operations of the route table.
    expect(sum.routes.every((r) => !r.name.includes('inventory'))).toBe(true);
    expect(sum.routes[0].p95).toBeGreaterThanOrEqual(sum.routes[sum.routes.length - 1].p95);

    const chaos = sum.errors.find((p) => p.service === 'payments')!;
    expect(chaos).toMatchObject({ route: 'POST /payments', kind: 'server', statusCode: 503, cause: 'TRC_ERR_CHAOS_ABORT', count: 3 });
    const front = sum.errors.find((p) => p.service === 'frontend' && p.kind === 'server')!;
    expect(front).toMatchObject({ statusCode: 502, count: 3 });
    expect(store.get(chaos.exampleTraceId)).toBeDefined();

    const edge = (from: string, to: string) => sum.dependencies.edges.find((e) => e.from === from && e.to === to);
    expect(edge('frontend', 'orders')).toMatchObject({ calls: 23, errors: 3 });
    expect(edge('orders', 'payments')).toMatchObject({ calls: 23, errors: 3 });
    expect(edge('orders', 'inventory.internal')).toMatchObject({ calls: 23, errors: 0 });
    expect(sum.dependencies.edges).toHaveLength(3);
    const nodes = Object.fromEntries(sum.dependencies.nodes.map((n) => [n.service, n]));
    expect(nodes['inventory.internal'].external).toBe(true);
    expect(nodes.orders).toMatchObject({ external: false, spanCount: 23 * 3 });
    expect(sum.traces).toBe(23);
    expect(sum.spans).toBe(23 * 6);
  });

  it("an edge to a peer with no spans here is an error exactly when its CLIENT span is one (the span's own status; a 5xx left unset is not)", () => {
    const store = createTraceStore({ maxTraces: 100, maxBytes: 1 << 24 });
    const call = (status: number, statusCode: 'unset' | 'error') => {
      const root = proxySpan({ service: 'shop', route: '/pay' });
      // A CLIENT span an app sent over OTLP: its instrumentation decided the status.
      const client = proxySpan({ parent: root, service: 'shop', kind: 'client', route: '/charge', status, serverAddress: 'psp.example' });
      client.status = { code: statusCode };
      if (statusCode === 'unset') delete client.attributes['error.type'];
      for (const s of [root, client]) store.add(s);
      return client;
    };
    const unset503 = call(503, 'unset');
    call(503, 'error');
    call(200, 'unset');
    const edge = store.summary().dependencies.edges.find((e) => e.from === 'shop' && e.to === 'psp.example');
    expect(edge).toMatchObject({ calls: 3, errors: 1 });
    // The same verdict as the trace view gives that span (admin/handlers/trace.ts: isErrorSpan).
    expect(isErrorSpan(store.get(unset503.traceId)!.find((s) => s.spanId === unset503.spanId)!)).toBe(false);
  });

  it('17 rounds of 1000 traces keep exactly the newest 1000 whole (the cost of add() is measured in bench/store-add.mjs)', () => {
    const store = createTraceStore({ maxTraces: 1000, maxBytes: 64 * 1024 * 1024 });
    const spans = Array.from({ length: 1000 }, () => topologyTrace()).flat();
    const idOf = (round: number, s: { traceId: string }): string => round.toString(16).padStart(4, '0') + s.traceId.slice(4);
    for (let round = 0; round < 17; round++) for (const s of spans) store.add({ ...s, traceId: idOf(round, s) });
    expect(store.stats()).toMatchObject({ traces: 1000, spans: 6000, evictedTraces: 16 * 1000 });
    expect(store.get(idOf(16, spans[0]!))).toHaveLength(6);
    expect(store.get(idOf(15, spans[0]!))).toBeUndefined();
  });

  it("this process's spans: get() answers exactly the SpanRecord span end describes, from the bytes it keeps", () => {
    const store = createTraceStore({ maxTraces: 100, maxBytes: 1 << 24 });
    const resource: ResourceInfo = { service: 'checkout', resource: { 'service.name': 'checkout', 'service.version': '1' } };
    const finish = createFinisher({ sinks: [store], accessLog: { write() {} } });
    // slowerThan 0: the tail rule keeps the unsampled shapes too.
    const ctx = { config: { sampling: { keep: { errors: true, slowerThan: 0 } } }, resource };
    // Shape 5 carries a lone surrogate no header can carry (it reads back as U+FFFD): left out here.
    const hops = Array.from({ length: 15 }, (_, i) => hopOfShape(i)).filter((_, i) => i !== 5);
    for (const h of hops) finish(h, ctx);
    for (const h of hops) {
      const [got] = store.get(h.traceId)!;
      expect(JSON.stringify(got)).toBe(JSON.stringify(toSpanRecord(h, resource)));
      expect(store.summaryOf(h.traceId)).toEqual(store.list({ traceId: h.traceId, limit: 1 })[0]);
    }
    expect(store.stats().spans).toBe(hops.length);
  });

  it('spans received over OTLP read back as they were given', () => {
    const store = createTraceStore({ maxTraces: 100, maxBytes: 1 << 24 });
    const spans = topologyTrace({ correlationId: 'round-trip' }).map((s, i) => ({
      ...s,
      events: i % 2 ? [{ name: 'e', time: s.startTime + 0.123456, attributes: {} }] : [],
      links: i === 0 ? [{ traceId: hex(16), spanId: hex(8), attributes: { why: 'x' } }] : [],
    }));
    for (const s of spans) store.add(s);
    const byId = new Map(store.get(spans[0]!.traceId)!.map((s) => [s.spanId, s]));
    for (const s of spans) expect(JSON.stringify(byId.get(s.spanId))).toBe(JSON.stringify(s));
  });

  it('counts the bytes it holds: the slabs span bytes are copied into, plus fixed overheads', () => {
    const store = createTraceStore({ maxTraces: 2, maxBytes: 1 << 24 }); // 64 KiB slabs
    const slab = 64 * 1024;
    store.add(proxySpan());
    expect(store.stats().bytes).toBe(slab + TRACE_OVERHEAD_BYTES);
    // A span longer than half a slab gets a slab of its own, counted by its length.
    store.add(proxySpan({ attributes: { blob: 'x'.repeat(40_000) } }));
    const withBig = store.stats().bytes - slab - 2 * TRACE_OVERHEAD_BYTES;
    expect(withBig).toBeGreaterThan(40_000);
    expect(withBig).toBeLessThan(40_600);
    // Evicting the small trace frees nothing (its slab is still being filled); evicting the big one frees its slab.
    store.add(proxySpan());
    expect(store.stats().bytes).toBe(slab + withBig + 2 * TRACE_OVERHEAD_BYTES);
    store.add(proxySpan());
    expect(store.stats()).toMatchObject({ traces: 2, bytes: slab + 2 * TRACE_OVERHEAD_BYTES });
  });
});
