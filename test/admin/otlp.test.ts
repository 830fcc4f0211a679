import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition } from '../helpers/admin-prom.js';
import { startTestAdmin, type TestAdmin } from '../helpers/admin-server.js';
import type { TraceResponse, TracesResponse } from '../../src/admin/api-types.js';
import { bodyOf, type OtlpJsonResponse, type RpcStatusBody } from '../helpers/admin-api.js';
import { emitAppTrace, jsonExporter, protobufExporter } from '../helpers/admin-otlp.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../helpers/otlp-proto.js';


describe('OTLP/HTTP receiver (POST /v1/traces)', () => {
  let admin: TestAdmin | undefined;
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function checkStored(a: TestAdmin, emitted: { traceId: string; serverSpanId: string; clientSpanId: string }, service: string): Promise<void> {
    const res = await fetch(`${a.url}api/traces/${emitted.traceId}`);
    expect(res.status).toBe(200);
    const { spans } = await bodyOf<TraceResponse>(res);
    expect(spans).toHaveLength(2);
    const server = spans.find((s) => s.spanId === emitted.serverSpanId)!;
    const client = spans.find((s) => s.spanId === emitted.clientSpanId)!;
    expect(server).toMatchObject({ name: 'GET /cart/:id', kind: 'server', service, scope: 'test-app', resource: { 'service.version': '3.1.0' } });
    expect(server.parentSpanId).toBeUndefined();
    expect(server.attributes['http.request.header.x-request-id']).toEqual(['req-otlp']);
    expect(server.endTime).toBeGreaterThanOrEqual(server.startTime);
    expect(Math.abs(server.startTime - Date.now())).toBeLessThan(60_000);
    expect(client).toMatchObject({ name: 'POST /payments', kind: 'client', parentSpanId: emitted.serverSpanId, service });
    expect(client.attributes).toMatchObject({ 'server.address': 'payments', 'server.port': 8080 });
    expect(client.events).toEqual([expect.objectContaining({ name: 'retry', attributes: { attempt: 2 } })]);

    const list = await bodyOf<TracesResponse>(await fetch(`${a.url}api/traces?correlationId=req-otlp`));
    expect(list.traces.map((t) => t.traceId)).toContain(emitted.traceId);
  }

  it('stores spans from the real OTLP/HTTP JSON exporter', async () => {
    admin = await startTestAdmin();
    const emitted = await emitAppTrace(jsonExporter(admin.url + 'v1/traces'), { service: 'cart' });
    await checkStored(admin, emitted, 'cart');
  });

  it('stores spans from a real OTLP/HTTP protobuf exporter, plain and gzip', async () => {
    admin = await startTestAdmin();
    const plain = await emitAppTrace(protobufExporter(admin.url + 'v1/traces'), { service: 'cart-pb' });
    await checkStored(admin, plain, 'cart-pb');
    const gz = await emitAppTrace(protobufExporter(admin.url + 'v1/traces', 'gzip'), { service: 'cart-gz', fail: true });
    await checkStored(admin, gz, 'cart-gz');

    const [failed] = admin.store.list({ status: 'error' });
    expect(failed.traceId).toBe(gz.traceId);
    const summary = admin.store.summary();
    expect(summary.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ service: 'cart-gz', route: 'POST /payments', kind: 'client', statusCode: 503, cause: '503' })]),
    );
    expect(summary.dependencies.edges).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'cart-pb', to: 'payments', calls: 1 })]));

    const m = parseExposition(await (await fetch(admin.url + 'metrics')).text());
    expect(m.value('tracecar_otlp_received_spans_total', { encoding: 'protobuf', result: 'accepted' })).toBe(4);
    expect(m.value('tracecar_store_traces')).toBe(2);
  });

  it('stores spans exported by a separate instrumented process', async () => {
    admin = await startTestAdmin();
    const { stdout } = await promisify(execFile)(process.execPath, ['test/helpers/admin-otlp-app.mjs'], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: admin.url + 'v1/traces', OTEL_SERVICE_NAME: 'child-app' },
      timeout: 20_000,
    });
    const traceId = stdout.trim();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const { spans } = await bodyOf<TraceResponse>(await fetch(`${admin.url}api/traces/${traceId}`));
    expect(spans.map((s) => `${s.service} ${s.name}`).sort()).toEqual(['child-app GET /db', 'child-app GET /health/deep']);
  });

  it('accepts a hand-built OTLP/JSON body (hex ids, lowerCamelCase, string int64) and answers an ExportTraceServiceResponse', async () => {
    admin = await startTestAdmin();
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'inventory' } }] },
          scopeSpans: [
            {
              scope: { name: 'manual' },
              spans: [
                {
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'EEE19B7EC3C1B174',
                  parentSpanId: '',
                  name: 'GET /stock/:sku',
                  kind: 2,
                  startTimeUnixNano: '1544712660000000000',
                  endTimeUnixNano: '1544712661000000000',
                  attributes: [
                    { key: 'http.response.status_code', value: { intValue: '500' } },
                    { key: 'tracecar.correlation_id', value: { stringValue: 'corr-json' } },
                    { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
                  ],
                  events: [{ timeUnixNano: '1544712660500000000', name: 'tracecar.chaos.delay', attributes: [{ key: 'tracecar.chaos.delay_ms', value: { doubleValue: 500 } }] }],
                  status: { code: 2, message: 'out of stock backend down' },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(admin.url + 'v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({});

    const { spans } = await bodyOf<TraceResponse>(await fetch(`${admin.url}api/traces/5b8efff798038103d269b633813fc60c`));
    expect(spans).toEqual([
      expect.objectContaining({
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        name: 'GET /stock/:sku',
        kind: 'server',
        service: 'inventory',
        startTime: 1544712660000,
        endTime: 1544712661000,
        attributes: { 'http.response.status_code': 500, 'tracecar.correlation_id': 'corr-json', tags: ['a', 'b'] },
        events: [{ name: 'tracecar.chaos.delay', time: 1544712660500, attributes: { 'tracecar.chaos.delay_ms': 500 } }],
        status: { code: 'error', message: 'out of stock backend down' },
      }),
    ]);
    expect(spans[0].parentSpanId).toBeUndefined();
    const list = await bodyOf<TracesResponse>(await fetch(`${admin.url}api/traces?correlationId=corr-json&status=error`));
    expect(list.traces).toHaveLength(1);
    expect(list.traces[0]).toMatchObject({ rootService: 'inventory', durationMs: 1000, error: true, correlationId: 'corr-json' });
  });

  it('reports rejected spans as partial success in the request encoding', async () => {
    admin = await startTestAdmin();
    const json = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: '00000000000000000000000000000000', spanId: 'eee19b7ec3c1b174', name: 'bad', startTimeUnixNano: '1', endTimeUnixNano: '2' },
                { traceId: '5b8efff798038103d269b633813fc60d', spanId: 'xyz', name: 'bad too' },
                { traceId: '5b8efff798038103d269b633813fc60d', spanId: 'eee19b7ec3c1b175', name: 'good', startTimeUnixNano: '1', endTimeUnixNano: '2' },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(admin.url + 'v1/traces', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(json) });
    expect(res.status).toBe(200);
    const answer = await bodyOf<OtlpJsonResponse>(res);
    expect(answer.partialSuccess?.rejectedSpans).toBe('2');
    expect(answer.partialSuccess?.errorMessage).toMatch(/trace_id/);
    const [t] = admin.store.list();
    expect(t).toMatchObject({ rootName: 'good', rootService: 'unknown_service' });

    const pb = ExportTraceServiceRequest.encode({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(4, 1), name: 'short span id' }] }] }],
    }).finish();
    const pbRes = await fetch(admin.url + 'v1/traces', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: pb });
    expect(pbRes.status).toBe(200);
    expect(pbRes.headers.get('content-type')).toBe('application/x-protobuf');
    const decoded = ExportTraceServiceResponse.decode(new Uint8Array(await pbRes.arrayBuffer()));
    expect(Number(decoded.partialSuccess?.rejectedSpans)).toBe(1);
    expect(decoded.partialSuccess?.errorMessage).toMatch(/span_id/);

    const m = parseExposition(await (await fetch(admin.url + 'metrics')).text());
    expect(m.value('tracecar_otlp_received_spans_total', { encoding: 'json', result: 'rejected' })).toBe(2);
    expect(m.value('tracecar_otlp_received_spans_total', { encoding: 'json', result: 'accepted' })).toBe(1);
  });

  it('answers 415 for other content types, 400 with a Status for undecodable bodies, 413 over the size limit', async () => {
    admin = await startTestAdmin({ maxOtlpBodyBytes: 4096 });
    const post = (body: NonNullable<RequestInit['body']>, headers: Record<string, string>) => fetch(admin!.url + 'v1/traces', { method: 'POST', headers, body });

    const r415 = await post('hello', { 'content-type': 'text/plain' });
    expect(r415.status).toBe(415);
    expect(await r415.text()).toMatch(/application\/x-protobuf or application\/json/);
    expect((await post('{}', {})).status).toBe(415);

    const badJson = await post('{not json', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 3, message: expect.stringMatching(/invalid OTLP JSON/) });

    const badPb = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(badPb.status).toBe(400);
    expect(badPb.headers.get('content-type')).toBe('application/x-protobuf');
    const status = new Uint8Array(await badPb.arrayBuffer());
    expect(status[0]).toBe(0x08); // google.rpc.Status field 1 (code), varint
    expect(status[1]).toBe(3);

    const big = JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(10_000) });
    const r413 = await post(big, { 'content-type': 'application/json' });
    expect(r413.status).toBe(413);
    expect((await bodyOf<RpcStatusBody>(r413)).message).toMatch(/4096 byte limit/);

    // The limit applies after decompression too (a small gzip bomb).
    const bomb = gzipSync(Buffer.from(JSON.stringify({ resourceSpans: [], pad: ' '.repeat(100_000) })));
    expect(bomb.length).toBeLessThan(4096);
    const r413gz = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r413gz.status).toBe(413);

    const r415enc = await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(r415enc.status).toBe(415);

    expect((await fetch(admin.url + 'v1/traces')).status).toBe(405);
    expect(admin.store.stats().traces).toBe(0);
  });

  it('is off (404) when receiveOtlp is false', async () => {
    admin = await startTestAdmin({ receiveOtlp: false });
    const res = await fetch(admin.url + 'v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/receiveOtlp/);
  });
});
