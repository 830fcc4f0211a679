/**
 * One viewer for a local topology: a tracecar exporting over OTLP/HTTP (http/protobuf, and
 * http/json) to ANOTHER tracecar's admin listener (`POST /v1/traces`).
 *
 *   client → orders sidecar (viewer) → orders app → orders egress route → payments sidecar → payments app
 *                 ▲                                                              │
 *                 └────────────── OTLP/HTTP POST /v1/traces ◀───────────────────┘
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { OtlpProtocol } from '../../src/config/types.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { callOut } from '../helpers/apps.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const CASES: OtlpProtocol[] = ['http/protobuf', 'http/json'];

describe.each(CASES)('a sidecar exporting %s to another tracecar\'s admin /v1/traces', (protocol) => {
  let paymentsApp: Upstream, ordersApp: Upstream;
  let payments: RunningTracecar, orders: RunningTracecar;

  beforeAll(async () => {
    let routeToPayments = '';
    ordersApp = await startUpstream(async (req, res, seen) => {
      const r = await callOut(`${routeToPayments}/charge${seen.url}`, req.headers, { forward: ['x-request-id'] });
      res.end(`orders → ${r.status}`);
    });
    // The viewer: no OTLP export of its own, admin (store + receiver) on.
    orders = await startTracecar({
      service: { name: 'orders' },
      ingress: { target: ordersApp.url },
      egress: { routes: [{ name: 'payments', listen: '127.0.0.1:0', target: 'http://127.0.0.1:1' }] },
    });

    paymentsApp = await startUpstream((_req, res) => res.end('paid'));
    payments = await startTracecar({
      service: { name: 'payments', version: '2.0.0' },
      ingress: { target: paymentsApp.url },
      // A bare URL: /v1/traces is appended for http/*.
      export: { otlp: { endpoint: orders.adminUrl!, protocol }, scheduledDelay: 50 },
      admin: { listen: null },
    });
    // Point the orders route at the payments sidecar (route targets hot-reload).
    const next = structuredClone(orders.tracecar.config) as typeof orders.tracecar.config;
    (next.egress.routes as Array<{ target: string }>)[0]!.target = payments.url;
    expect(orders.tracecar.reload(next)).toEqual([]);
    routeToPayments = `http://127.0.0.1:${orders.addresses.routes.payments!.port}`;
  });

  afterAll(async () => {
    await payments?.close();
    await orders?.close();
    await Promise.all([paymentsApp?.close(), ordersApp?.close()]);
  });

  it('the payments span lands in the orders store with its ids, name, kind, parent and service', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await request(`${payments.url}/charge/42`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
    expect(res.statusCode).toBe(200);
    await res.body.text();

    const spans = await waitFor(() => orders.tracecar.store.get(traceId), 10_000, 'the payments span in the orders store');
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span).toMatchObject({
      traceId,
      parentSpanId: parent,
      name: 'GET /charge/:id',
      kind: 'server',
      service: 'payments',
      resource: { 'service.version': '2.0.0' },
      scope: 'tracecar',
      attributes: { 'http.response.status_code': 200 },
    });
    expect(span!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(payments.tracecar.exporter!.stats()).toMatchObject({ dropped: 0, failedExports: 0 });
  });

  it('one trace in one store: orders SERVER → orders CLIENT → payments SERVER', async () => {
    const res = await request(`${orders.url}/orders/7`, { headers: { 'x-request-id': `topology-${protocol}` } });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('orders → 200');
    const traceId = String(res.headers.traceresponse).split('-')[1]!;

    const spans = await waitFor(
      () => {
        const t = orders.tracecar.store.get(traceId);
        return t && t.length >= 3 ? t : undefined;
      },
      10_000,
      'three spans in one trace',
    );
    const pick = (service: string, kind: SpanRecord['kind']) => {
      const found = spans.filter((s) => s.service === service && s.kind === kind);
      expect(found, `${service} ${kind}`).toHaveLength(1);
      return found[0]!;
    };
    const ordersServer = pick('orders', 'server');
    const ordersClient = pick('orders', 'client');
    const paymentsServer = pick('payments', 'server');
    expect(spans).toHaveLength(3);
    expect(ordersServer.parentSpanId).toBeUndefined();
    expect(ordersClient.parentSpanId).toBe(ordersServer.spanId);
    expect(paymentsServer.parentSpanId).toBe(ordersClient.spanId);
    expect(paymentsServer.name).toBe('GET /charge/orders/:id');

    // The viewer's API shows the trace with both services.
    const listed = (await (await request(`${orders.adminUrl}/api/traces`)).body.json()) as unknown;
    expect(JSON.stringify(listed)).toContain(traceId);
    const one = await request(`${orders.adminUrl}/api/traces/${traceId}`);
    expect(one.statusCode).toBe(200);
    const text = await one.body.text();
    expect(text).toContain('"payments"');
    expect(text).toContain('"orders"');
  });

  it('the receiver counts what it accepted', async () => {
    const encoding = protocol === 'http/json' ? 'json' : 'protobuf';
    const metrics = await (await request(`${orders.adminUrl}/metrics`)).body.text();
    const line = metrics.split('\n').find((l) => l.startsWith('tracecar_otlp_received_spans_total') && l.includes(`encoding="${encoding}"`) && l.includes('result="accepted"'));
    expect(line, metrics).toBeDefined();
    expect(Number(line!.split(' ').pop())).toBeGreaterThanOrEqual(2);
  });
});
