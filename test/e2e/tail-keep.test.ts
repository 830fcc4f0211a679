import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';

describe('tail keep: a 1% head ratio still exports every 5xx and every slow request', () => {
  let receiver: OtlpReceiver;
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    app = await startUpstream((req, res) => {
      if (req.url!.startsWith('/fail')) {
        res.statusCode = 503;
        return res.end('down');
      }
      if (req.url!.startsWith('/slow')) return setTimeout(() => res.end('slow'), 150);
      res.end('ok');
    });
    tc = await startTracecar({
      ingress: { target: app.url },
      sampling: { default: { ratio: 0.01 }, keep: { errors: true, slowerThan: 100 } },
      export: { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 50 },
    });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
    await receiver.close();
  });

  it('exports all failures and slow requests, marked with the reason, and few of the rest', async () => {
    const failures: Array<{ traceId: string; head: boolean }> = [];
    const slow: Array<{ traceId: string; head: boolean }> = [];
    const parse = (tr: unknown) => {
      const [, traceId, , flags] = String(tr).split('-');
      return { traceId, head: (parseInt(flags, 16) & 1) === 1 };
    };
    const ok: Array<{ traceId: string; head: boolean }> = [];
    for (let i = 0; i < 200; i++) {
      const res = await request(`${tc.url}/ok/${i}`);
      await res.body.text();
      ok.push(parse(res.headers.traceresponse));
    }
    for (let i = 0; i < 20; i++) {
      const res = await request(`${tc.url}/fail/${i}`);
      await res.body.text();
      failures.push(parse(res.headers.traceresponse));
    }
    for (let i = 0; i < 5; i++) {
      const res = await request(`${tc.url}/slow/${i}`);
      await res.body.text();
      slow.push(parse(res.headers.traceresponse));
    }
    await tc.tracecar.exporter!.forceFlush();
    const spans = receiver.spans();
    const byTrace = new Map(spans.map((s) => [s.traceId, s]));
    // Kept by the tail rule unless the head had already sampled them (ratio 1%).
    for (const [list, reason] of [[failures, 'error'], [slow, 'slow']] as const) {
      for (const t of list) {
        const s = byTrace.get(t.traceId);
        expect(s, `${reason} trace ${t.traceId}`).toBeDefined();
        // Kept by the tail rule, with the reason — unless the head had sampled it anyway.
        expect(s!.attributes['tracecar.sampling.kept']).toBe(t.head ? undefined : reason);
      }
    }
    // The ok requests: every head-sampled one leaves (expected 2 of 200 at 1%), unmarked. Any other
    // one leaves only if it was itself slower than 100 ms (a loaded machine makes some so), marked.
    const headSampled = ok.filter((t) => t.head);
    expect(headSampled.length).toBeLessThan(15);
    for (const t of headSampled) {
      const s = byTrace.get(t.traceId);
      expect(s, `head-sampled ${t.traceId}`).toBeDefined();
      expect(s!.attributes['tracecar.sampling.kept']).toBeUndefined();
    }
    for (const t of ok.filter((o) => !o.head)) {
      const s = byTrace.get(t.traceId);
      if (s === undefined) continue;
      expect(s.attributes['tracecar.sampling.kept'], `tail-kept ok ${t.traceId}`).toBe('slow');
      expect(Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6).toBeGreaterThanOrEqual(100);
    }
  }, 30_000);
});
