/**
 * WebSockets through tracecar with real sockets: a ws echo app behind ingress, and an app's
 * outgoing WebSocket through egress (named route and forward proxy). Frames must pass untouched;
 * the upgrade is traced like a request and the connection's life gets a linked span.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { waitFor } from '../helpers/wait.js';

interface EchoApp {
  url: string;
  port: number;
  /** Headers of every upgrade request the app received. */
  upgrades: IncomingHttpHeaders[];
  urls: string[];
  close(): Promise<void>;
}

/** A ws echo app. `/reject` answers 403; `/drop` cuts the TCP connection after the first message. */
async function startEchoApp(): Promise<EchoApp> {
  const upgrades: IncomingHttpHeaders[] = [];
  const urls: string[] = [];
  const server: Server = createServer((_req, res) => res.end('plain http'));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades.push(req.headers);
    urls.push(req.url ?? '');
    if (req.url === '/reject') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\nno way');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (req.url === '/drop') {
          socket.destroy();
          return;
        }
        ws.send(data as Buffer, { binary: isBinary });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    upgrades,
    urls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Opened {
  ws: WebSocket;
  /** Response headers of the 101. */
  headers: IncomingHttpHeaders;
}

function open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    let headers: IncomingHttpHeaders = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('open', () => resolve({ ws, headers }));
    ws.once('error', reject);
  });
}

/** Non-101 answer to a handshake: status, headers and body. */
function refused(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.on('open', () => reject(new Error('unexpectedly upgraded')));
    ws.on('error', () => {});
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: RawData, isBinary: boolean) => resolve({ data: data as Buffer, isBinary })));
}

const ONE_MIB = randomBytes(1024 * 1024);
const BINARY = randomBytes(1000);

/**
 * The conversation every test runs: text, binary, a message in three fragments, 1 MiB, then a
 * normal close from the client. Returns the exact wire bytes each way (no compression is
 * negotiated: the ws server does not enable permessage-deflate by default).
 */
async function converse(ws: WebSocket): Promise<{ clientBytes: number; serverBytes: number }> {
  let m = nextMessage(ws);
  ws.send('hello');
  expect(await m).toEqual({ data: Buffer.from('hello'), isBinary: false });

  m = nextMessage(ws);
  ws.send(BINARY);
  const bin = await m;
  expect(bin.isBinary).toBe(true);
  expect(bin.data.equals(BINARY)).toBe(true);

  m = nextMessage(ws);
  ws.send('frag-a', { fin: false });
  ws.send('frag-b', { fin: false });
  ws.send('frag-c', { fin: true });
  expect((await m).data.toString()).toBe('frag-afrag-bfrag-c');

  m = nextMessage(ws);
  ws.send(ONE_MIB);
  const big = await m;
  expect(big.data.equals(ONE_MIB)).toBe(true);

  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(1000, 'bye');
  expect(await closed).toBe(1000);
  // Client frames are masked (+4 bytes); a close frame carries the code and reason.
  const clientBytes = 2 + 4 + 5 + (2 + 2 + 4 + 1000) + 3 * (2 + 4 + 6) + (2 + 8 + 4 + ONE_MIB.length) + (2 + 4 + 2 + 3);
  const serverBytes = 2 + 5 + (2 + 2 + 1000) + (2 + 18) + (2 + 8 + ONE_MIB.length) + (2 + 2 + 3);
  return { clientBytes, serverBytes };
}

function traceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

function spansOf(tc: RunningTracecar, traceId: string, count: number): Promise<SpanRecord[]> {
  return waitFor(() => {
    const spans = tc.tracecar.store.get(traceId);
    return spans && spans.length >= count ? spans : undefined;
  }, 5_000, `${count} spans in trace ${traceId}`);
}

