/**
 * TLS both ways, with certificates made for the test (test/helpers/certs.ts, openssl):
 *   ingress  — HTTPS and h2 on one port by ALPN; the certificate re-read when its files change,
 *              a bad pair keeping the last good one; unusable files named at start;
 *   targets  — a private CA, a client certificate (mutual TLS), a server name that differs from
 *              the URL, ALPN choosing h2 or http/1.1 — and verification never off: a target signed
 *              by an unknown CA fails with the setting that fixes it.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type TestPki } from '../helpers/certs.js';
import { startTracecar, startUpstream, testConfig, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { h2Request, startH2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';
import { createTracecar } from '../../src/tracecar.js';
import { loadListenerTls, loadTargetTls } from '../../src/config/tls.js';
import type { TracecarError } from '../../src/errors.js';

let pki: TestPki;
beforeAll(() => {
  pki = createPki();
});
afterAll(() => pki.cleanup());

/** The certificate a TLS listener presents to a new connection. */
function peerCertificate(port: number, ca: Buffer): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerCertificate());
      s.end();
    });
    s.on('error', reject);
  });
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, ALPNProtocols: ['http/1.1'] } as import('node:https').RequestOptions, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ingress TLS: HTTPS and HTTP/2 by ALPN on one port', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  let dir: string;
  let files: { cert: string; key: string };
  beforeAll(async () => {
    app = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'tracecar-ingress-tls-'));
    files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
    const first = pki.server('first.test');
    copyFileSync(first.cert, files.cert);
    copyFileSync(first.key, files.key);
    tc = await startTracecar({ ingress: { target: app.url, tls: files } });
  });
  afterAll(async () => {
    await tc?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS over HTTP/1.1 (ALPN http/1.1): url.scheme and X-Forwarded-Proto are https', async () => {
    const res = await httpsGet(`https://localhost:${tc.addresses.ingress.port}/secure?a=1`, pki.read(pki.ca));
    expect(res).toMatchObject({ status: 200, alpn: 'http/1.1' });
    const seen = app.requests.at(-1)!;
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    const traceId = String(seen.headers.traceparent).split('-')[1];
    const [span] = await waitFor(() => tc.tracecar.store.get(traceId), 2000, 'span');
    expect(span.attributes['url.scheme']).toBe('https');
  });

  it('serves HTTP/2 over TLS (ALPN h2) on the same port', async () => {
    const session = http2Connect(`https://localhost:${tc.addresses.ingress.port}`, { ca: pki.read(pki.ca) });
    try {
      const answer = await h2Request(session, { ':path': '/over-h2' });
      expect(answer.status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
      expect(app.requests.at(-1)!.url).toBe('/over-h2');
    } finally {
      session.close();
    }
  });

  it('re-reads the certificate when its files change; a pair that does not match keeps the last good one', async () => {
    const ca = pki.read(pki.ca);
    expect((await peerCertificate(tc.addresses.ingress.port, ca)).subject.CN).toBe('first.test');
    const second = pki.server('second.test');
    copyFileSync(second.key, files.key);
    copyFileSync(second.cert, files.cert);
    await waitFor(async () => (await peerCertificate(tc.addresses.ingress.port, ca)).subject.CN === 'second.test', 10_000, 'the new certificate served');
    await waitFor(() => tc.log.lines.some((l) => l.msg === 'ingress TLS certificate reloaded'), 2000, 'the reload logged');

    // Half a rotation: a new certificate with the old key. Reported, and the old pair stays.
    const third = pki.server('third.test');
    copyFileSync(third.cert, files.cert);
    await waitFor(() => tc.log.lines.some((l) => String(l.err ?? '').includes('does not match the certificate in ingress.tls.cert')), 10_000, 'the bad pair reported');
    expect((await peerCertificate(tc.addresses.ingress.port, ca)).subject.CN).toBe('second.test');
    expect((await httpsGet(`https://localhost:${tc.addresses.ingress.port}/still`, ca)).status).toBe(200);
  });
});

