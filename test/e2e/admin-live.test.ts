/**
 * The admin plane fed by REAL proxied traffic, end to end:
 *
 *   client ─▶ tracecar "frontend" (ingress) ─▶ app A (uninstrumented)
 *                                               └─▶ tracecar egress route "payments" ─▶ payments app
 *                                                   (CLIENT span, context injected)       (OpenTelemetry SDK:
 *                                                                                          SERVER + db CLIENT span,
 *   tracecar admin ◀── OTLP/HTTP JSON ──────────────────────────────────────────────────── exported to the admin)
 *   tracecar ─── OTLP/gRPC ──▶ collector (test receiver)
 *
 * Everything is asserted through the admin HTTP API, /metrics, /readyz, /healthz and /config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { status as grpcStatus } from '@grpc/grpc-js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';
import { parseExposition } from '../helpers/admin-prom.js';
import { get, getJson, nearestRank, startInstrumentedApp, traceIdOf, type InstrumentedApp } from '../helpers/e2e-admin.js';
import type { StoreSummary, TraceSummary } from '../../src/telemetry/store.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import type { TracecarConfig } from '../../src/config/types.js';
import { sleep, waitFor } from '../helpers/wait.js';

interface TracesAnswer {
  traces: TraceSummary[];
  services: string[];
}

const SECRET = 's3cret';

describe('admin API, metrics, health and config with real proxied traffic', () => {
  let collector: OtlpReceiver;
  let payments: InstrumentedApp;
  let app: Upstream;
  let tc: RunningTracecar;
  let admin: string;
  let routeToPayments = '';
  let releaseHold: (() => void) | undefined;

  /** What was sent, by kind, with the trace id from each traceresponse. */
  const sent = { orders: [] as string[], fail: [] as string[], slow: [] as string[], checkout: [] as string[], correlated: '', withSecret: '' };

  beforeAll(async () => {
    collector = await startOtlpReceiver();
    payments = await startInstrumentedApp({
      service: 'payments',
      otlpUrl: () => `${admin}/v1/traces`,
      route: (path) => path.replace(/\/\d+$/, '/:id'),
    });
    app = await startUpstream(
      async (req, res) => {
        const url = req.url ?? '/';
        const n = Number(url.split('/').pop());
        if (url.startsWith('/orders/')) {
          // Spread latencies so p50, p95 and p99 differ: 10 → 150 ms.
          setTimeout(() => res.end(JSON.stringify({ order: n })), n * 15);
        } else if (url.startsWith('/fail')) {
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('inventory unavailable');
        } else if (url.startsWith('/slow')) {
          setTimeout(() => res.end('slow'), 320);
        } else if (url.startsWith('/checkout/')) {
          // The app forwards only x-request-id: egress stitches its CLIENT span by correlation id.
          const r = await callOut(`${routeToPayments}/charge/${n}`, req.headers, { forward: ['x-request-id'] });
          res.end(`charged ${r.status}`);
        } else if (url.startsWith('/hold')) {
          releaseHold = () => res.end('released');
        } else res.end('ok');
      },
    );
    tc = await startTracecar({
      service: { name: 'frontend' },
      ingress: { target: app.url },
      egress: { routes: [{ name: 'payments', listen: '127.0.0.1:0', target: payments.url }] },
      export: { otlp: { endpoint: collector.endpoint, headers: { authorization: `Bearer ${SECRET}` } }, scheduledDelay: 50 },
      admin: { listen: '127.0.0.1:0', receiveOtlp: true },
    });
    admin = tc.adminUrl!;
    routeToPayments = `http://127.0.0.1:${tc.addresses.routes.payments.port}`;

    const send = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${tc.url}${path}`, { method, headers });
      await res.body.text();
      return { status: res.statusCode, traceId: traceIdOf(res.headers), requestId: String(res.headers['x-request-id']) };
    };
    for (let n = 1; n <= 10; n++) sent.orders.push((await send('GET', `/orders/${n}`)).traceId);
    for (let i = 0; i < 2; i++) {
      const r = await send('GET', `/fail`);
      expect(r.status).toBe(503);
      sent.fail.push(r.traceId);
    }
    sent.slow.push((await send('GET', '/slow')).traceId);
    for (let n = 1; n <= 2; n++) {
      const r = await send('POST', `/checkout/${n}`);
      expect(r.status).toBe(200);
      sent.checkout.push(r.traceId);
    }
    const correlated = await send('GET', '/orders/0', { 'x-request-id': 'req-live-42' });
    expect(correlated.requestId).toBe('req-live-42');
    sent.correlated = correlated.traceId;
    sent.withSecret = (await send('GET', `/profile?token=${SECRET}`, { authorization: `Bearer ${SECRET}`, cookie: `session=${SECRET}` })).traceId;
    await payments.flush();
  }, 30_000);

  afterAll(async () => {
    releaseHold?.();
    await tc?.close();
    await Promise.all([app?.close(), payments?.close(), collector?.close()]);
  });

  const traces = (query: string) => getJson<TracesAnswer>(`${admin}/api/traces${query}`);
  const ids = (answer: TracesAnswer) => answer.traces.map((t) => t.traceId);

  it('lists every proxied request as a trace, newest first, with the id from traceresponse', async () => {
    const all = await traces('?limit=1000');
    const expected = [...sent.orders, ...sent.fail, ...sent.slow, ...sent.checkout, sent.correlated, sent.withSecret];
    expect(new Set(ids(all))).toEqual(new Set(expected));
    expect(all.traces).toHaveLength(expected.length);
    expect(ids(all)[0]).toBe(sent.withSecret);
    // Payments' spans came in over OTLP/HTTP and joined the frontend's traces.
    await waitFor(async () => (await traces('?service=payments')).traces.length === 2, 5000, 'payments spans');
    expect(all.services).toEqual(expect.arrayContaining(['frontend']));
    const byPayments = await traces('?service=payments');
    expect(new Set(ids(byPayments))).toEqual(new Set(sent.checkout));
    expect(byPayments.services).toEqual(['frontend', 'payments']);
    expect((await traces('?service=frontend&limit=1000')).traces).toHaveLength(expected.length);
    expect((await traces('?service=nobody')).traces).toEqual([]);
  });

  it('filters by route, status=error, min/max duration, trace id and correlation id', async () => {
    expect(new Set(ids(await traces('?route=GET%20/orders')))).toEqual(new Set([...sent.orders, sent.correlated]));
    expect(new Set(ids(await traces('?route=/charge/:id')))).toEqual(new Set(sent.checkout));

    const errors = await traces('?status=error');
    expect(new Set(ids(errors))).toEqual(new Set(sent.fail));
    for (const t of errors.traces) {
      expect(t).toMatchObject({ error: true, rootName: 'GET /fail', rootService: 'frontend', rootStatusCode: 503 });
    }
    expect(new Set(ids(await traces('?errors=1')))).toEqual(new Set(sent.fail));
    expect(ids(await traces('?status=ok&limit=1000'))).not.toContain(sent.fail[0]);

    // The app holds /slow 320 ms, so that trace is at least that long. How long the others took
    // depends on the machine's load, so the expected sets come from the listed durations.
    const all = (await traces('?limit=1000')).traces;
    expect(all.find((t) => t.traceId === sent.slow[0])!.durationMs).toBeGreaterThanOrEqual(300);
    const slow = await traces('?minDuration=300ms&limit=1000');
    expect(ids(slow)).toEqual(all.filter((t) => t.durationMs >= 300).map((t) => t.traceId));
    expect(ids(slow)).toContain(sent.slow[0]);
    const quick = await traces('?maxDuration=250&limit=1000');
    expect(ids(quick)).toEqual(all.filter((t) => t.durationMs <= 250).map((t) => t.traceId));
    expect(ids(quick)).not.toContain(sent.slow[0]);

    const one = await traces(`?traceId=${sent.checkout[1]}`);
    expect(ids(one)).toEqual([sent.checkout[1]]);
    expect(ids(await traces(`?traceId=${sent.checkout[1].slice(0, 12)}`))).toContain(sent.checkout[1]);

    const correlated = await traces('?correlationId=req-live-42');
    expect(ids(correlated)).toEqual([sent.correlated]);
    expect(correlated.traces[0].correlationId).toBe('req-live-42');
    // The JSON access line of that request names the same trace and request id.
    const line = tc.log.lines.find((l) => l.msg === 'request' && l.request_id === 'req-live-42');
    expect(line?.trace_id).toBe(sent.correlated);

    const bad = await get(`${admin}/api/traces?status=broken`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatch(/status must be/);
  });

  it('returns one trace with SERVER → CLIENT → remote SERVER → db CLIENT parented across services', async () => {
    const { traceId, spans } = await getJson<{ traceId: string; spans: SpanRecord[] }>(`${admin}/api/traces/${sent.checkout[0]}`);
    expect(traceId).toBe(sent.checkout[0]);
    expect(spans).toHaveLength(4);
    const pick = (service: string, kind: string) => {
      const found = spans.filter((s) => s.service === service && s.kind === kind);
      expect(found, `${service} ${kind}`).toHaveLength(1);
      return found[0];
    };
    const server = pick('frontend', 'server');
    const client = pick('frontend', 'client');
    const remote = pick('payments', 'server');
    const db = pick('payments', 'client');
    expect(server.name).toBe('POST /checkout/:id');
    expect(server.parentSpanId).toBeFalsy();
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.attributes['tracecar.parent.source']).toBe('correlation-id');
    expect(client.attributes['peer.service']).toBe('payments');
    expect(remote.name).toBe('GET /charge/:id');
    expect(remote.parentSpanId).toBe(client.spanId);
    expect(db.parentSpanId).toBe(remote.spanId);
    // Spans come ordered by start time.
    expect(spans[0].spanId).toBe(server.spanId);

    expect((await get(`${admin}/api/traces/${'0'.repeat(32)}`)).status).toBe(404);
    expect((await get(`${admin}/api/traces/not-a-trace`)).status).toBe(400);
  });

  it('summarises p50/p95/p99 per route from the stored spans, error patterns and the dependency graph', async () => {
    const summary = await getJson<StoreSummary>(`${admin}/api/summary`);

    // Percentiles recomputed here from the spans the store holds (nearest rank).
    const orderIds = [...sent.orders, sent.correlated];
    const durations: number[] = [];
    for (const id of orderIds) {
      const { spans } = await getJson<{ spans: SpanRecord[] }>(`${admin}/api/traces/${id}`);
      const s = spans.find((x) => x.kind === 'server')!;
      durations.push(s.endTime - s.startTime);
    }
    const orders = summary.routes.find((r) => r.service === 'frontend' && r.name === 'GET /orders/:id')!;
    expect(orders).toBeDefined();
    expect(orders.count).toBe(11);
    expect(orders.errors).toBe(0);
    expect(orders.p50).toBeCloseTo(nearestRank(durations, 50), 2);
    expect(orders.p95).toBeCloseTo(nearestRank(durations, 95), 2);
    expect(orders.p99).toBeCloseTo(nearestRank(durations, 99), 2);
    expect(orders.p50).toBeGreaterThanOrEqual(75); // 6th of 0,15,…,150 ms
    expect(orders.p95).toBeGreaterThanOrEqual(150);
    expect(orders.p50).toBeLessThan(orders.p95);

    const slow = summary.routes.find((r) => r.name === 'GET /slow')!;
    expect(slow).toMatchObject({ service: 'frontend', count: 1 });
    expect(slow.p50).toBeGreaterThanOrEqual(300);
    // Slowest first (by p95). Which route that is depends on the machine's load; the order does not.
    for (let i = 1; i < summary.routes.length; i++) expect(summary.routes[i - 1]!.p95).toBeGreaterThanOrEqual(summary.routes[i]!.p95);
    const fail = summary.routes.find((r) => r.name === 'GET /fail')!;
    expect(fail).toMatchObject({ count: 2, errors: 2 });
    expect(summary.routes.find((r) => r.service === 'payments' && r.name === 'GET /charge/:id')).toMatchObject({ count: 2, errors: 0 });

    expect(summary.errors).toEqual([
      expect.objectContaining({ service: 'frontend', route: 'GET /fail', kind: 'server', statusCode: 503, count: 2, exampleTraceId: sent.fail[1] }),
    ]);

    const { nodes, edges } = summary.dependencies;
    expect(nodes.map((n) => n.service)).toEqual(['frontend', 'ledger-db', 'payments']);
    expect(nodes.find((n) => n.service === 'ledger-db')?.external).toBe(true);
    expect(nodes.find((n) => n.service === 'payments')?.external).toBe(false);
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: 'frontend', to: 'payments', calls: 2, errors: 0 },
        { from: 'payments', to: 'ledger-db', calls: 2, errors: 0 },
      ]),
    );
    expect(edges).toHaveLength(2);
  });

  it('/metrics counts requests by side, route and status class as sent; in-flight rises and falls', async () => {
    const m = parseExposition((await get(`${admin}/metrics`)).text);
    const count = (labels: Record<string, string>) => m.value('tracecar_requests_total', labels);
    expect(count({ side: 'ingress', route: '/orders/:id', method: 'GET', status_class: '2xx' })).toBe(11);
    expect(count({ side: 'ingress', route: '/fail', status_class: '5xx' })).toBe(2);
    expect(count({ side: 'ingress', route: '/slow', status_class: '2xx' })).toBe(1);
    expect(count({ side: 'ingress', route: '/checkout/:id', method: 'POST', status_class: '2xx' })).toBe(2);
    expect(count({ side: 'ingress', route: '/profile' })).toBe(1);
    expect(count({ side: 'ingress' })).toBe(17);
    expect(count({ side: 'egress', status_class: '2xx' })).toBe(2);
    expect(count({ side: 'egress' })).toBe(2);
    expect(count({ status_class: '5xx' })).toBe(2);
    // The duration histogram saw the same requests; the slow one is past the 0.25 s bucket.
    expect(m.value('tracecar_request_duration_seconds_count', { side: 'ingress' })).toBe(17);
    expect(m.value('tracecar_request_duration_seconds_bucket', { side: 'ingress', route: '/slow', le: '0.25' })).toBe(0);
    expect(m.value('tracecar_request_duration_seconds_bucket', { side: 'ingress', route: '/slow', le: '0.5' })).toBe(1);
    expect(m.value('tracecar_requests_in_flight')).toBe(0);
    // Spans received from the payments app over OTLP/HTTP JSON: 2 requests × (server + db client).
    expect(m.value('tracecar_otlp_received_spans_total', { encoding: 'json', result: 'accepted' })).toBe(4);
    expect(m.value('tracecar_store_traces')).toBe(17);

    const held = request(`${tc.url}/hold`);
    await waitFor(() => releaseHold, 3000, 'the held request to reach the app');
    const during = parseExposition((await get(`${admin}/metrics`)).text);
    expect(during.value('tracecar_requests_in_flight', { side: 'ingress', route: '/hold' })).toBe(1);
    expect(during.value('tracecar_requests_in_flight')).toBe(1);
    releaseHold!();
    releaseHold = undefined;
    const res = await held;
    expect(await res.body.text()).toBe('released');
    await waitFor(async () => parseExposition((await get(`${admin}/metrics`)).text).value('tracecar_requests_in_flight') === 0, 2000, 'in-flight back to 0');
    const after = parseExposition((await get(`${admin}/metrics`)).text);
    expect(after.value('tracecar_requests_total', { side: 'ingress', route: '/hold', status_class: '2xx' })).toBe(1);
  });

  it('/metrics reports spans exported to the OTLP endpoint, none dropped; the exporter used the configured header', async () => {
    await tc.tracecar.exporter!.forceFlush();
    const m = parseExposition((await get(`${admin}/metrics`)).text);
    const received = collector.spans().filter((s) => s.resource['service.name'] === 'frontend');
    // 18 ingress SERVER spans (17 + /hold) and 2 egress CLIENT spans.
    expect(received).toHaveLength(20);
    expect(m.value('tracecar_spans_exported_total')).toBe(20);
    expect(m.value('tracecar_spans_dropped_total')).toBe(0);
    expect(m.value('tracecar_spans_queued')).toBe(0);
    expect(m.value('tracecar_export_failures_total')).toBe(0);
    expect(collector.metadata[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('/config is the effective config as YAML with the OTLP header redacted; the secret appears nowhere', async () => {
    const res = await get(`${admin}/config`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['x-content-format']).toBe('yaml');
    const config = parseYaml(res.text) as TracecarConfig;
    expect(config.service.name).toBe('frontend');
    expect(config.ingress.target).toBe(app.url);
    expect(config.egress.routes[0]).toMatchObject({ name: 'payments', target: payments.url });
    expect(config.export.otlp.endpoint).toBe(collector.endpoint);
    expect(config.export.otlp.headers).toEqual({ authorization: 'REDACTED' });
    expect(config.admin.receiveOtlp).toBe(true);

    // Nowhere: not in the YAML or JSON config, the trace API, the summary, metrics, or the log.
    const answers = await Promise.all(
      ['/config', '/config?format=json', '/api/traces?limit=1000', `/api/traces/${sent.withSecret}`, '/api/summary', '/metrics', '/api/info'].map(
        async (p) => [p, (await get(`${admin}${p}`)).text] as const,
      ),
    );
    for (const [path, text] of answers) expect(text, path).not.toContain(SECRET);
    expect(tc.log.text()).not.toContain(SECRET);
    // The span of the request that carried it is there, just without it.
    const { spans } = await getJson<{ spans: SpanRecord[] }>(`${admin}/api/traces/${sent.withSecret}`);
    expect(spans[0].name).toBe('GET /profile');
    for (const s of collector.spans()) expect(JSON.stringify(s.attributes, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(SECRET);
  });
});

describe('/metrics counts spans dropped when the OTLP endpoint rejects them', () => {
  it('dropped equals the spans sent; nothing exported; the failure is counted', async () => {
    const collector = await startOtlpReceiver({ failWith: grpcStatus.INVALID_ARGUMENT });
    const app = await startUpstream();
    const tc = await startTracecar({ ingress: { target: app.url }, export: { otlp: { endpoint: collector.endpoint }, scheduledDelay: 50 } });
    try {
      for (let i = 0; i < 5; i++) await (await request(`${tc.url}/items/${i}`)).body.text();
      await tc.tracecar.exporter!.forceFlush();
      await collector.waitForRequests(1);
      const m = await waitFor(async () => {
        const x = parseExposition((await get(`${tc.adminUrl}/metrics`)).text);
        return x.value('tracecar_spans_dropped_total') === 5 ? x : undefined;
      }, 5000, 'dropped spans to be counted');
      expect(m.value('tracecar_spans_exported_total')).toBe(0);
      expect(m.value('tracecar_export_failures_total')).toBeGreaterThanOrEqual(1);
      expect(m.value('tracecar_requests_total', { side: 'ingress', status_class: '2xx' })).toBe(5);
      // The admin store still has them: the viewer works without a collector.
      expect((await getJson<TracesAnswer>(`${tc.adminUrl}/api/traces`)).traces).toHaveLength(5);
    } finally {
      await tc.close();
      await app.close();
      await collector.close();
    }
  });
});

describe('/readyz and /healthz while close() drains an in-flight request', () => {
  it('/readyz flips to 503 "draining", /healthz stays 200, the request still completes', async () => {
    let arrived = false;
    const app = await startUpstream((_req, res) => {
      arrived = true;
      setTimeout(() => res.end('finished during drain'), 900);
    });
    const tc = await startTracecar({ ingress: { target: app.url }, shutdownTimeout: 5000 });
    const admin = tc.adminUrl!;
    try {
      expect(await get(`${admin}/readyz`)).toMatchObject({ status: 200, text: 'ready\n' });
      const inflight = request(`${tc.url}/slow-drain`);
      await waitFor(() => arrived, 3000, 'the request to reach the app');

      let closed = false;
      const closing = tc.close().then(() => (closed = true));
      const ready = await get(`${admin}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.text).toBe('not ready: draining\n');
      expect(await get(`${admin}/healthz`)).toMatchObject({ status: 200, text: 'ok\n' });
      const m = parseExposition((await get(`${admin}/metrics`)).text);
      expect(m.value('tracecar_requests_in_flight', { side: 'ingress' })).toBe(1);
      expect(closed).toBe(false);
      // Still draining a moment later: close() waits for the request, not a fixed time.
      await sleep(300);
      expect((await get(`${admin}/readyz`)).status).toBe(503);
      expect((await get(`${admin}/healthz`)).status).toBe(200);
      expect(closed).toBe(false);

      const res = await inflight;
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('finished during drain');
      await closing;
      // The admin listener goes last, once the drain is over.
      await expect(request(`${admin}/healthz`)).rejects.toThrow();
    } finally {
      await tc.close();
      await app.close();
    }
  });
});

