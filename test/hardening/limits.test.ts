/**
 * Size limits on what a client sends (config `limits`), with raw sockets where the point is
 * bytes: header count and bytes (431), request target (414), body (413), each refused with the
 * connection closed and nothing forwarded; hot reload of the limits; header-derived span
 * attributes bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { connect as connectH2 } from 'node:http2';
import { request } from 'undici';
import { DEFAULTS } from '../../src/config/defaults.js';
import { ATTRIBUTE_LIMITS } from '../../src/telemetry/hop.js';
import { startTracecar, startUpstream, testConfig, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { completeRequestLength, rawRequest, startRawUpstream, type RawUpstream } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { h2Request } from '../helpers/h2.js';

function head(path: string, extra: string[] = [], host = 'app'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;
}
const fields = (n: number): string[] => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}`);
/** Short repeated fields: thousands still fit in 16 KiB. */
const shortFields = (n: number): string[] => Array.from({ length: n }, () => 'x: 1');

describe('limits: defaults', () => {
  it('are the documented sidecar values', () => {
    expect(DEFAULTS.limits).toEqual({
      maxHeaderBytes: 16 * 1024,
      maxHeaderCount: 100,
      maxUrlBytes: 8 * 1024,
      maxBodyBytes: null,
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
      maxConnections: 10_000,
    });
  });
});

