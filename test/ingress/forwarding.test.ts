import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { request as httpRequest } from 'node:http';
import { proxiedApp, startTracecar, startUpstream } from '../helpers/harness.js';

describe('ingress forwards requests faithfully', () => {
  const env = proxiedApp();

  it('passes method, path, query, headers and body through, preserving Host', async () => {
    const res = await request(`${env.tc.url}/orders/42?expand=items&x=1`, {
      method: 'PUT',
      headers: { host: 'shop.example.com', 'x-custom': 'yes', 'content-type': 'text/plain' },
      body: 'hello upstream',
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const seen = env.app.requests.at(-1)!;
    expect(seen.method).toBe('PUT');
    expect(seen.url).toBe('/orders/42?expand=items&x=1');
    expect(seen.headers.host).toBe('shop.example.com');
    expect(seen.headers['x-custom']).toBe('yes');
    expect(seen.body.toString()).toBe('hello upstream');
  });

  it('forwards every method, including custom ones', async () => {
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'PURGE']) {
      const res = await request(`${env.tc.url}/m`, { method });
      await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(env.app.requests.at(-1)!.method).toBe(method);
    }
  });

  it('removes hop-by-hop headers, including those named in Connection (RFC 9110 §7.6.1)', async () => {
    // node:http, not undici: undici refuses to send hop-by-hop headers at all.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${env.tc.url}/hop`, {
        headers: { connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'x-kept': 'kept' },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const h = env.app.requests.at(-1)!.headers;
    expect(h['x-secret-hop']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['x-kept']).toBe('kept');
  });

  it('adds X-Forwarded-For/Proto/Host and appends to an existing X-Forwarded-For chain', async () => {
    let res = await request(`${env.tc.url}/xff`, { headers: { host: 'api.example.com' } });
    await res.body.text();
    let h = env.app.requests.at(-1)!.headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('api.example.com');

    res = await request(`${env.tc.url}/xff`, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } });
    await res.body.text();
    h = env.app.requests.at(-1)!.headers;
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('https');
  });

  it('keeps duplicate response headers (set-cookie) and strips hop-by-hop ones from the response', async () => {
    const special = await startUpstream((_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-app', 'yes');
      res.setHeader('keep-alive', 'timeout=99');
      res.end('ok');
    });
    const t = await startTracecar({ ingress: { target: special.url } });
    try {
      const res = await request(`${t.url}/cookies`);
      await res.body.text();
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(res.headers['x-app']).toBe('yes');
      expect(res.headers['keep-alive']).not.toBe('timeout=99');
    } finally {
      await t.close();
      await special.close();
    }
  });

  it('streams a chunked response as it is produced', async () => {
    const slow = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      setTimeout(() => res.end('second\n'), 300);
    });
    const t = await startTracecar({ ingress: { target: slow.url } });
    try {
      const res = await request(`${t.url}/stream`);
      const reader = res.body[Symbol.asyncIterator]();
      const first = await reader.next();
      // The first chunk arrives before the upstream has finished: nothing buffers the whole body.
      expect(String(first.value)).toBe('first\n');
      let rest = '';
      for (let r = await reader.next(); !r.done; r = await reader.next()) rest += String(r.value);
      expect(rest).toBe('second\n');
    } finally {
      await t.close();
      await slow.close();
    }
  });
});
