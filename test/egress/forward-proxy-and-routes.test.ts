import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

function rawRequest(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('egress listeners: forward proxy (absolute-form) and named routes', () => {
  let payments: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    payments = await startUpstream();
    tc = await startTracecar({
      ingress: { target: payments.url },
      egress: { listen: '127.0.0.1:0', routes: [{ name: 'payments', listen: '127.0.0.1:0', target: payments.url }] },
    });
  });
  afterAll(async () => {
    await tc.close();
    await payments.close();
  });

  it('forwards an absolute-form request to its host with origin-form path and the URL authority as Host', async () => {
    const r = await rawRequest(tc.addresses.egress!.port, `${payments.url}/charge?amount=5&token=abc`, { host: 'ignored.example' });
    expect(r.status).toBe(200);
    const seen = payments.requests.at(-1)!;
    expect(seen.url).toBe('/charge?amount=5&token=abc');
    expect(seen.headers.host).toBe(`127.0.0.1:${payments.port}`);
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
    const traceId = String(seen.headers.traceparent).split('-')[1];
    const [span] = await waitFor(() => tc.tracecar.store.get(traceId), 2000, 'client span')!;
    expect(span.kind).toBe('client');
    expect(span.name).toBe('GET /charge');
    expect(span.attributes['url.full']).toBe(`${payments.url}/charge?amount=5&token=REDACTED`);
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['server.port']).toBe(payments.port);
    expect(span.attributes['http.response.status_code']).toBe(200);
  });

  it('a named route sends every request to its target, Host rewritten, peer.service = route name', async () => {
    const r = await rawRequest(tc.addresses.routes.payments.port, '/refund/77');
    expect(r.status).toBe(200);
    const seen = payments.requests.at(-1)!;
    expect(seen.url).toBe('/refund/77');
    expect(seen.headers.host).toBe(`127.0.0.1:${payments.port}`);
    const traceId = String(seen.headers.traceparent).split('-')[1];
    const [span] = await waitFor(() => tc.tracecar.store.get(traceId), 2000, 'client span')!;
    expect(span.attributes['peer.service']).toBe('payments');
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['server.port']).toBe(payments.port);
    expect(span.attributes['url.full']).toBe(`${payments.url}/refund/77`);
    expect(span.name).toBe('GET /refund/:id');
  });

  it('a refused egress target → 502 and an ERROR CLIENT span', async () => {
    const r = await rawRequest(tc.addresses.egress!.port, 'http://127.0.0.1:9/nothing-here');
    expect(r.status).toBe(502);
    expect(r.body).toContain('refused');
  });
});