describe('two sidecars, one viewer: the second exports OTLP/HTTP to the first one\'s admin', () => {
  /*
   * client → tracecar "frontend" → app A ─(HTTP_PROXY: frontend egress)─▶ tracecar "inventory" → app B
   *               ▲ admin /v1/traces ◀──────────── OTLP http/protobuf ──────────┘
   * Neither app has tracing code; app A forwards only x-request-id: the forward proxy stitches by it
   * and injects traceparent for the next sidecar.
   */
  let appA: Upstream, appB: Upstream;
  let A: RunningTracecar, B: RunningTracecar;
  let proxyA = '';

  beforeAll(async () => {
    appB = await startUpstream((_req, res) => res.end('in stock'));
    appA = await startUpstream(async (req, res, seen) => {
      const r = await callOut(`${B.url}/stock/${seen.url.split('/').pop()}`, req.headers, { proxy: proxyA, forward: ['x-request-id'] });
      res.end(`bought ${r.status}`);
    });
    A = await startTracecar({ service: { name: 'frontend' }, ingress: { target: appA.url }, egress: { listen: '127.0.0.1:0' } });
    proxyA = `http://127.0.0.1:${A.addresses.egress!.port}`;
    B = await startTracecar({
      service: { name: 'inventory' },
      ingress: { target: appB.url },
      export: { otlp: { endpoint: `${A.adminUrl}/v1/traces`, protocol: 'http/protobuf' }, scheduledDelay: 50 },
      admin: { listen: null },
    });
  });
  afterAll(async () => {
    await B?.close();
    await A?.close();
    await Promise.all([appA?.close(), appB?.close()]);
  });

  it('the first sidecar\'s summary shows frontend → inventory with call counts; its trace API joins both sidecars\' spans', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const res = await request(`${A.url}/buy/${n}`);
      expect(await res.body.text()).toBe('bought 200');
      ids.push(traceIdOf(res.headers));
    }
    await B.tracecar.exporter!.forceFlush();
    const byInventory = await waitFor(async () => {
      const t = await getJson<TracesAnswer>(`${A.adminUrl}/api/traces?service=inventory`);
      return t.traces.length === 3 ? t : undefined;
    }, 5000, 'inventory spans in the frontend viewer');
    expect(new Set(byInventory.traces.map((t) => t.traceId))).toEqual(new Set(ids));
    for (const t of byInventory.traces) expect(t).toMatchObject({ rootService: 'frontend', rootName: 'GET /buy/:id', spanCount: 3, services: ['frontend', 'inventory'] });

    const { spans } = await getJson<{ spans: SpanRecord[] }>(`${A.adminUrl}/api/traces/${ids[0]}`);
    const server = spans.find((s) => s.service === 'frontend' && s.kind === 'server')!;
    const client = spans.find((s) => s.service === 'frontend' && s.kind === 'client')!;
    const remote = spans.find((s) => s.service === 'inventory')!;
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.attributes['tracecar.parent.source']).toBe('correlation-id');
    expect(remote).toMatchObject({ kind: 'server', name: 'GET /stock/:id', parentSpanId: client.spanId });

    const summary = await getJson<StoreSummary>(`${A.adminUrl}/api/summary`);
    expect(summary.dependencies.nodes.map((n) => [n.service, n.external])).toEqual([
      ['frontend', false],
      ['inventory', false],
    ]);
    expect(summary.dependencies.edges).toEqual([{ from: 'frontend', to: 'inventory', calls: 3, errors: 0 }]);
    expect(summary.routes.find((r) => r.service === 'inventory')).toMatchObject({ name: 'GET /stock/:id', count: 3 });

    const m = parseExposition((await get(`${A.adminUrl}/metrics`)).text);
    expect(m.value('tracecar_otlp_received_spans_total', { encoding: 'protobuf', result: 'accepted' })).toBe(3);
    expect(m.value('tracecar_requests_total', { side: 'ingress' })).toBe(3);
    expect(m.value('tracecar_requests_total', { side: 'egress', status_class: '2xx' })).toBe(3);
  });
});
