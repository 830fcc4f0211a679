import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { waitFor } from '../helpers/wait.js';

/** An app that forwards nothing at all on its outgoing call. */
describe('egress.inferParent: when-unambiguous', () => {
  let backend: Upstream | undefined;
  let app: Upstream | undefined;
  let tc: RunningTracecar | undefined;
  afterEach(async () => {
    await tc?.close();
    await app?.close();
    await backend?.close();
    tc = app = backend = undefined;
  });

  async function setup(inferParent: 'off' | 'when-unambiguous', beforeCall: () => Promise<void> = async () => {}) {
    backend = await startUpstream((_req, res) => res.end('backend'));
    let egress = '';
    app = await startUpstream(async (req, res) => {
      await beforeCall();
      const r = await callOut(`${backend!.url}/inventory`, req.headers, { proxy: egress, forward: [] });
      res.end(`app → ${r.status}`);
    });
    tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0', inferParent } });
    egress = `http://127.0.0.1:${tc.addresses.egress!.port}`;
  }

  function clientSpans(): SpanRecord[] {
    return tc!.tracecar.store
      .list({ limit: 1000 })
      .flatMap((t) => tc!.tracecar.store.get(t.traceId) ?? [])
      .filter((s) => s.kind === 'client');
  }

  it('one request at a time: CLIENT spans are parented and marked inferred', async () => {
    await setup('when-unambiguous');
    const serverSpans: Array<{ traceId: string; spanId: string }> = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(`${tc!.url}/one-at-a-time/${i}`);
      expect(await res.body.text()).toBe('app → 200');
      const [, traceId, spanId] = String(res.headers.traceresponse).split('-');
      serverSpans.push({ traceId, spanId });
    }
    await waitFor(() => clientSpans().length === 5, 3000, '5 client spans');
    for (const server of serverSpans) {
      const client = tc!.tracecar.store.get(server.traceId)!.find((s) => s.kind === 'client')!;
      expect(client.parentSpanId).toBe(server.spanId);
      expect(client.attributes['tracecar.parent.inferred']).toBe(true);
      expect(client.attributes['tracecar.parent.source']).toBe('inferred');
    }
  });

  it('two requests in flight: refuses to guess — new roots, marked, never a wrong parent', async () => {
    let arrived = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((r) => (release = r));
    await setup('when-unambiguous', async () => {
      if (++arrived === 2) release();
      await bothIn;
    });
    const [r1, r2] = await Promise.all([request(`${tc!.url}/concurrent/1`), request(`${tc!.url}/concurrent/2`)]);
    await r1.body.text();
    await r2.body.text();
    const serverTraces = [r1, r2].map((r) => String(r.headers.traceresponse).split('-')[1]);
    const clients = await waitFor(() => (clientSpans().length === 2 ? clientSpans() : undefined), 3000, '2 client spans');
    for (const c of clients) {
      expect(c.parentSpanId).toBeUndefined();
      expect(serverTraces).not.toContain(c.traceId);
      expect(c.attributes['tracecar.root']).toBe(true);
      expect(c.attributes['tracecar.parent.ambiguous']).toBe(true);
      expect(c.attributes['tracecar.parent.inferred']).toBeUndefined();
    }
  });

  it('inference off: a header-less call is a new root even with one request in flight', async () => {
    await setup('off');
    const res = await request(`${tc!.url}/no-infer`);
    await res.body.text();
    const [client] = await waitFor(() => (clientSpans().length === 1 ? clientSpans() : undefined), 3000, 'client span');
    expect(client.parentSpanId).toBeUndefined();
    expect(client.attributes['tracecar.root']).toBe(true);
  });
});
