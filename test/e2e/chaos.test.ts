import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import type { TracecarConfigInput } from '../../src/config/types.js';
import { waitFor } from '../helpers/wait.js';

describe('chaos end to end: faults a client can see, recorded on the span', () => {
  let app: Upstream | undefined;
  let tc: RunningTracecar | undefined;
  afterEach(async () => {
    await tc?.close();
    await app?.close();
    tc = app = undefined;
  });

  async function setup(chaos: TracecarConfigInput['chaos'], body: Buffer | string = 'app says hi') {
    app = await startUpstream((_req, res) => res.end(body));
    tc = await startTracecar({ ingress: { target: app.url }, chaos: { enabled: true, seed: 7, ...chaos } });
  }
  async function span(res: { headers: Record<string, unknown> }) {
    const traceId = String(res.headers.traceresponse).split('-')[1];
    return (await waitFor(() => tc!.tracecar.store.get(traceId), 3000, 'span'))![0];
  }

  it('delay: visible in the span duration and as an event; the response says what was injected', async () => {
    await setup({ rules: [{ match: { path: '/slow/**' }, side: 'ingress', delay: { distribution: 'fixed', value: 300, percent: 100 } }] });
    const t0 = performance.now();
    const res = await request(`${tc!.url}/slow/1`);
    await res.body.text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(String(res.headers['x-tracecar-chaos'])).toContain('delay=300ms');
    const s = await span(res);
    expect(s.endTime - s.startTime).toBeGreaterThanOrEqual(290);
    const e = s.events.find((ev) => ev.name === 'tracecar.chaos.delay')!;
    expect(e.attributes!['tracecar.chaos.delay.ms']).toBe(300);
    expect(await tc!.tracecar.metrics.registry.metrics()).toMatch(/tracecar_chaos_injected_total\{[^}]*kind="delay"[^}]*\} 1/);
  });

  it('abort: returns the status and body without calling the app', async () => {
    await setup({ rules: [{ match: { method: 'POST' }, side: 'ingress', abort: { status: 503, body: 'chaos says no', percent: 100 } }] });
    const res = await request(`${tc!.url}/checkout`, { method: 'POST', body: 'x' });
    expect(res.statusCode).toBe(503);
    expect(await res.body.text()).toBe('chaos says no');
    expect(app!.requests).toHaveLength(0);
    const s = await span(res);
    expect(s.status.code).toBe('error');
    expect(s.events.map((e) => e.name)).toContain('tracecar.chaos.abort');
    // Rules match: a GET passes untouched.
    const ok = await request(`${tc!.url}/checkout`);
    expect(ok.statusCode).toBe(200);
    await ok.body.text();
  });

  it('reset: the client sees its connection closed with no response', async () => {
    await setup({ rules: [{ match: { path: '/reset' }, side: 'ingress', reset: { percent: 100 } }] });
    await expect(request(`${tc!.url}/reset`)).rejects.toThrow(/other side closed|ECONNRESET|socket/i);
    await waitFor(() => tc!.tracecar.inflight === 0, 2000, 'request finished');
  });

  it('reset after N bytes: exactly N bytes reach the client, then the connection is cut', async () => {
    await setup({ rules: [{ match: { path: '/partial' }, side: 'ingress', reset: { percent: 100, afterBytes: 1000 } }] }, Buffer.alloc(64 * 1024, 1));
    const res = await request(`${tc!.url}/partial`);
    let got = 0;
    await expect(
      (async () => {
        for await (const c of res.body) got += (c as Buffer).length;
      })(),
    ).rejects.toThrow();
    expect(got).toBe(1000);
    // The span names the real cause, not the client abort the cut socket looks like.
    const s = await span(res);
    expect(s.status.code).toBe('error');
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_CHAOS_RESET');
  });

  it('throttle: the whole body arrives, never faster than the configured rate, and the span says so', async () => {
    const size = 96 * 1024;
    await setup({ rules: [{ match: { path: '/big' }, side: 'ingress', throttle: { bytesPerSecond: 256 * 1024, percent: 100 } }] }, Buffer.alloc(size, 2));
    const t0 = performance.now();
    const res = await request(`${tc!.url}/big`);
    const body = Buffer.from(await res.body.arrayBuffer());
    const seconds = (performance.now() - t0) / 1000;
    expect(body.equals(Buffer.alloc(size, 2))).toBe(true);
    // 96 KiB at 256 KiB/s takes at least 375 ms (the bucket starts empty). Only the upper bound on
    // the rate is checked here: a busy machine makes the transfer slower, never faster. The rate's
    // precision is checked on a fake clock in test/chaos/streams.test.ts.
    expect(size / seconds).toBeLessThan(256 * 1024 * 1.02);
    expect(String(res.headers['x-tracecar-chaos'])).toContain('throttle=256kib');
    const e = (await span(res)).events.find((ev) => ev.name === 'tracecar.chaos.throttle')!;
    expect(e.attributes!['tracecar.chaos.throttle.bytes_per_second']).toBe(256 * 1024);
  });

  it('per-request header trigger works only when chaos.allowHeader is true', async () => {
    await setup({ allowHeader: false, rules: [] });
    let res = await request(`${tc!.url}/h`, { headers: { 'x-tracecar-chaos': 'abort=418' } });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    await tc!.close();
    await app!.close();
    await setup({ allowHeader: true, rules: [] });
    res = await request(`${tc!.url}/h`, { headers: { 'x-tracecar-chaos': 'abort=418' } });
    expect(res.statusCode).toBe(418);
    await res.body.text();
  });

  it('trace-aware targeting: a baggage entry set at the edge selects the rule', async () => {
    await setup({ rules: [{ match: { baggage: { chaos: 'checkout-slow' } }, side: 'ingress', abort: { status: 502, percent: 100 } }] });
    const hit = await request(`${tc!.url}/any`, { headers: { baggage: 'userId=1,chaos=checkout-slow' } });
    expect(hit.statusCode).toBe(502);
    await hit.body.text();
    const miss = await request(`${tc!.url}/any`, { headers: { baggage: 'chaos=other' } });
    expect(miss.statusCode).toBe(200);
    await miss.body.text();
  });
});
