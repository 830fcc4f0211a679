/**
 * The built CLI with Debian's curl as the caller (CI installs curl): `curl --http2-prior-knowledge`
 * to the plain ingress port (h2c), in front of an HTTP/1.1 app and of an h2c:// app, and
 * `curl --http2` over TLS with --tls-cert/--tls-key (ALPN h2). curl's own report of the protocol
 * (%{http_version}) is the proof, not tracecar's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { createPki, type TestPki } from '../helpers/certs.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { startH2Upstream, type H2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

/** curl's verdict: the HTTP version it spoke, the status, the response headers and body. */
async function curl(args: string[]): Promise<{ version: string; status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-D', '-', '-w', '\n%{http_version} %{response_code}', ...args]);
  const end = stdout.lastIndexOf('\n');
  const [version, status] = stdout.slice(end + 1).split(' ');
  const [headers, ...rest] = stdout.slice(0, end).split('\r\n\r\n');
  return { version, status: Number(status), headers: headers.toLowerCase(), body: rest.join('\r\n\r\n') };
}

describe('tracecar CLI with curl over HTTP/2', () => {
  let app: Upstream;
  let h2app: H2Upstream;
  let pki: TestPki;
  beforeAll(async () => {
    app = await startUpstream();
    h2app = await startH2Upstream();
    pki = createPki();
  });
  afterAll(async () => {
    await app?.close();
    await h2app?.close();
    pki?.cleanup();
  });

  it('curl --http2-prior-knowledge reaches an HTTP/1.1 app and an h2c:// app through the plain ingress port', async () => {
    for (const target of [app.url, h2app.url]) {
      const cli = await startCli(['--target', target, '--port', '127.0.0.1:0', '--no-admin']);
      try {
        const res = await curl(['--http2-prior-knowledge', '-H', 'traceparent: 00-11111111111111111111111111111111-2222222222222222-01', `http://127.0.0.1:${cli.ingressPort}/curl?q=1`]);
        expect(res.version).toBe('2');
        expect(res.status).toBe(200);
        expect(res.headers).toMatch(/^traceresponse: 00-11111111111111111111111111111111-[0-9a-f]{16}-01$/m);
        expect(res.headers).toMatch(/^x-request-id: \S+$/m);
        const logged = await waitFor(() => cli.stdout().split('\n').find((l) => l.includes('"msg":"request"')), 5000, 'the access line');
        const line = JSON.parse(logged) as Record<string, unknown>;
        expect(line).toMatchObject({ method: 'GET', path: '/curl', status: 200, trace_id: '11111111111111111111111111111111' });
      } finally {
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
    }
    expect(app.requests.at(-1)!.url).toBe('/curl?q=1');
    expect(h2app.streams.at(-1)!.headers[':path']).toBe('/curl?q=1');
  });

  it('--tls-cert/--tls-key: curl negotiates h2 by ALPN, and HTTP/1.1 still works on the same port', async () => {
    const cert = pki.server('localhost');
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin', '--tls-cert', cert.cert, '--tls-key', cert.key]);
    try {
      expect(cli.stderr()).toMatch(/ingress\s+https:\/\/127\.0\.0\.1:\d+/);
      const url = `https://localhost:${cli.ingressPort}/tls`;
      const h2 = await curl(['--http2', '--cacert', pki.ca, url]);
      expect(h2).toMatchObject({ version: '2', status: 200 });
      const h1 = await curl(['--http1.1', '--cacert', pki.ca, url]);
      expect(h1).toMatchObject({ version: '1.1', status: 200 });
      expect(app.requests.at(-1)!.headers['x-forwarded-proto']).toBe('https');
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