describe('limits: header count, header bytes and request target, with the defaults', () => {
  let app: RawUpstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startRawUpstream();
    tc = await startTracecar({ ingress: { target: app.url } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });
  const port = (): number => tc.addresses.ingress.port;

  it('100 header fields (Host and Connection among them) are forwarded', async () => {
    const reply = await rawRequest(port(), head('/count-ok', fields(98)));
    expect(reply.statusLine).toBe('HTTP/1.1 200 OK');
    expect(app.text()).toContain('x-h97: 97');
  });

  it.each([101, 250, 2500])('%i header fields → 431, connection closed, nothing forwarded (Node alone keeps 2000 and drops the rest silently)', async (n) => {
    const before = app.text();
    const reply = await rawRequest(port(), head(`/count-${n}`, shortFields(n - 2)));
    expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(reply.text).toContain(`${n} header fields, more than limits.maxHeaderCount (100)`);
    expect(reply.text.toLowerCase()).toContain('connection: close');
    expect(reply.closed).toBe(true);
    expect(app.text()).toBe(before);
  });

  it('a head over 16 KiB → 431 from the parser, connection closed', async () => {
    const before = app.text();
    const reply = await rawRequest(port(), head('/big', [`x-big: ${'a'.repeat(17 * 1024)}`]));
    expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(reply.text).toContain('limits.maxHeaderBytes (16384 bytes)');
    expect(reply.closed).toBe(true);
    expect(app.text()).toBe(before);
  });

  it('a target of 8 KiB is forwarded; one byte more → 414, connection closed', async () => {
    const ok = `/u?${'q'.repeat(8 * 1024 - 3)}`;
    expect((await rawRequest(port(), head(ok))).statusLine).toBe('HTTP/1.1 200 OK');
    const before = app.text();
    const reply = await rawRequest(port(), head(`${ok}q`));
    expect(reply.statusLine).toBe('HTTP/1.1 414 URI Too Long');
    expect(reply.text).toContain('request target of 8193 bytes is longer than limits.maxUrlBytes (8192)');
    expect(reply.closed).toBe(true);
    expect(app.text()).toBe(before);
  });

  it('a target longer than the whole head allows → 431 (the target counts in maxHeaderBytes)', async () => {
    const reply = await rawRequest(port(), head(`/${'u'.repeat(20 * 1024)}`));
    expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('refusals are counted in /metrics by code', async () => {
    const text = await (await fetch(`${tc.adminUrl}/metrics`)).text();
    expect(text).toContain('tracecar_requests_rejected_total{side="ingress",code="TRC_ERR_HEADERS_TOO_LARGE"} 5');
    expect(text).toContain('tracecar_requests_rejected_total{side="ingress",code="TRC_ERR_URL_TOO_LONG"} 1');
  });
});

describe('limits: maxBodyBytes', () => {
  let app: RawUpstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startRawUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, limits: { maxBodyBytes: 1024 } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });
  const port = (): number => tc.addresses.ingress.port;
  /** What each app connection receives from now on (pooled connections are reused across tests). */
  const snapshot = (): ((c: RawUpstream['connections'][number]) => string) => {
    const at = new Map(app.connections.map((c) => [c, c.received.length]));
    return (c) => c.received.subarray(at.get(c) ?? 0).toString('latin1');
  };
  const post = (headers: string, body: string): string => `POST /upload HTTP/1.1\r\nHost: app\r\n${headers}\r\n${body}`;
  const chunked = (sizes: number[]): string => sizes.map((n) => `${n.toString(16)}\r\n${'b'.repeat(n)}\r\n`).join('') + '0\r\n\r\n';

  it('a body of exactly the limit is forwarded, with Content-Length or chunked', async () => {
    expect((await rawRequest(port(), post('Content-Length: 1024\r\nConnection: close\r\n', 'b'.repeat(1024)))).statusLine).toBe('HTTP/1.1 200 OK');
    expect((await rawRequest(port(), post('Transfer-Encoding: chunked\r\nConnection: close\r\n', chunked([512, 512])))).statusLine).toBe('HTTP/1.1 200 OK');
  });

  it('a Content-Length over the limit → 413 before anything is forwarded, connection closed', async () => {
    const before = app.text();
    const reply = await rawRequest(port(), post('Content-Length: 2048\r\n', 'b'.repeat(2048)));
    expect(reply.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    expect(reply.text).toContain('request body larger than limits.maxBodyBytes (1024 bytes)');
    expect(reply.closed).toBe(true);
    expect(app.text()).toBe(before);
  });

  it('a chunked body crossing the limit → 413; the app gets the head and the body up to the limit, never the chunk that crossed it nor a complete request; the span says why', async () => {
    tc.tracecar.store.clear();
    const since = snapshot();
    // The head and 1000 bytes first; the rest only once the app has the head, so the cut happens mid-stream.
    const client = connect(port(), '127.0.0.1');
    let answer = '';
    let closed = false;
    client.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    client.on('error', () => (closed = true));
    client.on('close', () => (closed = true));
    client.write(post('Transfer-Encoding: chunked\r\n', '3e8\r\n' + 'b'.repeat(1000) + '\r\n'));
    const upstream = await waitFor(() => app.connections.find((c) => since(c).includes('b'.repeat(1000))), 5_000, 'the head and the first 1000 bytes at the app');
    client.write(chunked([100, 100]));
    await waitFor(() => closed, 5_000, 'the client connection to close');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    await waitFor(() => upstream.closed, 5_000, 'the upstream request to be aborted');
    expect(completeRequestLength(Buffer.from(since(upstream), 'latin1'))).toBeUndefined();
    expect(since(upstream)).not.toContain('b'.repeat(1001));
    const span = await waitFor(() => tc.tracecar.store.list().map((t) => tc.tracecar.store.get(t.traceId)![0])[0], 5_000, 'the span');
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_BODY_TOO_LARGE');
    expect(span.attributes['http.response.status_code']).toBe(413);
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'nothing in flight');
  });

  it('a chunked body over the limit before anything was sent upstream → 413, and the app gets no complete request', async () => {
    const since = snapshot();
    const reply = await rawRequest(port(), post('Transfer-Encoding: chunked\r\n', chunked([1000, 100, 100])));
    expect(reply.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    expect(reply.closed).toBe(true);
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'nothing in flight');
    for (const c of app.connections) {
      const got = since(c);
      expect(got).not.toContain('b'.repeat(1001));
      if (got.length > 0) expect(completeRequestLength(Buffer.from(got, 'latin1'))).toBeUndefined();
    }
  });
});