describe('WebSocket through ingress', () => {
  let app: EchoApp;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startEchoApp();
    tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('echoes every kind of message unchanged and traces the upgrade and the connection', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const { ws, headers } = await open(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`, {
      headers: { traceparent: traceparent(traceId, callerSpan), 'x-request-id': 'ws-req-1', b3: 'stale-b3-value' },
    });
    const { clientBytes, serverBytes } = await converse(ws);

    // The 101 carries the correlation id and the W3C traceresponse.
    expect(headers['x-request-id']).toBe('ws-req-1');
    expect(headers.traceresponse).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await spansOf(tc, traceId, 2);
    const upgrade = spans.find((s) => s.kind === 'server')!;
    const conn = spans.find((s) => s.kind === 'internal')!;

    // Upgrade span: child of the caller, ends at the 101, its id is what the app received.
    expect(upgrade.name).toBe('GET /chat');
    expect(upgrade.parentSpanId).toBe(callerSpan);
    expect(upgrade.attributes['http.response.status_code']).toBe(101);
    expect(upgrade.status.code).toBe('unset');
    expect(upgrade.endTime).toBeLessThanOrEqual(conn.startTime);
    const seen = app.upgrades.at(-1)!;
    expect(seen.traceparent).toBe(traceparent(traceId, upgrade.spanId));
    // The caller's (stale, invalid) b3 is replaced by ours, in the format the caller used.
    expect(seen.b3).toBe(`${traceId}-${upgrade.spanId}-1-${callerSpan}`);
    expect(seen['x-request-id']).toBe('ws-req-1');
    expect(seen.upgrade).toBe('websocket');
    expect(String(seen.connection).toLowerCase()).toBe('upgrade');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers.traceresponse).toBe(traceparent(traceId, upgrade.spanId));

    // Connection span: linked to the upgrade, counts what crossed, normal close is not an error.
    expect(conn.name).toBe('WS /chat');
    expect(conn.parentSpanId).toBe(upgrade.spanId);
    expect(conn.links).toEqual([{ traceId, spanId: upgrade.spanId, attributes: { 'tracecar.link.type': 'websocket.upgrade' } }]);
    expect(conn.attributes['tracecar.websocket.messages.in']).toBe(4);
    expect(conn.attributes['tracecar.websocket.messages.out']).toBe(4);
    expect(conn.attributes['tracecar.websocket.bytes.in']).toBe(clientBytes);
    expect(conn.attributes['tracecar.websocket.bytes.out']).toBe(serverBytes);
    expect(conn.attributes['tracecar.websocket.close.code']).toBe(1000);
    expect(conn.attributes['tracecar.websocket.close.by']).toBe('peer');
    expect(conn.attributes['tracecar.correlation_id']).toBe('ws-req-1');
    expect(conn.status.code).toBe('unset');
  });

  it('counts the upgrade once as a request and the connection not at all', async () => {
    const before = await tc.tracecar.metrics.render();
    const count = (text: string): number => {
      const line = text.split('\n').find((l) => l.startsWith('tracecar_requests_total') && l.includes('route="/chat"') && l.includes('side="ingress"'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const { ws } = await open(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
    await waitFor(() => tc.tracecar.inflight === 0, 2000, 'no request in flight');
    const after = await tc.tracecar.metrics.render();
    expect(count(after) - count(before)).toBe(1);
  });

  it('an upstream that refuses the connection gives 502 and an error span', async () => {
    const dead = await deadPort();
    const broken = await startTracecar({ ingress: { target: `http://127.0.0.1:${dead}` }, export: { console: 'off' } });
    try {
      const traceId = randomBytes(16).toString('hex');
      const r = await refused(`ws://127.0.0.1:${broken.addresses.ingress.port}/chat`, {
        headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')), 'x-request-id': 'refused-1' },
      });
      expect(r.status).toBe(502);
      expect(r.body).toMatch(/refused/);
      expect(r.headers['x-request-id']).toBe('refused-1');
      const [span] = await spansOf(broken, traceId, 1);
      expect(span.name).toBe('GET /chat');
      expect(span.status.code).toBe('error');
      expect(span.attributes['http.response.status_code']).toBe(502);
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_CONNECT');
      expect(span.attributes['error.type']).toBe('ECONNREFUSED');
    } finally {
      await broken.close();
    }
  });

  it('a non-101 answer reaches the client as it is, and the span ends with it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const r = await refused(`ws://127.0.0.1:${tc.addresses.ingress.port}/reject`, {
      headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')) },
    });
    expect(r.status).toBe(403);
    expect(r.body).toBe('no way');
    const [span] = await spansOf(tc, traceId, 1);
    expect(span.attributes['http.response.status_code']).toBe(403);
    expect(span.status.code).toBe('unset'); // 4xx is not a SERVER span error
  });

  it('a connection that ends without a close frame is an abnormal close (1006) and an error', async () => {
    const traceId = randomBytes(16).toString('hex');
    const { ws } = await open(`ws://127.0.0.1:${tc.addresses.ingress.port}/drop`, {
      headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')) },
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('bye');
    expect(await closed).toBe(1006);
    const spans = await spansOf(tc, traceId, 2);
    const conn = spans.find((s) => s.kind === 'internal')!;
    expect(conn.status.code).toBe('error');
    expect(conn.status.message).toMatch(/without a WebSocket close frame/);
    expect(conn.attributes['tracecar.websocket.close.code']).toBe(1006);
    expect(conn.attributes['tracecar.websocket.messages.in']).toBe(1);
    expect(conn.attributes['tracecar.websocket.messages.out']).toBe(0);
  });

  it('a close with a failure code (1011) is an error; an application code (4000) is not', async () => {
    for (const [code, status] of [
      [1011, 'error'],
      [4000, 'unset'],
    ] as const) {
      const traceId = randomBytes(16).toString('hex');
      const { ws } = await open(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`, {
        headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')) },
      });
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close(code);
      await closed;
      const conn = (await spansOf(tc, traceId, 2)).find((s) => s.kind === 'internal')!;
      expect(conn.attributes['tracecar.websocket.close.code']).toBe(code);
      expect(conn.status.code).toBe(status);
    }
  });

  it('an Upgrade other than websocket (h2c) is served as the plain request it also is', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: tc.addresses.ingress.port,
          path: '/plain',
          agent: false,
          headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('upgrade', () => reject(new Error('unexpected 101')));
      req.on('error', reject);
      req.end();
    });
    expect(r).toEqual({ status: 200, body: 'plain http' });
  });
});

describe('WebSocket upgrade timeouts and aborts', () => {
  /** Accepts connections, reads the handshake, never answers. */
  async function silentServer(): Promise<{ port: number; sockets: Socket[]; close(): Promise<void> }> {
    const sockets: Socket[] = [];
    const server = createNetServer((s) => {
      sockets.push(s);
      s.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      sockets,
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('an upstream that never answers the handshake: 504 after timeout.response', async () => {
    const silent = await silentServer();
    const tc = await startTracecar({
      ingress: { target: `http://127.0.0.1:${silent.port}`, timeout: { connect: 1000, response: 200, idle: 1000 } },
      export: { console: 'off' },
    });
    try {
      const traceId = randomBytes(16).toString('hex');
      const started = Date.now();
      const r = await refused(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`, {
        headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')) },
      });
      expect(r.status).toBe(504);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      const [span] = await spansOf(tc, traceId, 1);
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_TIMEOUT');
      expect(span.status.code).toBe('error');
      await waitFor(() => silent.sockets.every((s) => s.destroyed || s.readableEnded), 2000, 'upstream socket released');
    } finally {
      await tc.close();
      await silent.close();
    }
  });

  it('a client that leaves during the handshake aborts the upstream request', async () => {
    const silent = await silentServer();
    const tc = await startTracecar({ ingress: { target: `http://127.0.0.1:${silent.port}` }, export: { console: 'off' } });
    try {
      const traceId = randomBytes(16).toString('hex');
      const ws = new WebSocket(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`, {
        headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')) },
      });
      ws.on('error', () => {});
      await waitFor(() => silent.sockets.length === 1, 2000, 'handshake reached the upstream');
      ws.terminate();
      const [span] = await spansOf(tc, traceId, 1);
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_CLIENT_ABORTED');
      const upstreamGone = new Promise((resolve) => (silent.sockets[0].closed ? resolve(true) : silent.sockets[0].once('close', resolve)));
      await upstreamGone;
      expect(tc.tracecar.inflight).toBe(0);
    } finally {
      await tc.close();
      await silent.close();
    }
  });
});

describe('WebSocket through egress', () => {
  let app: EchoApp;
  let tc: RunningTracecar;
  let dead: number;
  beforeAll(async () => {
    app = await startEchoApp();
    dead = await deadPort();
    tc = await startTracecar({
      ingress: { target: app.url },
      egress: { listen: '127.0.0.1:0', routes: [{ name: 'chat', listen: '127.0.0.1:0', target: app.url }] },
      export: { console: 'off' },
    });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  async function checkEgressTrace(traceId: string, parent: string, peerService: string, sizes: { clientBytes: number; serverBytes: number }): Promise<void> {
    const spans = await spansOf(tc, traceId, 2);
    const upgrade = spans.find((s) => s.kind === 'client')!;
    const conn = spans.find((s) => s.kind === 'internal')!;
    expect(upgrade.name).toBe('GET /chat');
    expect(upgrade.parentSpanId).toBe(parent);
    expect(upgrade.attributes['peer.service']).toBe(peerService);
    expect(upgrade.attributes['http.response.status_code']).toBe(101);
    expect(upgrade.attributes['url.full']).toBe(`${app.url}/chat`);
    const seen = app.upgrades.at(-1)!;
    expect(seen.host).toBe(`127.0.0.1:${app.port}`);
    expect(seen.traceparent).toBe(traceparent(traceId, upgrade.spanId));
    expect(app.urls.at(-1)).toBe('/chat');
    expect(conn.name).toBe('WS /chat');
    expect(conn.parentSpanId).toBe(upgrade.spanId);
    expect(conn.links[0].spanId).toBe(upgrade.spanId);
    // On egress the app is the client: what it sends is "out".
    expect(conn.attributes['tracecar.websocket.messages.out']).toBe(4);
    expect(conn.attributes['tracecar.websocket.messages.in']).toBe(4);
    expect(conn.attributes['tracecar.websocket.bytes.out']).toBe(sizes.clientBytes);
    expect(conn.attributes['tracecar.websocket.bytes.in']).toBe(sizes.serverBytes);
    expect(conn.attributes['tracecar.websocket.close.by']).toBe('app');
    expect(conn.status.code).toBe('unset');
  }

  it('named route: echoes unchanged, Host rewritten, CLIENT span stitched to the forwarded traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const { ws, headers } = await open(`ws://127.0.0.1:${tc.addresses.routes.chat.port}/chat`, {
      headers: { traceparent: traceparent(traceId, parent) },
    });
    const sizes = await converse(ws);
    expect(headers['x-request-id']).toBeTruthy();
    expect(headers.traceresponse).toBeUndefined(); // traceresponse is for callers of the ingress only
    await checkEgressTrace(traceId, parent, 'chat', sizes);
  });

  it('forward proxy, absolute-form handshake (GET ws-target-as-http-URL through HTTP_PROXY)', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const proxyPort = tc.addresses.egress!.port;
    const { ws } = await open(`ws://127.0.0.1:${app.port}/chat`, {
      headers: { traceparent: traceparent(traceId, parent) },
      createConnection: () => netConnect(proxyPort, '127.0.0.1'),
      // What a proxy-aware client sends: the absolute URI as the request target.
      finishRequest: (req) => {
        req.path = `${app.url}/chat`;
        req.end();
      },
    });
    const sizes = await converse(ws);
    await checkEgressTrace(traceId, parent, '127.0.0.1', sizes);
  });

  it('stitched by correlation id alone to the in-flight ingress request of the same sidecar', async () => {
    // An app behind the sidecar's ingress that, while answering, opens a WebSocket through the
    // sidecar's named route and forwards only x-request-id (no trace headers).
    let routePort = 0;
    const caller = createServer(async (req, res) => {
      const { ws } = await open(`ws://127.0.0.1:${routePort}/chat`, { headers: { 'x-request-id': String(req.headers['x-request-id']) } });
      const m = nextMessage(ws);
      ws.send('ping');
      await m;
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await closed;
      res.end('done');
    });
    await new Promise<void>((resolve) => caller.listen(0, '127.0.0.1', resolve));
    const sidecar = await startTracecar({
      ingress: { target: `http://127.0.0.1:${(caller.address() as AddressInfo).port}` },
      egress: { routes: [{ name: 'chat', listen: '127.0.0.1:0', target: app.url }] },
      export: { console: 'off' },
    });
    routePort = sidecar.addresses.routes.chat.port;
    try {
      const traceId = randomBytes(16).toString('hex');
      const res = await fetch(`http://127.0.0.1:${sidecar.addresses.ingress.port}/start`, {
        headers: { traceparent: traceparent(traceId, randomBytes(8).toString('hex')), 'x-request-id': 'corr-ws-1' },
      });
      expect(await res.text()).toBe('done');
      const spans = await spansOf(sidecar, traceId, 3);
      const server = spans.find((s) => s.kind === 'server')!;
      const upgrade = spans.find((s) => s.kind === 'client')!;
      const conn = spans.find((s) => s.kind === 'internal')!;
      expect(upgrade.parentSpanId).toBe(server.spanId);
      expect(upgrade.attributes['tracecar.parent.source']).toBe('correlation-id');
      expect(upgrade.attributes['tracecar.correlation_id']).toBe('corr-ws-1');
      expect(conn.parentSpanId).toBe(upgrade.spanId);
      expect(app.upgrades.at(-1)!.traceparent).toBe(traceparent(traceId, upgrade.spanId));
    } finally {
      await sidecar.close();
      await new Promise<void>((resolve) => caller.close(() => resolve()));
    }
  });

  it('forward proxy to a refused target: 502 and an error CLIENT span', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const r = await refused(`ws://127.0.0.1:${dead}/chat`, {
      headers: { traceparent: traceparent(traceId, parent) },
      createConnection: () => netConnect(tc.addresses.egress!.port, '127.0.0.1'),
      finishRequest: (req) => {
        req.path = `http://127.0.0.1:${dead}/chat`;
        req.end();
      },
    });
    expect(r.status).toBe(502);
    const [span] = await spansOf(tc, traceId, 1);
    expect(span.kind).toBe('client');
    expect(span.parentSpanId).toBe(parent);
    expect(span.status.code).toBe('error');
    expect(span.attributes['http.response.status_code']).toBe(502);
    expect(span.attributes['error.type']).toBe('ECONNREFUSED');
  });
});
