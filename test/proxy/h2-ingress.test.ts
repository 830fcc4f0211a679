/**
 * HTTP/2 on the ingress port next to HTTP/1.1: h2c with prior knowledge (the connection preface
 * is sniffed), `Upgrade: h2c` answered as HTTP/1.1, W3C/B3/correlation over HTTP/2 header
 * casing, pseudo-headers and connection-specific fields never forwarded, an HTTP/1.1 app behind an
 * HTTP/2 caller and an HTTP/2 app behind an HTTP/1.1 caller. Real node:http / node:http2 peers and
 * raw sockets where the point is bytes.
 */
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { h2Request, startH2Upstream, type H2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('ingress: HTTP/2 callers in front of an HTTP/1.1 app (h2c prior knowledge)', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, propagation: { inject: ['w3c', 'b3'] } });
  });
  afterAll(async () => {
    await tc?.close();
    await app?.close();
  });

  it('serves an h2c request on the HTTP/1.1 port: status, body, our headers, the trace continued', async () => {
    const answer = await h2Request(tc.url, { ':path': '/orders/7?x=1', traceparent: TRACEPARENT, 'x-request-id': 'req-h2-1', 'user-agent': 'h2-test' });
    expect(answer.status).toBe(200);
    expect(answer.ended).toBe(true);
    expect(answer.headers['x-request-id']).toBe('req-h2-1');
    const traceresponse = String(answer.headers.traceresponse);
    expect(traceresponse).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    const seen = app.requests.at(-1)!;
    expect(seen.url).toBe('/orders/7?x=1');
    // Our span is the parent the app sees, in W3C and (configured) B3.
    const spanId = traceresponse.split('-')[2];
    expect(seen.headers.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${spanId}-01`);
    expect(seen.headers.b3).toBe(`0af7651916cd43dd8448eb211c80319c-${spanId}-1-b7ad6b7169203331`);
    expect(seen.headers['x-request-id']).toBe('req-h2-1');
    // :authority becomes Host for the HTTP/1.1 app; no pseudo-header is copied as a header.
    expect(seen.headers.host).toBe(`127.0.0.1:${tc.addresses.ingress.port}`);
    expect(seen.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.startsWith(':'))).toEqual([]);
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(`127.0.0.1:${tc.addresses.ingress.port}`);

    const [span] = await waitFor(() => tc.tracecar.store.get('0af7651916cd43dd8448eb211c80319c'), 2000, 'span');
    expect(span.name).toBe('GET /orders/:id');
    expect(span.parentSpanId).toBe('b7ad6b7169203331');
    expect(span.attributes).toMatchObject({
      'network.protocol.version': '2',
      'url.path': '/orders/7',
      'server.address': '127.0.0.1',
      'server.port': tc.addresses.ingress.port,
      'user_agent.original': 'h2-test',
      'tracecar.correlation_id': 'req-h2-1',
      'http.response.status_code': 200,
    });
  });

  it('reads B3 multi headers (lower-case over HTTP/2) and streams a request body to the app', async () => {
    const answer = await h2Request(
      tc.url,
      { ':path': '/upload', ':method': 'PUT', 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' },
      ['first part,', Buffer.alloc(100_000, 0x61)],
    );
    expect(answer.status).toBe(200);
    const seen = app.requests.at(-1)!;
    expect(seen.method).toBe('PUT');
    expect(seen.body.length).toBe(100_011);
    expect(seen.headers.traceparent).toMatch(/^00-463ac35c9f6413ad48485a3953bb6124-[0-9a-f]{16}-01$/);
    // The caller used B3 multi: it is injected back in its style.
    expect(seen.headers['x-b3-traceid']).toBe('463ac35c9f6413ad48485a3953bb6124');
  });

  it('many concurrent streams on one connection each get their own trace', async () => {
    const { connect } = await import('node:http2');
    const session = connect(tc.url);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => h2Request(session, { ':path': `/c/${i}` })));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((a) => String(a.headers.traceresponse).split('-')[1])).size).toBe(20);
    } finally {
      session.close();
    }
  });

  it('an HTTP/2 caller cancelling its stream aborts the HTTP/1.1 request to the app', async () => {
    const slow = await startUpstream(
      (req, res) => {
        res.writeHead(200);
        res.write('first chunk');
        req.socket.once('close', () => (closed = true));
      },
      { raw: true },
    );
    let closed = false;
    const tc2 = await startTracecar({ ingress: { target: slow.url } });
    const { connect } = await import('node:http2');
    const session = connect(tc2.url);
    try {
      const stream = session.request({ ':path': '/slow' });
      const traceresponse = await new Promise((resolve) => stream.once('response', (h) => resolve(h.traceresponse)));
      await new Promise((resolve) => stream.once('data', resolve));
      stream.close(0x8);
      await waitFor(() => closed, 5000, 'the app connection aborted');
      const traceId = String(traceresponse).split('-')[1];
      const [span] = await waitFor(() => tc2.tracecar.store.get(traceId), 3000, 'span');
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_CLIENT_ABORTED');
    } finally {
      session.destroy();
      await tc2.close();
      await slow.close();
    }
  });

  it('HTTP/1.1 on the same port is unchanged (keep-alive, Host, status text)', async () => {
    const res = await new Promise<{ status: number; message: string; body: string }>((resolve, reject) => {
      httpRequest(`${tc.url}/plain`, { headers: { host: 'orders.internal' } }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c)).on('end', () => resolve({ status: r.statusCode!, message: r.statusMessage!, body }));
      })
        .on('error', reject)
        .end();
    });
    expect(res).toMatchObject({ status: 200, message: 'OK' });
    expect(app.requests.at(-1)!.headers.host).toBe('orders.internal');
  });

  it('a first packet shorter than the preface is waited on, then served as HTTP/1.1', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const s = netConnect(tc.addresses.ingress.port, '127.0.0.1');
      let out = '';
      s.on('data', (c) => (out += c)).on('end', () => resolve(out)).on('error', reject);
      // "P" could still be "PRI * HTTP/2.0": the listener waits for the next bytes.
      s.write('P');
      setTimeout(() => s.write('UT /split HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), 20);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(app.requests.at(-1)).toMatchObject({ method: 'PUT', url: '/split' });
  });

  it('Upgrade: h2c is not taken up (RFC 9113 §3.1): the request is answered over HTTP/1.1, HTTP2-Settings not forwarded', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const s = netConnect(tc.addresses.ingress.port, '127.0.0.1');
      let out = '';
      s.on('data', (c) => (out += c)).on('end', () => resolve(out)).on('error', reject);
      s.write('GET /upgrade-me HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).not.toMatch(/^HTTP\/1\.1 101/m);
    const seen = app.requests.at(-1)!;
    expect(seen.url).toBe('/upgrade-me');
    expect(seen.headers['http2-settings']).toBeUndefined();
    expect(seen.headers.upgrade).toBeUndefined();
  });
});

describe('HTTP/2 app (h2c://) behind tracecar', () => {
  let app: H2Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startH2Upstream();
    tc = await startTracecar({ ingress: { target: app.url } });
  });
  afterAll(async () => {
    await tc?.close();
    await app?.close();
  });

  it('an HTTP/2 caller reaches it without a downgrade; trailers come back as trailers; request trailers go up', async () => {
    const answer = await h2Request(tc.url, { ':path': '/h2/1', ':method': 'POST', 'content-type': 'text/plain', te: 'trailers' }, 'hello', { trailers: { 'x-checksum': 'abc' } });
    expect(answer.status).toBe(200);
    expect(answer.trailers?.['x-trailer']).toBe('done');
    const seen = app.streams.at(-1)!;
    expect(seen.headers[':path']).toBe('/h2/1');
    expect(seen.headers[':authority']).toBe(`127.0.0.1:${tc.addresses.ingress.port}`);
    expect(seen.headers.te).toBe('trailers');
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
    expect(seen.body.toString()).toBe('hello');
    expect(seen.trailers?.['x-checksum']).toBe('abc');
  });

  it('an HTTP/1.1 caller reaches it too: connection-specific fields dropped, trailers sent as chunked trailers', async () => {
    const res = await new Promise<{ status: number; trailers: NodeJS.Dict<string>; body: string }>((resolve, reject) => {
      const req = httpRequest(`${tc.url}/from-h1`, {
        method: 'POST',
        headers: { connection: 'keep-alive, x-hop', 'x-hop': 'drop me', 'keep-alive': 'timeout=5', te: 'trailers', 'x-keep': 'yes', 'content-type': 'text/plain' },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c) => (body += c)).on('end', () => resolve({ status: r.statusCode!, trailers: r.trailers, body }));
      });
      req.on('error', reject);
      req.end('h1 body');
    });
    expect(res.status).toBe(200);
    expect(res.trailers['x-trailer']).toBe('done');
    const seen = app.streams.at(-1)!;
    expect(seen.headers['x-keep']).toBe('yes');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers.connection).toBeUndefined();
    expect(seen.headers.te).toBe('trailers');
    expect(seen.body.toString()).toBe('h1 body');
  });

  it('a Trailers-Only answer (HEADERS with END_STREAM) reaches the caller in the same form', async () => {
    await app.close();
    const only = await startH2Upstream((stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'nope' }, { endStream: true }));
    const tc2 = await startTracecar({ ingress: { target: only.url } });
    try {
      const answer = await h2Request(tc2.url, { ':path': '/pkg.Svc/Get', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.from([0, 0, 0, 0, 0]));
      expect(answer.flags & 0x1).toBe(0x1);
      expect(answer.headers['grpc-status']).toBe('5');
      expect(answer.trailers).toBeUndefined();
      expect(answer.ended).toBe(true);
    } finally {
      await tc2.close();
      await only.close();
    }
  });
});

describe('egress forward proxy: an HTTP/2 request goes to its :authority (over HTTP/1.1)', () => {
  it('forwards to the authority and records a CLIENT span', async () => {
    const app = await startUpstream();
    const tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0' } });
    try {
      const { connect } = await import('node:http2');
      const session = connect(`http://127.0.0.1:${tc.addresses.egress!.port}`);
      try {
        const answer = await h2Request(session, { ':path': '/via-proxy', ':authority': `127.0.0.1:${app.port}`, 'x-request-id': 'egress-h2' });
        expect(answer.status).toBe(200);
      } finally {
        session.close();
      }
      const seen = app.requests.at(-1)!;
      expect(seen.url).toBe('/via-proxy');
      expect(seen.headers.host).toBe(`127.0.0.1:${app.port}`);
      const span = await waitFor(() => tc.tracecar.store.list({ correlationId: 'egress-h2' })[0], 3000, 'the egress trace');
      expect(span.rootName).toBe('GET /via-proxy');
    } finally {
      await tc.close();
      await app.close();
    }
  });
});

describe('listener limits for HTTP/2 callers', () => {
  it('advertises http2.maxConcurrentStreams and closes a connection idle for http2.idleTimeout with GOAWAY', async () => {
    const app = await startUpstream();
    const tc = await startTracecar({ ingress: { target: app.url }, http2: { maxConcurrentStreams: 3, idleTimeout: 1000 } });
    const { connect } = await import('node:http2');
    const session = connect(tc.url);
    session.on('error', () => {});
    try {
      let goaway = false;
      session.on('goaway', () => (goaway = true));
      expect((await h2Request(session, { ':path': '/limits' })).status).toBe(200);
      expect(session.remoteSettings.maxConcurrentStreams).toBe(3);
      await waitFor(() => goaway && session.closed, 5000, 'GOAWAY on the idle connection');
    } finally {
      session.destroy();
      await tc.close();
      await app.close();
    }
  });
});
