import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';
import { sleep, waitFor } from '../helpers/wait.js';

describe('propagation doctor: says once per route when the app drops or mangles context', () => {
  let backend: Upstream | undefined;
  let app: Upstream | undefined;
  let tc: RunningTracecar | undefined;
  afterEach(async () => {
    await tc?.close();
    await app?.close();
    await backend?.close();
    tc = app = backend = undefined;
  });

  async function setup(outgoingHeaders: (incoming: Record<string, unknown>) => string[] | 'mangle', mangled = () => `app-${Math.random()}`) {
    backend = await startUpstream((_req, res) => res.end('ok'));
    let egress = '';
    app = await startUpstream(async (req, res) => {
      const mode = outgoingHeaders(req.headers);
      const headers = mode === 'mangle' ? { ...req.headers, 'x-request-id': mangled() } : req.headers;
      await callOut(`${backend!.url}/downstream`, headers, { proxy: egress, forward: mode === 'mangle' ? ['x-request-id'] : mode });
      res.end('done');
    });
    tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0' } });
    egress = `http://127.0.0.1:${tc.addresses.egress!.port}`;
  }

  const warnings = () => tc!.log.lines.filter((l) => String(l.msg).startsWith('propagation doctor'));

  it('app forwards only x-request-id: hint names traceparent, once per route; event on every span; counter counts', async () => {
    await setup(() => ['x-request-id']);
    const traces: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(`${tc!.url}/orders/${i}`, { headers: { traceparent: `00-${'ab'.repeat(16)}-${'0'.repeat(15)}${i + 1}-01` } });
      await res.body.text();
      traces.push(String(res.headers.traceresponse).split('-')[1]);
    }
    await waitFor(() => warnings().length >= 1, 2000, 'doctor warning');
    expect(warnings()).toHaveLength(1);
    expect(String(warnings()[0].msg)).toContain('traceparent');
    expect(warnings()[0].route).toBe('GET /orders/:id');
    const client = tc!.tracecar.store.get(traces[2])!.find((s) => s.kind === 'client')!;
    const event = client.events.find((e) => e.name === 'tracecar.propagation.lost')!;
    expect(event.attributes!['tracecar.propagation.missing']).toBe('traceparent');
    const text = await tc!.tracecar.metrics.registry.metrics();
    expect(text).toMatch(/tracecar_propagation_lost_total\{route="GET \/orders\/:id"\} 3/);
  });

  it('app rewrites x-request-id while a request is in flight: hint names the correlation header', async () => {
    await setup(() => 'mangle');
    const res = await request(`${tc!.url}/pay`);
    await res.body.text();
    await waitFor(() => warnings().length >= 1, 2000, 'doctor warning');
    expect(String(warnings()[0].msg)).toMatch(/x-request-id="app-0\.\d+" that matches no request in flight/);
  });

  it('the mangled value is quoted bounded and escaped: a header cannot fake or colour a log line', async () => {
    // TAB and obs-text are all node lets through in a field value; NEL (0x85) breaks lines for Unicode-aware readers.
    await setup(() => 'mangle', () => `a\t\u0085${'x'.repeat(300)}`);
    const res = await request(`${tc!.url}/pay`);
    await res.body.text();
    await waitFor(() => warnings().length >= 1, 2000, 'doctor warning');
    const quoted = `a\\x09\\x85${'x'.repeat(61)}…(303 chars)`;
    expect(String(warnings()[0].msg)).toContain(`x-request-id="${quoted}" that matches no request in flight`);
    // The CLIENT span (a new root: the mangled id stitches to nothing) carries the same hint.
    const client = await waitFor(
      () => tc!.tracecar.store.list().flatMap((t) => tc!.tracecar.store.get(t.traceId) ?? []).find((s) => s.kind === 'client'),
      2000,
      'client span',
    );
    const event = client.events.find((e) => e.name === 'tracecar.propagation.lost')!;
    expect(String(event.attributes!['tracecar.propagation.hint'])).toContain(`"${quoted}"`);
  });

  it('app forwarding traceparent is healthy: no hint', async () => {
    await setup(() => ['traceparent', 'x-request-id']);
    const res = await request(`${tc!.url}/healthy`);
    await res.body.text();
    await sleep(100);
    expect(warnings()).toHaveLength(0);
  });
});