describe('TLS files that cannot be used are named at start', () => {
  const start = (tls: { cert: string; key: string }): TracecarError => {
    try {
      createTracecar(testConfig({ ingress: { target: 'http://127.0.0.1:1', tls } }));
    } catch (err) {
      return err as TracecarError;
    }
    throw new Error('createTracecar did not throw');
  };

  it('a missing file', () => {
    const err = start({ cert: '/nonexistent/tls.crt', key: '/nonexistent/tls.key' });
    expect(err.code).toBe('TRC_ERR_TLS');
    expect(err.message).toBe('ingress.tls.cert /nonexistent/tls.crt: cannot read it: no such file');
  });

  it('certificate and key swapped', () => {
    const s = pki.server('swap.test');
    expect(start({ cert: s.key, key: s.cert }).message).toBe(
      `ingress.tls.cert ${s.key}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----) (it holds a private key: is it the key file?)`,
    );
  });

  it('a key that belongs to another certificate', () => {
    const a = pki.server('a.test');
    const b = pki.server('b.test');
    expect(start({ cert: a.cert, key: b.key }).message).toBe(`ingress.tls.key ${b.key}: does not match the certificate in ingress.tls.cert (${a.cert}, "a.test")`);
  });

  it('an encrypted key', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const file = join(pki.dir, 'encrypted.key');
    writeFileSync(file, privateKey);
    expect(start({ cert: pki.server('enc.test').cert, key: file }).message).toMatch(/^ingress\.tls\.key .*encrypted\.key: the private key is encrypted \(a passphrase is not supported/);
  });

  it('an expired certificate (checked against the clock)', () => {
    const s = pki.server('old.test');
    const later = Date.now() + 30 * 24 * 3600 * 1000;
    expect(() => loadListenerTls('ingress.tls', s, later)).toThrow(/^ingress\.tls\.cert .*: the certificate "old\.test" expired on \d{4}-\d\d-\d\dT/);
  });

  it('a target CA file that is not a certificate', () => {
    expect(() => loadTargetTls('egress.routes[0].targetTls', { ca: pki.server('x.test').key })).toThrow(/^egress\.routes\[0\]\.targetTls\.ca .*: no PEM certificate in it/);
  });
});

