/**
 * CONNECT on the egress forward proxy with real sockets: a tunnel to a local TCP echo server,
 * bytes untouched both ways, a CLIENT span with host, port and bytes; refused → 502 + error span;
 * stitching by the correlation id on the CONNECT request; no socket outlives the tunnel.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { parseAuthority } from '../../src/proxy/tunnel.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { waitFor } from '../helpers/wait.js';

interface EchoServer {
  port: number;
  server: NetServer;
  open(): Promise<number>;
  close(): Promise<void>;
}

async function startTcpEcho(): Promise<EchoServer> {
  const server = createNetServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    open: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function deadPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Tunnel {
  res: IncomingMessage;
  socket: Socket;
  head: Buffer;
}

function connectVia(proxyPort: number, authority: string, headers: Record<string, string> = {}): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority, headers, agent: false });
    req.on('connect', (res, socket, head) => resolve({ res, socket, head }));
    req.on('error', reject);
    req.end();
  });
}

/** Sends `payload` through the tunnel, half-closes, and collects everything that comes back. */
function roundTrip(socket: Socket, payload: Buffer, head: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [head];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.end(payload);
  });
}

function readBody(res: IncomingMessage, socket: Socket, head: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [head];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    void res;
  });
}

function spansOf(tc: RunningTracecar, traceId: string, count: number): Promise<SpanRecord[]> {
  return waitFor(() => {
    const spans = tc.tracecar.store.get(traceId);
    return spans && spans.length >= count ? spans : undefined;
  }, 5_000, `${count} spans in trace ${traceId}`);
}

