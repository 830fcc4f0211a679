import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TracecarError } from '../../src/errors.js';
import { traceLink } from '../../src/admin/server.js';
import { httpStatusOf, isErrorSpan } from '../../src/telemetry/store.js';
import type { ApiErrorBody, SummaryResponse, TraceResponse, TracesResponse } from '../../src/admin/api-types.js';
import { VIEWER_FILES } from '../../src/admin/handlers/viewer.js';
import { createTracecar } from '../../src/tracecar.js';
import { captureLogger, testConfig } from '../helpers/harness.js';
import { parseExposition } from '../helpers/admin-prom.js';
import { startTestAdmin, type TestAdmin } from '../helpers/admin-server.js';
import { proxySpan, topologyTrace } from '../helpers/admin-fixtures.js';
import { bodyOf } from '../helpers/admin-api.js';

describe('admin server', () => {
  let admin: TestAdmin | undefined;
  const extra: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
    for (const x of extra.splice(0)) await x.close();
  });

  it('listens on a free port with port 0 and reports its URL', async () => {
    admin = await startTestAdmin();
    expect(admin.port).toBeGreaterThan(0);
    expect(admin.url).toBe(`http://127.0.0.1:${admin.port}/`);
    expect(admin.server.address()).toEqual({ host: '127.0.0.1', port: admin.port, url: admin.url });
    expect(traceLink(admin.url, 'abc')).toBe(`${admin.url}#/trace/abc`);
  });

  it('rejects a busy port with TRC_ERR_LISTEN naming the address', async () => {
    const blocker: Server = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    extra.push({ close: () => new Promise((r) => blocker.close(r)) });
    const port = (blocker.address() as AddressInfo).port;
    // Bound like every listener, by tracecar's listen helper.
    const tracecar = createTracecar(testConfig({ ingress: { target: 'http://127.0.0.1:1' }, admin: { listen: `127.0.0.1:${port}` } }), {
      logger: captureLogger().logger,
    });
    const err = await tracecar.listen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TracecarError);
    expect((err as TracecarError).code).toBe('TRC_ERR_LISTEN');
    expect((err as TracecarError).message).toContain(`127.0.0.1:${port}`);
    expect((err as TracecarError).message).toMatch(/^admin .*in use/);
    expect((err as TracecarError).hint).toMatch(/--admin-port/);
    await tracecar.close();
  });

  it('/healthz answers ok; /readyz follows readiness and flips to 503 while draining', async () => {
    admin = await startTestAdmin();
    const health = await fetch(admin.url + 'healthz');
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');

    let r = await fetch(admin.url + 'readyz');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('ready\n');
    admin.readiness.ready = false;
    admin.readiness.reason = 'draining';
    r = await fetch(admin.url + 'readyz');
    expect(r.status).toBe(503);
    expect(await r.text()).toBe('not ready: draining\n');
    // HEAD works for probes too.
    expect((await fetch(admin.url + 'healthz', { method: 'HEAD' })).status).toBe(200);
  });

  it('/config renders the (already redacted) config as YAML, or JSON on request', async () => {
    const config = { service: { name: 'orders', version: '1.4.2' }, export: { otlp: { endpoint: 'http://c:4317', headers: { authorization: 'REDACTED' } } }, routes: [{ pattern: '/orders/:id' }] };
    admin = await startTestAdmin({ config: () => config });
    const res = await fetch(admin.url + 'config');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('authorization: REDACTED');
    expect(parseYaml(text)).toEqual(config);
    expect(await (await fetch(admin.url + 'config?format=json')).json()).toEqual(config);
  });

  it('/api/traces lists proxy spans with filters from query parameters', async () => {
    admin = await startTestAdmin();
    const base = Date.now() - 60_000;
    const ok = topologyTrace({ start: base, correlationId: 'req-ok' });
    const bad = topologyTrace({ start: base + 1000, fail: true, correlationId: 'req-bad' });
    const slow = topologyTrace({ start: base + 2000, slow: 700, correlationId: 'req-slow' });
    const old = proxySpan({ service: 'billing', route: '/invoices', start: Date.now() - 3_600_000, durationMs: 2 });
    for (const s of [old, ...ok, ...bad, ...slow]) admin.store.add(s);

    const q = async (query: string) => {
      const res = await fetch(admin!.url + 'api/traces' + query);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      return bodyOf<TracesResponse>(res);
    };
    const all = await q('');
    expect(all.traces.map((t) => t.correlationId)).toEqual(['req-slow', 'req-bad', 'req-ok', undefined]);
    expect(all.services).toEqual(['billing', 'frontend', 'orders', 'payments']);
    expect(all.stats.traces).toBe(4);

    const ids = async (query: string) => (await q(query)).traces.map((t) => t.traceId);
    expect(await ids('?status=error')).toEqual([bad[0].traceId]);
    expect(await ids('?errors=1')).toEqual([bad[0].traceId]);
    expect(await ids('?status=ok&service=payments')).toEqual([slow[0].traceId, ok[0].traceId]);
    expect(await ids('?route=%2Finvoices')).toEqual([old.traceId]);
    expect(await ids('?minDuration=500')).toEqual([slow[0].traceId]);
    expect(await ids('?minDuration=0.5s')).toEqual([slow[0].traceId]);
    expect(await ids('?minDuration=0.5S')).toEqual([slow[0].traceId]); // the config file's duration grammar
    expect(await ids('?maxDuration=5ms')).toEqual([old.traceId]);
    expect(await ids('?last=15m')).toEqual([slow[0].traceId, bad[0].traceId, ok[0].traceId]);
    expect(await ids(`?since=${base + 500}&until=${base + 1500}`)).toEqual([bad[0].traceId]);
    expect(await ids(`?since=${new Date(base + 1500).toISOString()}`)).toEqual([slow[0].traceId]);
    expect(await ids(`?traceId=${ok[0].traceId.slice(0, 10)}`)).toEqual([ok[0].traceId]);
    expect(await ids('?correlationId=req-bad')).toEqual([bad[0].traceId]);
    expect(await ids('?limit=1')).toEqual([slow[0].traceId]);

    for (const badQuery of ['?status=maybe', '?minDuration=fast', '?last=15%20m', '?limit=0', '?traceId=xyz', '?since=yesterday']) {
      const res = await fetch(admin.url + 'api/traces' + badQuery);
      expect(res.status, badQuery).toBe(400);
      expect((await bodyOf<ApiErrorBody>(res)).error).toBeTypeOf('string');
    }
  });

  it('/api/traces/:id returns the spans of one trace; 404 when unknown, 400 when malformed', async () => {
    admin = await startTestAdmin();
    const spans = topologyTrace({ fail: true });
    for (const s of spans) admin.store.add(s);
    const res = await fetch(`${admin.url}api/traces/${spans[0].traceId.toUpperCase()}`);
    expect(res.status).toBe(200);
    const body = await bodyOf<TraceResponse>(res);
    expect(body.traceId).toBe(spans[0].traceId);
    expect(body.spans).toHaveLength(6);
    // Each span as stored, plus the server's verdict: the viewer reads these, it does not re-derive them.
    expect(body.spans[0]).toEqual({ ...spans[0], error: true, statusCode: 502 });
    expect(body.spans.map((s) => [s.service, s.kind, s.statusCode, s.error])).toEqual(
      body.spans.map((s) => [s.service, s.kind, httpStatusOf(s), isErrorSpan(s)]),
    );
    expect(body.spans.filter((s) => !s.error).map((s) => s.name)).toEqual(['GET /inventory/:id']);
    // The same summary the list shows for it.
    expect(body.summary).toEqual((await bodyOf<TracesResponse>(await fetch(`${admin.url}api/traces?traceId=${spans[0].traceId}`))).traces[0]);
    expect(body.summary).toMatchObject({ rootName: 'POST /checkout', rootStatusCode: 502, error: true, errorCount: 5, spanCount: 6 });
    const payments = body.spans.find((s) => s.service === 'payments');
    expect(payments?.events.map((e) => e.name)).toEqual(['tracecar.chaos.delay', 'tracecar.chaos.abort']);

    const missing = await fetch(`${admin.url}api/traces/${'ab'.repeat(16)}`);
    expect(missing.status).toBe(404);
    expect((await bodyOf<ApiErrorBody>(missing)).error).toMatch(/not in the store/);
    expect((await fetch(`${admin.url}api/traces/not-an-id`)).status).toBe(400);
  });

  it('/api/summary returns percentiles per route, error patterns and the dependency graph', async () => {
    admin = await startTestAdmin();
    for (let i = 0; i < 10; i++) for (const s of topologyTrace({ slow: i })) admin.store.add(s);
    for (const s of topologyTrace({ fail: true })) admin.store.add(s);
    const sum = await bodyOf<SummaryResponse>(await fetch(admin.url + 'api/summary'));
    expect(sum.routes.map((r) => `${r.service} ${r.name}`).sort()).toEqual([
      'frontend POST /checkout',
      'orders GET /orders/:id',
      'payments POST /payments',
    ]);
    expect(sum.routes[0]).toMatchObject({ service: 'frontend', count: 11, errors: 1 });
    expect(sum.routes[0].p50).toBeLessThanOrEqual(sum.routes[0].p95);
    expect(sum.routes[0].p95).toBeLessThanOrEqual(sum.routes[0].p99);
    expect(sum.errors.find((e) => e.service === 'payments')).toMatchObject({ statusCode: 503, cause: 'TRC_ERR_CHAOS_ABORT', count: 1 });
    expect(sum.dependencies.edges).toEqual(
      expect.arrayContaining([
        { from: 'frontend', to: 'orders', calls: 11, errors: 1 },
        { from: 'orders', to: 'payments', calls: 11, errors: 1 },
        { from: 'orders', to: 'inventory.internal', calls: 11, errors: 0 },
      ]),
    );
    expect(sum.stats.traces).toBe(11);
  });

  it('/api/info names the service', async () => {
    admin = await startTestAdmin({ serviceName: 'orders' });
    expect(await (await fetch(admin.url + 'api/info')).json()).toMatchObject({ service: 'orders', receiveOtlp: true, store: { traces: 0 } });
  });

  it('serves the viewer with a strict CSP, and a plain index when the viewer is off', async () => {
    admin = await startTestAdmin();
    const page = await fetch(admin.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    // No external fetches: every src/href is relative or a fragment.
    for (const m of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(m[1]).not.toMatch(/^(https?:)?\/\//);
    const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, svg: /^image\/svg\+xml/, html: /^text\/html/ };
    for (const asset of VIEWER_FILES) {
      const res = await fetch(admin.url + asset);
      expect(res.status, asset).toBe(200);
      // Module scripts only run when served as JavaScript.
      expect(res.headers.get('content-type'), asset).toMatch(types[asset.split('.').pop()!]);
      expect(res.headers.get('x-content-type-options'), asset).toBe('nosniff');
      const text = await res.text();
      expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect((await fetch(admin.url + 'nope.js')).status).toBe(404);
    expect((await fetch(admin.url + '..%2Fhandlers%2Fviewer.js')).status).toBe(404);
    await admin.close();

    admin = await startTestAdmin({ viewer: false });
    const index = await fetch(admin.url);
    expect(index.status).toBe(200);
    expect(await index.text()).toMatch(/viewer is off/);
    expect((await fetch(admin.url + 'app.js')).status).toBe(404);
  });

  it('serves exactly the viewer files: every file of src/admin/viewer, every module import, nothing else', () => {
    const dir = new URL('../../src/admin/viewer/', import.meta.url);
    expect([...VIEWER_FILES].sort()).toEqual(readdirSync(dir).sort());
    for (const file of VIEWER_FILES.filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      expect(source.startsWith('// @ts-check\n'), `${file} is type-checked`).toBe(true);
      for (const m of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        expect(m[1], `${file} imports ${m[1]}`).toMatch(/^\.\/[\w-]+\.js$/);
        expect(VIEWER_FILES, `${file} imports ${m[1]}`).toContain(m[1].slice(2));
      }
    }
  });

  it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    admin = await startTestAdmin();
    expect((await fetch(admin.url + 'nope')).status).toBe(404);
    const api404 = await fetch(admin.url + 'api/nope');
    expect(api404.status).toBe(404);
    expect(await api404.json()).toEqual({ error: 'not found' });
    const res = await fetch(admin.url + 'healthz', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('exposes store size in /metrics', async () => {
    admin = await startTestAdmin();
    for (const s of topologyTrace()) admin.store.add(s);
    const m = parseExposition(await (await fetch(admin.url + 'metrics')).text());
    expect(m.value('tracecar_store_traces')).toBe(1);
    expect(m.value('tracecar_store_spans')).toBe(6);
    expect(m.value('tracecar_store_bytes')).toBeGreaterThan(0);
  });

  it('close() resolves promptly with an idle keep-alive connection open', async () => {
    admin = await startTestAdmin();
    const agentRes = await new Promise<number>((resolve, reject) => {
      const req = request(admin!.url + 'healthz', { headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(agentRes).toBe(200);
    // close() has a 1 s fallback that cuts every connection; freeze it (fake setTimeout) so close()
    // can only resolve by releasing the idle connection at once. The race uses the real clock.
    const realSetTimeout = globalThis.setTimeout;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stuck = new Promise<string>((resolve) => realSetTimeout(() => resolve('still waiting for the idle connection'), 10_000));
      expect(await Promise.race([admin.close().then(() => 'closed'), stuck])).toBe('closed');
    } finally {
      vi.useRealTimers();
    }
    admin = undefined;
  });
});
