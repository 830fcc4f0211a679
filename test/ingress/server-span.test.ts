import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { proxiedApp } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('SERVER span: semantic conventions, low-cardinality names, timing events', () => {
  const env = proxiedApp((app) => ({
    service: { name: 'orders', version: '1.4.2' },
    ingress: { target: app.url },
    routes: [{ pattern: '/files/**' }],
  }));

  async function spanFor(path: string, init: Parameters<typeof request>[1] = {}) {
    const res = await request(`${env.tc.url}${path}`, init);
    await res.body.text();
    const traceId = String(res.headers.traceresponse).split('-')[1];
    return (await waitFor(() => env.tc.tracecar.store.get(traceId), 2000, 'span'))![0];
  }

  it('records method, path, route, status, addresses, user agent, body sizes', async () => {
    const span = await spanFor('/orders/12345?expand=1', {
      method: 'POST',
      headers: { 'user-agent': 'curl/8.5', host: 'orders.internal:8080', 'content-type': 'text/plain' },
      body: 'twelve bytes',
    });
    expect(span.name).toBe('POST /orders/:id');
    expect(span.kind).toBe('server');
    expect(span.service).toBe('orders');
    expect(span.resource?.['service.version']).toBe('1.4.2');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/orders/12345',
      'url.query': 'expand=1',
      'url.scheme': 'http',
      'http.route': '/orders/:id',
      'http.response.status_code': 200,
      'server.address': 'orders.internal',
      'server.port': 8080,
      'client.address': '127.0.0.1',
      'user_agent.original': 'curl/8.5',
      'http.request.body.size': 12,
      'network.protocol.version': '1.1',
    });
    expect(span.attributes['http.response.body.size']).toBeGreaterThan(0);
    expect(span.status.code).toBe('unset');
    const names = span.events.map((e) => e.name);
    expect(names).toContain('upstream.connected');
    expect(names).toContain('upstream.first_byte');
    expect(span.endTime).toBeGreaterThan(span.startTime);
  });

  it('templates numeric, UUID and long hex segments; configured patterns win', async () => {
    expect((await spanFor('/users/9f1c2d3e-1111-4abc-8def-0123456789ab/orders/77')).name).toBe('GET /users/:id/orders/:id');
    expect((await spanFor('/blobs/0123456789abcdef0123')).name).toBe('GET /blobs/:id');
    expect((await spanFor('/files/a/b/c.txt')).name).toBe('GET /files/**');
    expect((await spanFor('/health')).name).toBe('GET /health');
  });

  it('unknown methods are recorded as _OTHER with the original kept', async () => {
    const span = await spanFor('/x', { method: 'PURGE' });
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    expect(span.attributes['http.request.method_original']).toBe('PURGE');
  });

  it('secrets never reach the span: token-like query values redacted, auth headers not recorded', async () => {
    const span = await spanFor('/login?user=bob&token=s3cr3t&api_key=k3y&X-Goog-Signature=g00g', { headers: { authorization: 'Bearer abc.def', cookie: 'sid=123' } });
    const text = JSON.stringify(span);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('k3y');
    expect(text).not.toContain('g00g');
    expect(text).not.toContain('abc.def');
    expect(text).not.toContain('sid=123');
    expect(span.attributes['url.query']).toBe('user=bob&token=REDACTED&api_key=REDACTED&X-Goog-Signature=REDACTED');
  });
});