describe('CONNECT through the egress forward proxy', () => {
  let echo: EchoServer;
  let tc: RunningTracecar;
  beforeAll(async () => {
    echo = await startTcpEcho();
    tc = await startTracecar({
      ingress: { target: 'http://127.0.0.1:1' },
      egress: { listen: '127.0.0.1:0', routes: [{ name: 'named', listen: '127.0.0.1:0', target: 'http://127.0.0.1:1' }] },
      export: { console: 'off' },
    });
  });
  afterAll(async () => {
    await tc.close();
    await echo.close();
  });

  it('tunnels bytes untouched both ways and records host, port, duration and bytes', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const authority = `127.0.0.1:${echo.port}`;
    const { res, socket, head } = await connectVia(tc.addresses.egress!.port, authority, { traceparent: `00-${traceId}-${parent}-01` });
    expect(res.statusCode).toBe(200);
    const payload = randomBytes(256 * 1024);
    const back = await roundTrip(socket, payload, head);
    expect(back.equals(payload)).toBe(true);

    const [span] = await spansOf(tc, traceId, 1);
    expect(span.name).toBe(`CONNECT ${authority}`);
    expect(span.kind).toBe('client');
    expect(span.parentSpanId).toBe(parent);
    expect(span.attributes['http.request.method']).toBe('CONNECT');
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['server.port']).toBe(echo.port);
    expect(span.attributes['http.response.status_code']).toBe(200);
    expect(span.attributes['tracecar.tunnel.bytes.out']).toBe(payload.length);
    expect(span.attributes['tracecar.tunnel.bytes.in']).toBe(payload.length);
    expect(span.status.code).toBe('unset');
    expect(span.endTime).toBeGreaterThan(span.startTime);
    expect(span.events.map((e) => e.name)).toContain('upstream.connected');

    // No socket outlives the tunnel: the echo server's side is gone, nothing is in flight.
    await waitFor(async () => (await echo.open()) === 0, 2000, 'echo connection closed');
    expect(await echo.open()).toBe(0);
    await waitFor(() => tc.tracecar.inflight === 0, 2000, 'nothing in flight');
  });

  it('bytes the client sends right behind the CONNECT request (before the 200) are not lost', async () => {
    const traceId = randomBytes(16).toString('hex');
    const raw = netConnect(tc.addresses.egress!.port, '127.0.0.1');
    const received: Buffer[] = [];
    raw.on('data', (c: Buffer) => received.push(c));
    const ended = new Promise((resolve) => raw.once('end', resolve));
    // One write: request head and the first tunnel bytes together, as an eager TLS client does.
    raw.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\ntraceparent: 00-${traceId}-${randomBytes(8).toString('hex')}-01\r\n\r\nearly`);
    await waitFor(() => Buffer.concat(received).toString().endsWith('early'), 2000, 'early bytes echoed');
    raw.end(' and after');
    await ended;
    expect(Buffer.concat(received).toString()).toBe('HTTP/1.1 200 Connection Established\r\n\r\nearly and after');
    const [span] = await spansOf(tc, traceId, 1);
    expect(span.attributes['tracecar.tunnel.bytes.out']).toBe('early and after'.length);
    expect(span.attributes['tracecar.tunnel.bytes.in']).toBe('early and after'.length);
  });

  it('a refused target: 502 on the socket and an error span', async () => {
    const dead = await deadPort();
    const traceId = randomBytes(16).toString('hex');
    const { res, socket, head } = await connectVia(tc.addresses.egress!.port, `127.0.0.1:${dead}`, {
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      'x-request-id': 'tunnel-refused',
    });
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-request-id']).toBe('tunnel-refused');
    expect(await readBody(res, socket, head)).toMatch(/refused the connection/);
    const [span] = await spansOf(tc, traceId, 1);
    expect(span.name).toBe(`CONNECT 127.0.0.1:${dead}`);
    expect(span.status.code).toBe('error');
    expect(span.attributes['http.response.status_code']).toBe(502);
    expect(span.attributes['error.type']).toBe('ECONNREFUSED');
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_CONNECT');
  });

  it('a bad target is a 400; a named route does not tunnel (405)', async () => {
    const bad = await connectVia(tc.addresses.egress!.port, 'no-port-here');
    expect(bad.res.statusCode).toBe(400);
    bad.socket.destroy();
    const named = await connectVia(tc.addresses.routes.named.port, `127.0.0.1:${echo.port}`);
    expect(named.res.statusCode).toBe(405);
    named.socket.destroy();
  });

  it('the upstream resetting mid-tunnel is an error span', async () => {
    const rude = createNetServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    try {
      const traceId = randomBytes(16).toString('hex');
      const { res, socket } = await connectVia(tc.addresses.egress!.port, `127.0.0.1:${(rude.address() as AddressInfo).port}`, {
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      });
      expect(res.statusCode).toBe(200);
      const gone = new Promise((resolve) => socket.once('close', resolve));
      socket.on('error', () => {});
      socket.write('hello');
      await gone;
      const [span] = await spansOf(tc, traceId, 1);
      expect(span.status.code).toBe('error');
      expect(span.attributes['error.type']).toBe('ECONNRESET');
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_RESET');
    } finally {
      await new Promise<void>((resolve) => rude.close(() => resolve()));
    }
  });

  it('stitched by the correlation id on the CONNECT request to the in-flight ingress request', async () => {
    // An app behind the sidecar that, while answering, opens a tunnel through the sidecar's
    // forward proxy and puts the incoming x-request-id on the CONNECT request.
    let proxyPort = 0;
    const app = createHttpServer(async (req, res) => {
      const { socket, head } = await connectVia(proxyPort, `127.0.0.1:${echo.port}`, { 'x-request-id': String(req.headers['x-request-id']) });
      const back = await roundTrip(socket, Buffer.from('inside'), head);
      res.end(back);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const sidecar = await startTracecar({
      ingress: { target: `http://127.0.0.1:${(app.address() as AddressInfo).port}` },
      egress: { listen: '127.0.0.1:0' },
      export: { console: 'off' },
    });
    proxyPort = sidecar.addresses.egress!.port;
    try {
      const traceId = randomBytes(16).toString('hex');
      const r = await fetch(`http://127.0.0.1:${sidecar.addresses.ingress.port}/go`, {
        headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'x-request-id': 'tunnel-corr-1' },
      });
      expect(await r.text()).toBe('inside');
      const spans = await spansOf(sidecar, traceId, 2);
      const server = spans.find((s) => s.kind === 'server')!;
      const tunnel = spans.find((s) => s.kind === 'client')!;
      expect(tunnel.parentSpanId).toBe(server.spanId);
      expect(tunnel.attributes['tracecar.parent.source']).toBe('correlation-id');
      expect(tunnel.attributes['tracecar.correlation_id']).toBe('tunnel-corr-1');
      // The doctor does not blame a tunnel for trace headers it cannot see.
      expect(tunnel.events.map((e) => e.name)).not.toContain('tracecar.propagation.lost');
    } finally {
      await sidecar.close();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });
});

describe('parseAuthority', () => {
  it.each([
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
  ])('%s', (input, expected) => expect(parseAuthority(input)).toEqual(expected));

  it.each(['example.com', 'example.com:0', 'example.com:70000', ':443', 'http://x:1', '[::1]', 'a b:1', '::1:443'])('rejects %s', (input) => {
    expect(typeof parseAuthority(input)).toBe('string');
  });
});