describe('TLS to targets: private CA, client certificates, server name, ALPN', () => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  async function tracecarFor(ingress: Parameters<typeof startTracecar>[0]['ingress']): Promise<RunningTracecar> {
    const tc = await startTracecar({ ingress });
    closers.push(() => tc.close());
    return tc;
  }

  it('an h2 target signed by a private CA: refused without targetTls.ca (and says so), served over h2 with it', async () => {
    const cert = pki.server('app.test');
    const app = await startH2Upstream(undefined, { tls: { cert: pki.read(cert.cert), key: pki.read(cert.key) } });
    closers.push(() => app.close());
    const without = await tracecarFor({ target: app.url });
    const refused = await h2Request(without.url, { ':path': '/' });
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toMatch(/failed TLS verification: .*\(set targetTls\.ca to the CA that signed it\)/);
    const withCa = await tracecarFor({ target: app.url, targetTls: { ca: pki.ca } });
    const ok = await h2Request(withCa.url, { ':path': '/private-ca' });
    expect(ok.status).toBe(200);
    expect(app.streams.at(-1)!.headers[':path']).toBe('/private-ca');
  });

  it('a target whose certificate names another host: targetTls.servername sets SNI and the name checked', async () => {
    const cert = pki.server('app.internal', [], true);
    const app = await startH2Upstream(undefined, { tls: { cert: pki.read(cert.cert), key: pki.read(cert.key) } });
    closers.push(() => app.close());
    const url = `https://127.0.0.1:${app.port}`;
    const wrong = await tracecarFor({ target: url, targetTls: { ca: pki.ca } });
    const refused = await h2Request(wrong.url, { ':path': '/' });
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toContain('set targetTls.servername');
    const right = await tracecarFor({ target: url, targetTls: { ca: pki.ca, servername: 'app.internal' } });
    expect((await h2Request(right.url, { ':path': '/sni' })).status).toBe(200);
    expect((app.sessions.at(-1)!.socket as import('node:tls').TLSSocket).servername).toBe('app.internal');
  });

  it('mutual TLS: a target that requires a client certificate gets targetTls.cert/key, over h2 and over HTTP/1.1', async () => {
    const cert = pki.server('mtls.test');
    const client = pki.client('tracecar-client');
    const tls = { cert: pki.read(cert.cert), key: pki.read(cert.key), ca: pki.read(pki.ca), requestCert: true, rejectUnauthorized: true };
    const h2 = await startH2Upstream(undefined, { tls });
    closers.push(() => h2.close());
    const anonymous = await tracecarFor({ target: h2.url, targetTls: { ca: pki.ca } });
    const rejected = await h2Request(anonymous.url, { ':path': '/' });
    expect(rejected.status).toBe(502);
    expect(rejected.body.toString()).toContain('failed TLS verification: it requires a client certificate (set targetTls.cert and targetTls.key)');
    const withCert = await tracecarFor({ target: h2.url, targetTls: { ca: pki.ca, cert: client.cert, key: client.key } });
    expect((await h2Request(withCert.url, { ':path': '/mtls' })).status).toBe(200);
    const peer = (h2.sessions.at(-1)!.socket as import('node:tls').TLSSocket).getPeerCertificate();
    expect(peer.subject.CN).toBe('tracecar-client');

    // The same settings reach undici when the target is pinned to HTTP/1.1.
    const h1 = createHttpsServer(tls, (req, res) => res.end(`h1 ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN}`));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => h1.close(r)).then(() => h1.closeAllConnections()));
    const h1Port = (h1.address() as AddressInfo).port;
    const pinned = await tracecarFor({ target: `https://localhost:${h1Port}`, protocol: 'http1', targetTls: { ca: pki.ca, cert: client.cert, key: client.key } });
    const res = await h2Request(pinned.url, { ':path': '/h1' });
    expect(res.body.toString()).toBe('h1 tracecar-client');
  });

  it('ALPN: an https:// target that only speaks HTTP/1.1 is reached over HTTP/1.1; protocol h2 refuses it with a reason', async () => {
    const cert = pki.server('h1only.test');
    const versions: string[] = [];
    const h1 = createHttpsServer({ cert: pki.read(cert.cert), key: pki.read(cert.key) }, (req, res) => {
      versions.push(req.httpVersion);
      res.end('h1 answer');
    });
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    closers.push(() => {
      h1.closeAllConnections();
      return new Promise((r) => h1.close(r));
    });
    const url = `https://localhost:${(h1.address() as AddressInfo).port}`;
    const auto = await tracecarFor({ target: url, targetTls: { ca: pki.ca } });
    for (let i = 0; i < 2; i++) {
      const res = await h2Request(auto.url, { ':path': `/alpn/${i}` });
      expect(res.body.toString()).toBe('h1 answer');
    }
    expect(versions).toEqual(['1.1', '1.1']);
    const h2Only = await tracecarFor({ target: url, protocol: 'h2', targetTls: { ca: pki.ca } });
    const refused = await h2Request(h2Only.url, { ':path': '/' });
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toContain('did not agree to HTTP/2 (ALPN chose no protocol)');
  });

  it('a reload whose target TLS file is unusable is rejected; the running target keeps working', async () => {
    const cert = pki.server('reload.test');
    const app = await startH2Upstream(undefined, { tls: { cert: pki.read(cert.cert), key: pki.read(cert.key) } });
    closers.push(() => app.close());
    const tc = await tracecarFor({ target: app.url, targetTls: { ca: pki.ca } });
    const bad = testConfig({ ingress: { target: app.url, targetTls: { ca: '/nonexistent/ca.pem' } } });
    expect(() => tc.tracecar.reload(bad)).toThrow('ingress.targetTls.ca /nonexistent/ca.pem: cannot read it: no such file');
    expect(tc.tracecar.config.ingress.targetTls.ca).toBe(pki.ca);
    expect((await h2Request(tc.url, { ':path': '/after-reload' })).status).toBe(200);
  });
});
