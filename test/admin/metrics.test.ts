import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, register as globalRegistry } from 'prom-client';
import { createMetrics, MAX_ROUTES, statusClass } from '../../src/admin/metrics.js';
import { knownMethod } from '../../src/telemetry/http-method.js';
import { parseExposition } from '../helpers/admin-prom.js';
import { startTestAdmin, type TestAdmin } from '../helpers/admin-server.js';

describe('metrics', () => {
  let admin: TestAdmin | undefined;
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  it('maps status codes to classes and methods to bounded labels', () => {
    expect([200, 204, 301, 404, 499, 503, 0, -1, 700].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', 'error', 'error', 'error']);
  });

  it('labels methods with the spans\' rule: well-known ones (QUERY included) upper case, others _OTHER', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const method of ['get', 'QUERY', 'BREW', 'purge']) metrics.requestFinished('ingress', 'r', method, 200, 1);
    const m = parseExposition(await metrics.render());
    const count = (method: string) => m.value('tracecar_requests_total', { side: 'ingress', route: 'r', method, status_class: '2xx' });
    expect([count('GET'), count('QUERY'), count('_OTHER')]).toEqual([1, 1, 2]);
  });

  it('records requests, in-flight, chaos, reloads, lost propagation and export stats; /metrics serves them', async () => {
    const metrics = createMetrics();
    admin = await startTestAdmin({ metrics });
    metrics.exportStats(() => ({
      exported: 41,
      dropped: 2,
      droppedByReason: { queue_full: 1, retries_exhausted: 1, non_retryable: 0, rejected: 0, shutdown: 0, invalid: 0 },
      droppedQueueFull: 1,
      retried: 7,
      queued: 5,
      queuedBytes: 3000,
      failedExports: 1,
    }));

    metrics.requestStarted('ingress', 'GET /orders/:id');
    metrics.requestStarted('ingress', 'GET /orders/:id');
    metrics.requestStarted('egress', 'POST /payments');
    metrics.requestFinished('ingress', 'GET /orders/:id', 'get', 200, 12);
    metrics.requestFinished('egress', 'POST /payments', 'POST', 503, 250);
    metrics.requestStarted('ingress', 'GET /orders/:id');
    metrics.requestFinished('ingress', 'GET /orders/:id', 'GET', 0, 3000);
    metrics.chaosInjected('delay', 'egress');
    metrics.chaosInjected('delay', 'egress');
    metrics.chaosInjected('abort', 'ingress');
    metrics.configReload(true);
    metrics.configReload(false);
    metrics.configReload(true);
    metrics.propagationLost('POST /payments');

    const res = await fetch(admin.url + 'metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseExposition(await res.text());

    // Every metric is tracecar_-prefixed, including the default process metrics.
    expect(m.samples.length).toBeGreaterThan(20);
    expect(m.samples.every((s) => s.name.startsWith('tracecar_'))).toBe(true);
    expect(m.find('tracecar_process_cpu_user_seconds_total')).toHaveLength(1);
    expect(m.find('tracecar_nodejs_heap_size_used_bytes')).toHaveLength(1);

    expect(m.types.get('tracecar_requests_total')).toBe('counter');
    expect(m.value('tracecar_requests_total', { side: 'ingress', route: 'GET /orders/:id', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(m.value('tracecar_requests_total', { side: 'ingress', status_class: 'error' })).toBe(1);
    expect(m.value('tracecar_requests_total', { side: 'egress', route: 'POST /payments', method: 'POST', status_class: '5xx' })).toBe(1);
    expect(m.value('tracecar_requests_total')).toBe(3);

    expect(m.types.get('tracecar_request_duration_seconds')).toBe('histogram');
    const eg = { side: 'egress', route: 'POST /payments', method: 'POST', status_class: '5xx' };
    expect(m.value('tracecar_request_duration_seconds_count', eg)).toBe(1);
    expect(m.value('tracecar_request_duration_seconds_sum', eg)).toBeCloseTo(0.25);
    expect(m.value('tracecar_request_duration_seconds_bucket', { ...eg, le: '0.1' })).toBe(0);
    expect(m.value('tracecar_request_duration_seconds_bucket', { ...eg, le: '0.25' })).toBe(1);
    expect(m.value('tracecar_request_duration_seconds_bucket', { ...eg, le: '+Inf' })).toBe(1);
    expect(m.value('tracecar_request_duration_seconds_bucket', { side: 'ingress', status_class: 'error', le: '2.5' })).toBe(0);
    expect(m.value('tracecar_request_duration_seconds_bucket', { side: 'ingress', status_class: 'error', le: '5' })).toBe(1);

    expect(m.types.get('tracecar_requests_in_flight')).toBe('gauge');
    expect(m.value('tracecar_requests_in_flight', { side: 'ingress', route: 'GET /orders/:id' })).toBe(1);
    expect(m.value('tracecar_requests_in_flight', { side: 'egress' })).toBe(0);

    expect(m.value('tracecar_chaos_injected_total', { kind: 'delay', side: 'egress' })).toBe(2);
    expect(m.value('tracecar_chaos_injected_total', { kind: 'abort', side: 'ingress' })).toBe(1);
    expect(m.value('tracecar_config_reloads_total', { result: 'ok' })).toBe(2);
    expect(m.value('tracecar_config_reloads_total', { result: 'failed' })).toBe(1);
    expect(m.value('tracecar_propagation_lost_total', { route: 'POST /payments' })).toBe(1);

    expect(m.types.get('tracecar_spans_exported_total')).toBe('counter');
    expect(m.value('tracecar_spans_exported_total')).toBe(41);
    expect(m.value('tracecar_spans_dropped_total')).toBe(2);
    expect(m.value('tracecar_spans_dropped_total', { reason: 'queue_full' })).toBe(1);
    expect(m.value('tracecar_spans_dropped_total', { reason: 'retries_exhausted' })).toBe(1);
    // Every reason has a series, zero or not, so a dashboard can rate() it from the start.
    expect(m.find('tracecar_spans_dropped_total').map((x) => x.labels.reason).sort()).toEqual(
      ['invalid', 'non_retryable', 'queue_full', 'rejected', 'retries_exhausted', 'shutdown'],
    );
    expect(m.value('tracecar_spans_retried_total')).toBe(7);
    expect(m.types.get('tracecar_spans_queued')).toBe('gauge');
    expect(m.value('tracecar_spans_queued')).toBe(5);
    expect(m.value('tracecar_spans_queued_bytes')).toBe(3000);
    expect(m.value('tracecar_export_failures_total')).toBe(1);
    expect(m.value('tracecar_store_traces')).toBe(0);
  });

  it('reads export stats at scrape time', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let exported = 0;
    metrics.exportStats(() => ({
      exported,
      dropped: 0,
      droppedByReason: { queue_full: 0, retries_exhausted: 0, non_retryable: 0, rejected: 0, shutdown: 0, invalid: 0 },
      droppedQueueFull: 0,
      retried: 0,
      queued: 0,
      queuedBytes: 0,
      failedExports: 0,
    }));
    exported = 10;
    expect(parseExposition(await metrics.render()).value('tracecar_spans_exported_total')).toBe(10);
    exported = 25;
    expect(parseExposition(await metrics.render()).value('tracecar_spans_exported_total')).toBe(25);
    metrics.exportStats(() => {
      throw new Error('exporter gone');
    });
    // A failing source does not break the scrape.
    expect(parseExposition(await metrics.render()).find('tracecar_requests_total')).toHaveLength(0);
  });

  it('uses its own registry, so two instances do not collide and the global registry stays empty', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.requestFinished('ingress', 'GET /a', 'GET', 200, 1);
    expect(parseExposition(await b.render()).value('tracecar_requests_total')).toBe(0);
    expect(parseExposition(await a.render()).value('tracecar_requests_total')).toBe(1);
    expect((await globalRegistry.metrics()).includes('tracecar_')).toBe(false);
  });

  it('caps route label cardinality', async () => {
    const metrics = createMetrics({ defaultMetrics: false, maxRoutes: 3 });
    for (let i = 0; i < 10; i++) metrics.requestFinished('ingress', `GET /items/${i}`, 'GET', 200, 1);
    const m = parseExposition(await metrics.render());
    const routes = new Set(m.find('tracecar_requests_total').map((s) => s.labels.route));
    expect(routes).toEqual(new Set(['GET /items/0', 'GET /items/1', 'GET /items/2', 'other']));
    expect(m.value('tracecar_requests_total', { route: 'other' })).toBe(7);
  });

  it('exposes the request metrics exactly as prom-client recording them itself would (order, labels, buckets, sums)', async () => {
    // The reference: the recording tracecar used to do, one prom-client call per event.
    const registry = new Registry();
    const labelNames = ['side', 'route', 'method', 'status_class'] as const;
    const requests = new Counter({ name: 'tracecar_requests_total', help: 'Requests proxied, by side, route, method and status class ("error" = no response).', labelNames, registers: [registry] });
    const duration = new Histogram({
      name: 'tracecar_request_duration_seconds',
      help: 'Time from request received to response finished, by side, route, method and status class.',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    const inFlight = new Gauge({ name: 'tracecar_requests_in_flight', help: 'Requests currently being proxied, by side and route.', labelNames: ['side', 'route'] as const, registers: [registry] });
    const routes = new Set<string>();
    const routeLabel = (r: string) => (routes.has(r) ? r : routes.size >= MAX_ROUTES ? 'other' : (routes.add(r), r));

    const metrics = createMetrics({ defaultMetrics: false });
    // A seeded mix: routes past the cardinality cap, both sides, unknown methods, every status
    // class, durations on bucket bounds, past the last bound and negative; requests left in flight.
    let seed = 9;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const durations = [0, 0.4, 1, 2.5, 7, 10, 99.9, 250, 1000, 60_000, 61_000, -5, 0.1 + 0.2];
    const statuses = [200, 201, 204, 302, 404, 499, 500, 503, 0, 101, 700];
    const methods = ['GET', 'get', 'POST', 'BREW', 'DELETE', 'QUERY'];
    const open: Array<[('ingress' | 'egress'), string]> = [];
    for (let i = 0; i < 3000; i++) {
      if (open.length === 0 || rand(3) > 0) {
        const side = rand(4) === 0 ? 'egress' : 'ingress';
        const route = `GET /r/${rand(MAX_ROUTES + 40)}`;
        metrics.requestStarted(side, route);
        inFlight.inc({ side, route: routeLabel(route) });
        open.push([side, route]);
      } else {
        const [side, route] = open.splice(rand(open.length), 1)[0];
        const method = methods[rand(methods.length)];
        const status = statuses[rand(statuses.length)];
        const ms = durations[rand(durations.length)] + rand(1000) / 7;
        metrics.requestFinished(side, route, method, status, ms);
        const r = routeLabel(route);
        const labels = { side, route: r, method: knownMethod(method), status_class: statusClass(status) };
        requests.inc(labels);
        duration.observe(labels, Math.max(0, ms) / 1000);
        inFlight.dec({ side, route: r });
      }
    }
    expect(open.length).toBeGreaterThan(0);
    const ours = await metrics.render();
    const reference = await registry.metrics();
    const section = (text: string, name: string) => text.split('\n# HELP ').find((b) => b.replace(/^# HELP /, '').startsWith(`${name} `));
    for (const name of ['tracecar_requests_total', 'tracecar_request_duration_seconds', 'tracecar_requests_in_flight']) {
      expect(section(ours, name)).toBeDefined();
      expect(section(ours, name)).toBe(section(reference, name));
    }
    // A second scrape is the same (collect rebuilds, it does not add).
    expect(await metrics.render()).toBe(ours);
  });
});
