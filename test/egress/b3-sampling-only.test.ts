import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';
import { sleep, waitFor } from '../helpers/wait.js';

/*
 * A B3 sampling state or debug flag that arrives alone (`b3: d`, `b3: 0`, `X-B3-Flags: 1`,
 * `X-B3-Sampled: 0`) is kept on ingress (the app sees it) and on egress (the next service sees
 * it), also when the egress call has no parent it can be stitched to. The default ratio is 0 here,
 * so a sampled span can only come from the caller's decision.
 */
const B3_HEADERS = ['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'];

describe('B3 sampling state alone: kept on ingress and egress', () => {
  let backend: Upstream;
  let app: Upstream;
  let tc: RunningTracecar;
  let egress = '';
  /** What the app adds to its outgoing call on top of what it forwards (per test). */
  let appAdds: Record<string, string> = {};

  beforeAll(async () => {
    backend = await startUpstream((_req, res) => res.end('ok'));
    app = await startUpstream(async (req, res) => {
      // Forwards only x-request-id, plus whatever the test makes it add: no trace headers of its own.
      await callOut(`${backend.url}/next`, { ...req.headers, ...appAdds }, { proxy: egress, forward: ['x-request-id', ...Object.keys(appAdds)] });
      res.end('done');
    });
    tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0' }, sampling: { default: { ratio: 0 } } });
    egress = `http://127.0.0.1:${tc.addresses.egress!.port}`;
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
    await backend.close();
  });

  const b3Of = (headers: Record<string, unknown>) => Object.fromEntries(B3_HEADERS.filter((h) => headers[h] !== undefined).map((h) => [h, headers[h]]));
  const clientSpans = () => tc.tracecar.store.list().flatMap((t) => tc.tracecar.store.get(t.traceId) ?? []).filter((s) => s.kind === 'client');

  describe('ingress: the app receives the decision on the new trace', () => {
    it.each<[string, Record<string, string>, (seen: Record<string, unknown>) => void, string]>([
      ['b3: d', { b3: 'd' }, (seen) => expect(seen.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-d$/), '03'],
      ['b3: 0', { b3: '0' }, (seen) => expect(seen.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-0$/), '02'],
      ['X-B3-Flags: 1', { 'x-b3-flags': '1' }, (seen) => expect(b3Of(seen)).toEqual({ 'x-b3-traceid': expect.any(String), 'x-b3-spanid': expect.any(String), 'x-b3-flags': '1' }), '03'],
      ['X-B3-Sampled: 0', { 'x-b3-sampled': '0' }, (seen) => expect(b3Of(seen)).toEqual({ 'x-b3-traceid': expect.any(String), 'x-b3-spanid': expect.any(String), 'x-b3-sampled': '0' }), '02'],
    ])('%s', async (_name, headers, check, flags) => {
      appAdds = {};
      const res = await request(`${tc.url}/in`, { headers });
      await res.body.text();
      const seen = app.requests.at(-1)!.headers;
      check(seen);
      expect(String(seen.traceparent).slice(-2)).toBe(flags);
      expect(String(res.headers.traceresponse).slice(-2)).toBe(flags);
    });
  });

  describe('egress with no parent to stitch to: the next service receives the decision', () => {
    // The test is the app here: it calls the egress proxy directly, no ingress request in flight.
    async function callEgress(headers: Record<string, string>) {
      const before = clientSpans().length;
      const r = await callOut(`${backend.url}/direct`, headers, { proxy: egress, forward: Object.keys(headers) });
      expect(r.status).toBe(200);
      return { seen: backend.requests.at(-1)!.headers, before };
    }

    it('b3: d → b3 …-d, and the CLIENT span is recorded as a forced, marked new root', async () => {
      const { seen } = await callEgress({ b3: 'd' });
      expect(seen.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-d$/);
      expect(String(seen.traceparent).slice(-2)).toBe('03');
      const traceId = String(seen.b3).split('-')[0];
      const span = await waitFor(() => tc.tracecar.store.get(traceId)?.[0], 2000, 'client span');
      expect(span.kind).toBe('client');
      expect(span.attributes['tracecar.sampling.reason']).toBe('b3-debug');
      expect(span.attributes['tracecar.root']).toBe(true);
    });

    it('X-B3-Flags: 1 → X-B3-Flags: 1 (debug implies accept: no X-B3-Sampled)', async () => {
      const { seen } = await callEgress({ 'x-b3-flags': '1' });
      expect(b3Of(seen)).toEqual({ 'x-b3-traceid': expect.stringMatching(/^[0-9a-f]{32}$/), 'x-b3-spanid': expect.stringMatching(/^[0-9a-f]{16}$/), 'x-b3-flags': '1' });
      const span = await waitFor(() => tc.tracecar.store.get(String(seen['x-b3-traceid']))?.[0], 2000, 'client span');
      expect(span.attributes['tracecar.sampling.reason']).toBe('b3-debug');
    });

    it.each<[string, Record<string, string>, (seen: Record<string, unknown>) => void]>([
      ['b3: 0', { b3: '0' }, (seen) => expect(seen.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-0$/)],
      ['X-B3-Sampled: 0', { 'x-b3-sampled': '0' }, (seen) => expect(seen['x-b3-sampled']).toBe('0')],
    ])('%s → the deny decision goes on, and nothing is recorded', async (_name, headers, check) => {
      const { seen, before } = await callEgress(headers);
      check(seen);
      expect(seen['x-b3-flags']).toBeUndefined();
      expect(String(seen.traceparent).slice(-2)).toBe('02');
      await sleep(50);
      expect(clientSpans()).toHaveLength(before);
    });
  });

  it('egress stitched by correlation id: a debug flag the app adds on its call goes on too', async () => {
    appAdds = { b3: 'd' };
    const res = await request(`${tc.url}/stitched`, { headers: { 'x-request-id': 'stitch-me' } });
    await res.body.text();
    const ingressTrace = String(res.headers.traceresponse).split('-')[1];
    const seen = backend.requests.at(-1)!.headers;
    // Same trace as the ingress request (stitched by x-request-id), debug kept on the way out.
    expect(String(seen.b3)).toMatch(new RegExp(`^${ingressTrace}-[0-9a-f]{16}-d-[0-9a-f]{16}$`));
    expect(String(seen.traceparent).slice(-2)).toBe('03');
  });
});