describe('limits: hot reload', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('a reload changes the limits for the next request, without a restart', async () => {
    const port = tc.addresses.ingress.port;
    expect((await rawRequest(port, head('/a', fields(20)))).statusLine).toBe('HTTP/1.1 200 OK');
    const restart = tc.tracecar.reload(testConfig({ ingress: { target: app.url }, limits: { maxHeaderCount: 10, maxUrlBytes: 100, maxHeaderBytes: 1024 } }));
    expect(restart).toEqual([]);
    expect((await rawRequest(port, head('/a', fields(20)))).statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect((await rawRequest(port, head(`/${'u'.repeat(120)}`))).statusLine).toBe('HTTP/1.1 414 URI Too Long');
    expect((await rawRequest(port, head('/a', [`x-big: ${'a'.repeat(2000)}`]))).statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    tc.tracecar.reload(testConfig({ ingress: { target: app.url } }));
    expect((await rawRequest(port, head('/a', fields(20)))).statusLine).toBe('HTTP/1.1 200 OK');
  });
});

describe('header-derived span attributes are bounded and escaped', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('user_agent.original, client.address (first X-Forwarded-For entry) and server.address (Host)', async () => {
    const longHost = `${'h'.repeat(1000)}.example`;
    const res = await request(`${tc.url}/attrs`, {
      headers: {
        'user-agent': `agent/1.0 ${'u'.repeat(5000)}`,
        'x-forwarded-for': `${'1'.repeat(3000)}\x85evil, 10.0.0.1`,
        host: longHost,
      },
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const [span] = (await waitFor(() => tc.tracecar.store.get(traceId), 5_000, 'the span'))!;
    const ua = String(span.attributes['user_agent.original']);
    expect(ua.startsWith('agent/1.0 uuu')).toBe(true);
    expect(ua).toMatch(/…\(5010 chars\)$/);
    expect(ua.length).toBeLessThanOrEqual(ATTRIBUTE_LIMITS.userAgent + 20);
    const client = String(span.attributes['client.address']);
    expect(client).toMatch(/^1+…\(3005 chars\)$/);
    expect(client.length).toBeLessThanOrEqual(ATTRIBUTE_LIMITS.clientAddress + 20);
    const server = String(span.attributes['server.address']);
    expect(server.length).toBeLessThanOrEqual(ATTRIBUTE_LIMITS.serverAddress + 20);
    expect(server).toMatch(/^h+…\(1008 chars\)$/);
  });

  it('short values with controls or obs-text are escaped, ordinary ones kept as they are', async () => {
    const res = await request(`${tc.url}/attrs2`, { headers: { 'user-agent': 'curl/8.5.0', 'x-forwarded-for': 'a\x85b\\c, 10.0.0.1' } });
    await res.body.text();
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const [span] = (await waitFor(() => tc.tracecar.store.get(traceId), 5_000, 'the span'))!;
    expect(span.attributes['user_agent.original']).toBe('curl/8.5.0');
    expect(span.attributes['client.address']).toBe('a\\x85b\\\\c');
  });
});

describe('limits: HTTP/2 requests on the same port', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, limits: { maxUrlBytes: 100, maxHeaderCount: 10, maxBodyBytes: 64 } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('a refused stream gets its status; the connection and its other streams carry on', async () => {
    const session = connectH2(tc.url);
    try {
      const long = await h2Request(session, { ':path': `/${'u'.repeat(120)}` });
      expect(long.status).toBe(414);
      expect(long.body.toString()).toContain('limits.maxUrlBytes (100)');
      const many = await h2Request(session, { ':path': '/many', ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`x-h${i}`, '1'])) });
      expect(many.status).toBe(431);
      const big = await h2Request(session, { ':path': '/big', 'content-length': '100' }, 'b'.repeat(100));
      expect(big.status).toBe(413);
      // Ten fields (pseudo-headers not counted) and a small body are fine, on the same connection.
      const fine = await h2Request(session, { ':path': '/fine', ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`x-h${i}`, '1'])) }, 'small');
      expect(fine.status).toBe(200);
      expect(session.closed).toBe(false);
      expect(app.requests.map((r) => r.url)).toEqual(['/fine']);
    } finally {
      session.close();
    }
  });
});
