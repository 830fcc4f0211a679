/**
 * DNS-rebinding guard on the admin listener. Bound to loopback (the default), it serves only Host
 * names that are loopback (localhost, 127.0.0.0/8, [::1], any port) and answers anything else with
 * 421 and one line saying why; bound to a non-loopback address (0.0.0.0 in a pod) it serves any Host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, hasChromium } from '../helpers/admin-browser.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { hostOfHeader, isLoopbackHostHeader, isLoopbackIp, rebindingRefusal } from '../../src/admin/host-guard.js';

async function send(url: string, host: string | undefined, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (host !== undefined) headers.host = host;
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body });
  return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
}

describe('host guard rules', () => {
  it.each([
    ['localhost', true],
    ['localhost:9901', true],
    ['LocalHost:9901', true],
    ['localhost.:9901', true],
    ['viewer.localhost:9901', true],
    ['127.0.0.1', true],
    ['127.0.0.1:9901', true],
    ['127.1.2.3:80', true],
    ['[::1]', true],
    ['[::1]:9901', true],
    ['[0:0:0:0:0:0:0:1]:9901', true],
    ['[::ffff:127.0.0.1]:9901', true],
    ['evil.example', false],
    ['evil.example:9901', false],
    ['localhost.evil.example', false],
    ['127.0.0.1.nip.io:9901', false],
    ['10.0.0.5:9901', false],
    ['0.0.0.0:9901', false],
    ['[::]:9901', false],
    ['[::2]:9901', false],
    ['::1', false], // an IPv6 literal in Host needs brackets
    ['localhost:99x', false],
    ['', false],
  ])('%s → loopback %s', (host, expected) => {
    expect(isLoopbackHostHeader(host)).toBe(expected);
  });

  it('reads the host part of a Host header', () => {
    expect(hostOfHeader('Example.COM:8080')).toBe('example.com');
    expect(hostOfHeader('[::1]:1')).toBe('::1');
    expect(hostOfHeader('[nope]:1')).toBeUndefined();
  });

  it('knows loopback addresses a listener may be bound to', () => {
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackIp(ip), ip).toBe(true);
    for (const ip of ['0.0.0.0', '::', '10.1.2.3', '::ffff:10.0.0.1', '192.168.1.1', 'fe80::1', 'localhost']) expect(isLoopbackIp(ip), ip).toBe(false);
  });

  it('refuses only on a loopback listener; a request without Host (HTTP/1.0 tools) is served', () => {
    expect(rebindingRefusal('127.0.0.1', 'evil.example')).toMatch(/^Host "evil.example" refused: .*DNS-rebinding/);
    expect(rebindingRefusal('::1', 'evil.example')).toBeDefined();
    expect(rebindingRefusal('0.0.0.0', 'evil.example')).toBeUndefined();
    expect(rebindingRefusal('::', 'evil.example')).toBeUndefined();
    expect(rebindingRefusal('10.0.0.7', 'evil.example')).toBeUndefined();
    expect(rebindingRefusal('127.0.0.1', undefined)).toBeUndefined();
    expect(rebindingRefusal('127.0.0.1', 'x\u0007y')).not.toMatch(/\u0007/);
  });
});

describe('admin listener bound to loopback (default)', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  let port: number;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, admin: { listen: '127.0.0.1:0' } });
    port = tc.addresses.admin!.port;
    await (await request(`${tc.url}/orders/1`)).body.text();
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it.each(['localhost', 'localhost:PORT', '127.0.0.1:PORT', '[::1]:PORT', 'LOCALHOST:1234'])('serves Host %s', async (host) => {
    const r = await send(`${tc.adminUrl}/api/traces`, host.replace('PORT', String(port)));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).traces).toHaveLength(1);
  });

  it.each(['evil.example', 'evil.example:PORT', 'localhost.evil.example:PORT', '10.0.0.5:PORT', '0.0.0.0:PORT'])(
    'answers 421 with one line to Host %s, on every endpoint',
    async (host) => {
      const h = host.replace('PORT', String(port));
      for (const path of ['/', '/healthz', '/readyz', '/metrics', '/config', '/app.js', '/no-such-page']) {
        const r = await send(`${tc.adminUrl}${path}`, h);
        expect(r.status, path).toBe(421);
        expect(r.type).toMatch(/^text\/plain/);
        expect(r.text).toBe(`Host "${h}" refused: this admin listener is bound to loopback and answers only localhost, 127.0.0.1 or [::1] (DNS-rebinding guard); bind admin.listen to a non-loopback address to serve other names\n`);
      }
      const api = await send(`${tc.adminUrl}/api/traces`, h);
      expect(api.status).toBe(421);
      expect(JSON.parse(api.text).error).toMatch(/DNS-rebinding guard/);
      // Trace data does not leak in the refusal, and spans cannot be pushed in either.
      expect(api.text).not.toMatch(/[0-9a-f]{32}/);
      const post = await send(`${tc.adminUrl}/v1/traces`, h, { method: 'POST', body: '{"resourceSpans":[]}', headers: { 'content-type': 'application/json' } });
      expect(post.status).toBe(421);
    },
  );

  it('the proxy listener is not affected (ingress serves any Host)', async () => {
    const r = await send(`${tc.url}/anything`, 'shop.example.com');
    expect(r.status).toBe(200);
  });

  it.skipIf(!hasChromium)('a browser page on a rebound name cannot read the viewer or the API; on localhost it can', async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
      });
      const page = await browser.newPage();
      // The attacker's name now resolves to 127.0.0.1: same origin as far as the browser knows.
      const evil = await page.goto(`http://rebind.test:${port}/`);
      expect(evil?.status()).toBe(421);
      expect(await page.textContent('body')).toContain('DNS-rebinding guard');
      const fromScript = await page.evaluate(async () => {
        const r = await fetch('/api/traces');
        return { status: r.status, body: await r.text() };
      });
      expect(fromScript.status).toBe(421);
      expect(fromScript.body).not.toMatch(/[0-9a-f]{32}/);

      const good = await page.goto(`http://localhost:${port}/`);
      expect(good?.status()).toBe(200);
      await page.locator('#trace-rows tr').first().waitFor({ timeout: 5000 });
    } finally {
      await browser?.close();
    }
  });
});

describe('admin listener bound to a non-loopback address', () => {
  it('0.0.0.0 (e.g. in a Kubernetes pod) serves any Host', async () => {
    const app = await startUpstream();
    const tc = await startTracecar({ ingress: { target: app.url }, admin: { listen: '0.0.0.0:0' } });
    try {
      expect(tc.addresses.admin!.host).toBe('0.0.0.0');
      for (const host of ['evil.example', 'tracecar-admin.orders.svc.cluster.local:9901', '10.0.0.5:9901', 'localhost']) {
        const r = await send(`${tc.adminUrl}/healthz`, host);
        expect(r.status, host).toBe(200);
        expect((await send(`${tc.adminUrl}/api/traces`, host)).status, host).toBe(200);
        expect((await send(`${tc.adminUrl}/`, host)).status, host).toBe(200);
      }
    } finally {
      await tc.close();
      await app.close();
    }
  });

  it('[::1] is loopback too: guarded', async () => {
    const app = await startUpstream();
    const tc = await startTracecar({ ingress: { target: app.url }, admin: { listen: '[::1]:0' } });
    try {
      const url = `http://[::1]:${tc.addresses.admin!.port}`;
      expect((await send(`${url}/healthz`, undefined)).status).toBe(200);
      expect((await send(`${url}/healthz`, 'evil.example')).status).toBe(421);
    } finally {
      await tc.close();
      await app.close();
    }
  });
});
