import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';

/*
 * client → tracecar A → app A → (egress A, forward proxy) → tracecar B → app B → (egress B, named route)
 *        → tracecar C → app C
 * app A forwards only x-request-id; app B forwards only traceparent. Neither has tracing code.
 */
describe('one trace across three uninstrumented services', () => {
  let receiver: OtlpReceiver;
  let appA: Upstream, appB: Upstream, appC: Upstream;
  let A: RunningTracecar, B: RunningTracecar, C: RunningTracecar;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otlp = { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 50 };
    appC = await startUpstream((_req, res) => res.end('C done'));
    C = await startTracecar({ service: { name: 'svc-c' }, ingress: { target: appC.url }, export: otlp, admin: { listen: null } });

    let routeToC = '';
    appB = await startUpstream(async (req, res, seen) => {
      const r = await callOut(`${routeToC}/leaf/${seen.url.split('/').pop()}`, req.headers, { forward: ['traceparent'] });
      res.end(`B → ${r.status}`);
    });
    B = await startTracecar({ service: { name: 'svc-b' }, ingress: { target: appB.url }, egress: { routes: [{ name: 'svc-c', listen: '127.0.0.1:0', target: C.url }] }, export: otlp, admin: { listen: null } });
    routeToC = `http://127.0.0.1:${B.addresses.routes['svc-c'].port}`;

    let egressA = '';
    appA = await startUpstream(async (req, res, seen) => {
      const r = await callOut(`${B.url}/pay/${seen.url.split('/').pop()}`, req.headers, { proxy: egressA, forward: ['x-request-id'] });
      res.end(`A → ${r.status}`);
    });
    A = await startTracecar({ service: { name: 'svc-a' }, ingress: { target: appA.url }, egress: { listen: '127.0.0.1:0' }, export: otlp, admin: { listen: null } });
    egressA = `http://127.0.0.1:${A.addresses.egress!.port}`;
  });
  afterAll(async () => {
    await Promise.all([A.close(), B.close(), C.close()]);
    await Promise.all([appA.close(), appB.close(), appC.close(), receiver.close()]);
  });

  it('50 concurrent requests give exactly 50 traces of A.server → A.client → B.server → B.client → C.server', async () => {
    const N = 50;
    const responses = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await request(`${A.url}/orders/${i}`);
        const body = await res.body.text();
        return { status: res.statusCode, body, traceId: String(res.headers.traceresponse).split('-')[1] };
      }),
    );
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.body).toBe('A → 200');
    }
    const spans = await receiver.waitForSpans(N * 5, 20_000);
    expect(spans).toHaveLength(N * 5);
    const traces = new Map<string, ReceivedSpan[]>();
    for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
    expect(traces.size).toBe(N);
    expect(new Set(responses.map((r) => r.traceId))).toEqual(new Set(traces.keys()));

    for (const [, trace] of traces) {
      const pick = (service: string, kind: string) => {
        const found = trace.filter((s) => s.resource['service.name'] === service && s.kind === kind);
        expect(found, `${service} ${kind}`).toHaveLength(1);
        return found[0];
      };
      const aServer = pick('svc-a', 'server');
      const aClient = pick('svc-a', 'client');
      const bServer = pick('svc-b', 'server');
      const bClient = pick('svc-b', 'client');
      const cServer = pick('svc-c', 'server');
      expect(aServer.parentSpanId).toBe('');
      expect(aClient.parentSpanId).toBe(aServer.spanId);
      expect(bServer.parentSpanId).toBe(aClient.spanId);
      expect(bClient.parentSpanId).toBe(bServer.spanId);
      expect(cServer.parentSpanId).toBe(bClient.spanId);
      // How each hop was stitched, and no cross-talk: the request number travels down the chain.
      expect(aClient.attributes['tracecar.parent.source']).toBe('correlation-id');
      expect(bClient.attributes['tracecar.parent.source']).toBe('w3c');
      const n = String(aServer.attributes['url.path']).split('/').pop();
      expect(bServer.attributes['url.path']).toBe(`/pay/${n}`);
      expect(cServer.attributes['url.path']).toBe(`/leaf/${n}`);
      expect(aClient.attributes['peer.service']).toBe('127.0.0.1');
      expect(bClient.attributes['peer.service']).toBe('svc-c');
      // The correlation id follows the request into B (app A forwarded it) and C (stitched on B's egress).
      expect(bServer.attributes['tracecar.correlation_id']).toBe(aServer.attributes['tracecar.correlation_id']);
    }
  }, 60_000);
});
