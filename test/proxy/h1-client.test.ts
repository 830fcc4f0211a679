/**
 * tracecar's own HTTP/1.1 upstream client (proxy/h1-client.ts), against raw-socket upstreams that
 * answer exact bytes: framing (RFC 9112 §6), keep-alive reuse and its limits, backpressure, the
 * request head it writes, what it leaves to undici, and a graceful close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { H1Client, type UpstreamDispatcher } from '../../src/proxy/h1-client.js';
import { waitFor } from '../helpers/wait.js';

interface Upstream {
  origin: string;
  /** What each connection received, latin1, in connection order. */
  received: string[];
  sockets: Socket[];
  server: Server;
}

/** Answers the n-th request head of the whole server with `answers[n]` (a function gets the socket). */
async function rawUpstream(answers: Array<string | ((s: Socket) => void)>): Promise<Upstream> {
  const received: string[] = [];
  const sockets: Socket[] = [];
  let n = 0;
  const server = createServer((socket) => {
    const i = sockets.push(socket) - 1;
    received[i] = '';
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (d: Buffer) => {
      received[i] += d.toString('latin1');
      pending += d.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        pending = pending.slice(end + 4);
        const a = answers[n++] ?? 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
        if (typeof a === 'string') socket.write(a);
        else a(socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, sockets, server };
}

interface Result {
  statuses: number[];
  headers: string[];
  statusText: string;
  body: string;
  trailers: string[];
  error?: Error & { code?: string };
}

/** One exchange through `client`, collected; `onData` may answer false (backpressure). */
function exchange(client: UpstreamDispatcher, opts: Partial<Dispatcher.DispatchOptions>, hooks: { onData?: (chunk: Buffer, resume: () => void) => boolean; onConnect?: (abort: (e?: Error) => void) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { statuses: [], headers: [], statusText: '', body: '', trailers: [] };
    let resume = (): void => {};
    const handler: Dispatcher.DispatchHandler = {
      onConnect: (abort) => hooks.onConnect?.(abort),
      onHeaders: (status, raw, res, text) => {
        r.statuses.push(status);
        if (status >= 200) {
          r.headers = (raw as unknown as string[]).map(String);
          r.statusText = text;
        }
        resume = res;
        return true;
      },
      onData: (chunk) => {
        r.body += chunk.toString('latin1');
        return hooks.onData ? hooks.onData(chunk, resume) : true;
      },
      onComplete: (trailers) => {
        r.trailers = (trailers ?? []).map(String);
        resolve(r);
      },
      onError: (err) => {
        r.error = err;
        resolve(r);
      },
    };
    client.dispatch({ origin: opts.origin!, path: '/', method: 'GET', headers: [], headersTimeout: 2_000, bodyTimeout: 2_000, ...opts } as Dispatcher.DispatchOptions, handler);
  });
}

const noFallback = (): never => {
  throw new Error('not for the fallback');
};

function client(fallback: () => UpstreamDispatcher & { close(): Promise<void>; stats: Record<string, unknown> } = noFallback): H1Client {
  return new H1Client({ connectTimeout: 2_000, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, fallback });
}

describe('h1-client: the upstream client for bodiless requests', () => {
  let up: Upstream | undefined;
  let c: H1Client | undefined;
  afterEach(async () => {
    await c?.close();
    for (const s of up?.sockets ?? []) s.destroy();
    if (up) await new Promise((r) => up!.server.close(r));
    up = undefined;
    c = undefined;
  });

  it('writes the request line, a Host from the origin, keep-alive and the headers as given; reuses the connection', async () => {
    up = await rawUpstream([]);
    c = client();
    const a = await exchange(c, { origin: up.origin, path: '/a?b=1', headers: ['x-one', '1', 'X-Two', 'two'] });
    expect(a.statuses).toEqual([200]);
    expect(a.body).toBe('ok');
    const b = await exchange(c, { origin: up.origin, path: '/b', method: 'POST', headers: ['Host', 'app.example'] });
    expect(b.body).toBe('ok');
    expect(up.received).toHaveLength(1);
    const port = new URL(up.origin).port;
    expect(up.received[0]).toBe(
      `GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\nx-one: 1\r\nX-Two: two\r\n\r\n` +
        // A bodiless POST says so (content-length: 0), as undici does; the caller's Host is kept.
        `POST /b HTTP/1.1\r\nconnection: keep-alive\r\ncontent-length: 0\r\nHost: app.example\r\n\r\n`,
    );
    expect(c.stats[up.origin]).toEqual({ connected: 1, free: 1, pending: 0, running: 0 });
  });

  it('a header value or path that would split the request is refused before anything is written', async () => {
    up = await rawUpstream([]);
    c = client();
    const a = await exchange(c, { origin: up.origin, headers: ['x-evil', 'a\r\nx-injected: 1'] });
    expect(a.error?.code).toBe('UND_ERR_INVALID_ARG');
    const b = await exchange(c, { origin: up.origin, path: '/a HTTP/1.1\r\nx: y' });
    expect(b.error?.code).toBe('UND_ERR_INVALID_ARG');
    expect(up.sockets).toHaveLength(0);
  });

  it('chunked bodies with extensions and trailers, close-delimited bodies, HEAD, 204 and 1xx are framed as RFC 9112 §6.3 says', async () => {
    up = await rawUpstream([
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n', // to a HEAD: no body follows
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc',
      (s) => s.end('HTTP/1.1 200 OK\r\n\r\nuntil the close'),
    ]);
    c = client();
    const chunked = await exchange(c, { origin: up.origin });
    expect(chunked.body).toBe('hello world');
    expect(chunked.trailers).toEqual(['x-trailer', 't']);
    const head = await exchange(c, { origin: up.origin, method: 'HEAD' });
    expect(head.headers).toEqual(['content-length', '100']);
    expect(head.body).toBe('');
    const noContent = await exchange(c, { origin: up.origin });
    expect(noContent.statuses).toEqual([204]);
    const hints = await exchange(c, { origin: up.origin });
    expect(hints.statuses).toEqual([103, 200]);
    expect(hints.body).toBe('abc');
    expect(up.received).toHaveLength(1); // all four on one connection
    const closeDelimited = await exchange(c, { origin: up.origin });
    expect(closeDelimited.error).toBeUndefined();
    expect(closeDelimited.body).toBe('until the close');
  });

  it('headers fragmented byte by byte and more than 32 fields arrive whole', async () => {
    const fields = Array.from({ length: 40 }, (_, i) => `x-f${i}: v${i}\r\n`).join('');
    const response = `HTTP/1.1 200 OK\r\n${fields}content-length: 2\r\n\r\nok`;
    up = await rawUpstream([
      (s) => {
        let i = 0;
        const next = (): void => {
          if (i < response.length) s.write(response[i++], next);
        };
        next();
      },
    ]);
    c = client();
    const r = await exchange(c, { origin: up.origin });
    expect(r.headers).toHaveLength(82);
    expect(r.headers.slice(78)).toEqual(['x-f39', 'v39', 'content-length', '2']);
    expect(r.body).toBe('ok');
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', "Transfer-Encoding can't be present with Content-Length"],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nokk', 'Duplicate Content-Length'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok', 'Invalid header field char'],
    ['an unrequested upgrade', 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n', 'Upgrade in a response to a request that asked for none'],
  ])('smuggling-shaped response (%s) → HTTPParserError naming it, connection not reused', async (_what, response, reason) => {
    up = await rawUpstream([response]);
    c = client();
    const r = await exchange(c, { origin: up.origin });
    expect(r.error?.name).toBe('HTTPParserError');
    expect(r.error?.message).toContain(reason);
    await waitFor(() => c!.stats[up!.origin] === undefined, 2_000, 'the connection gone');
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    expect(up.sockets).toHaveLength(2);
  });

  it('bytes after a complete response (nothing asked for them) close the connection instead of answering the next request', async () => {
    up = await rawUpstream(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale']);
    c = client();
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    const next = await exchange(c, { origin: up.origin });
    expect(next.body).toBe('ok');
    expect(up.sockets).toHaveLength(2);
  });

  it('Connection: close, HTTP/1.0 and a Keep-Alive hint too short to use are not reused; a usable hint is', async () => {
    up = await rawUpstream([
      'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nkeep-alive: timeout=5\r\ncontent-length: 2\r\n\r\nok',
    ]);
    c = client();
    for (let i = 0; i < 3; i++) expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    await exchange(c, { origin: up.origin });
    await exchange(c, { origin: up.origin });
    expect(up.sockets).toHaveLength(4);
    expect(up.received[3].match(/GET \//g)).toHaveLength(2);
  });

  it('a connection idle past the keep-alive limit is closed, not reused', async () => {
    up = await rawUpstream([]);
    c = new H1Client({ connectTimeout: 2_000, keepAliveTimeout: 50, keepAliveMaxTimeout: 60_000, fallback: noFallback });
    await exchange(c, { origin: up.origin });
    await new Promise((r) => setTimeout(r, 120));
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    expect(up.sockets).toHaveLength(2);
    await waitFor(() => up!.sockets[0].destroyed || up!.sockets[0].readableEnded, 2_000, 'the expired connection closed');
  });

  it('an idle connection the upstream closes leaves the pool; the next request opens another', async () => {
    up = await rawUpstream([]);
    c = client();
    await exchange(c, { origin: up.origin });
    up.sockets[0].end();
    await waitFor(() => c!.stats[up!.origin] === undefined, 2_000, 'the closed connection out of the pool');
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    expect(up.sockets).toHaveLength(2);
  });

  it('backpressure: onData answering false pauses the socket until resume; a response that ends paused leaves a usable connection', async () => {
    const big = 'x'.repeat(256 * 1024);
    up = await rawUpstream([`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`]);
    c = client();
    let calls = 0;
    let bodyWhenPaused = 0;
    let bodyWhenResumed = -1;
    let got = 0;
    const r = await exchange(
      c,
      { origin: up.origin },
      {
        onData: (chunk, resume) => {
          got += chunk.length;
          calls++;
          if (calls === 1) {
            bodyWhenPaused = got;
            setTimeout(() => {
              bodyWhenResumed = got; // nothing may arrive while paused
              resume();
            }, 50);
            return false;
          }
          return got < big.length; // the last chunk asks to pause too, and nothing resumes
        },
      },
    );
    expect(r.body.length).toBe(big.length);
    expect(bodyWhenPaused).toBeLessThan(big.length);
    expect(bodyWhenResumed).toBe(bodyWhenPaused);
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    expect(up.sockets).toHaveLength(1);
  }, 10_000);

  it('a request body with Content-Length goes as received; without one, chunked; the connection is reused after either', async () => {
    up = await rawUpstream([]);
    c = client();
    const sized = await exchange(c, { origin: up.origin, method: 'PUT', headers: ['content-length', '11'], body: Readable.from([Buffer.from('hello'), Buffer.from(' world')]) });
    expect(sized.body).toBe('ok');
    const chunked = await exchange(c, { origin: up.origin, method: 'POST', headers: [], body: Readable.from([Buffer.from('abc'), Buffer.from('defgh')]) });
    expect(chunked.body).toBe('ok');
    expect(up.received).toHaveLength(1);
    const port = new URL(up.origin).port;
    expect(up.received[0]).toBe(
      `PUT / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\ncontent-length: 11\r\n\r\nhello world` +
        `POST / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n`,
    );
  });

  it('a body shorter or longer than its Content-Length fails the request and closes the connection', async () => {
    up = await rawUpstream([() => {}, () => {}]);
    c = client();
    const short = await exchange(c, { origin: up.origin, method: 'POST', headers: ['content-length', '10'], body: Readable.from([Buffer.from('12345')]) });
    expect(short.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    const long = await exchange(c, { origin: up.origin, method: 'POST', headers: ['content-length', '2'], body: Readable.from([Buffer.from('12345')]) });
    expect(long.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    await waitFor(() => c!.stats[up!.origin] === undefined, 2_000, 'both connections closed');
  });

  it('a request body that errors fails the request with its error', async () => {
    up = await rawUpstream([() => {}]);
    c = client();
    const body = new PassThrough();
    const r = exchange(c, { origin: up.origin, method: 'POST', headers: [], body });
    body.write('part');
    await waitFor(() => up!.received[0]?.includes('part'), 2_000, 'the first part at the upstream');
    body.destroy(Object.assign(new Error('too big'), { code: 'TEST_BODY' }));
    expect((await r).error?.code).toBe('TEST_BODY');
  });

  it('a body that ended badly while the connection was being made is not sent at all', async () => {
    up = await rawUpstream([]);
    c = client();
    const body = new PassThrough();
    const r = exchange(c, { origin: up.origin, method: 'POST', headers: [], body });
    body.destroy(Object.assign(new Error('bad chunk'), { code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect((await r).error?.code).toBe('HPE_INVALID_CHUNK_SIZE');
    await waitFor(() => up!.sockets[0]?.destroyed || up!.sockets[0]?.readableEnded, 2_000, 'the connection closed');
    expect(up.received[0]).toBe('');
  });

  it('an answer before the request body is done (an early 413) completes the exchange; the connection is closed, not reused', async () => {
    up = await rawUpstream(['HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n']);
    c = client();
    const body = new PassThrough();
    body.write('the start of a long body');
    const r = await exchange(c, { origin: up.origin, method: 'POST', headers: ['content-length', '1000000'], body });
    expect(r.statuses).toEqual([413]);
    expect(r.error).toBeUndefined();
    expect((await exchange(c, { origin: up.origin })).body).toBe('ok');
    expect(up.sockets).toHaveLength(2);
    body.destroy();
  });

  it('backpressure on the request body: an upstream that stops reading stops the body being read; all of it arrives once it reads again', async () => {
    const total = 64 * 1024 * 1024;
    let produced = 0;
    const body = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
      },
    });
    let upstreamSocket: Socket | undefined;
    let got = 0;
    const server = createServer((s) => {
      upstreamSocket = s;
      s.pause();
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= total) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    c = client();
    try {
      const r = exchange(c, { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, method: 'PUT', headers: ['content-length', String(total)], body });
      await waitFor(() => upstreamSocket !== undefined, 2_000, 'the upstream connection');
      // The body stops being produced while the upstream does not read: it settles below the total.
      let last = -1;
      await waitFor(
        () => {
          const settled = produced === last;
          last = produced;
          return settled;
        },
        5_000,
        'the body to stop',
        100,
      );
      expect(produced).toBeLessThan(total);
      upstreamSocket!.resume();
      expect((await r).body).toBe('ok');
      expect(produced).toBe(total);
    } finally {
      upstreamSocket?.destroy();
      await new Promise((r) => server.close(r));
    }
  }, 20_000);

  it("an abort after the response does not touch the connection's next request", async () => {
    up = await rawUpstream([]);
    c = client();
    let abort: ((e?: Error) => void) | undefined;
    await exchange(c, { origin: up.origin }, { onConnect: (a) => (abort = a) });
    const next = exchange(c, { origin: up.origin });
    abort!(new Error('late'));
    expect((await next).body).toBe('ok');
    expect(up.sockets).toHaveLength(1);
  });

  it('headers timeout and body timeout carry undici’s codes; a refused connect carries the socket’s', async () => {
    up = await rawUpstream([() => {}, (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')]);
    c = client();
    expect((await exchange(c, { origin: up.origin, headersTimeout: 100 })).error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    const mid = await exchange(c, { origin: up.origin, bodyTimeout: 100 });
    expect(mid.body).toBe('abc');
    expect(mid.error?.code).toBe('UND_ERR_BODY_TIMEOUT');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect((await exchange(c, { origin: `http://127.0.0.1:${port}` })).error?.code).toBe('ECONNREFUSED');
  });

  it('a body that is not a stream, an upgrade or an https:// origin goes to the fallback dispatcher, created on first use', async () => {
    const seen: string[] = [];
    let created = 0;
    const fallback = () => {
      created++;
      return {
        dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
          seen.push(`${opts.method} ${opts.origin} ${opts.upgrade ?? ''}`.trim());
          handler.onError?.(new Error('fallback'));
          return true;
        },
        close: async () => {},
        stats: {},
      };
    };
    c = client(fallback);
    expect(created).toBe(0);
    await exchange(c, { origin: 'http://127.0.0.1:1', method: 'POST', body: 'x' });
    await exchange(c, { origin: 'http://127.0.0.1:1', upgrade: 'websocket' });
    await exchange(c, { origin: 'https://127.0.0.1:1' });
    expect(seen).toEqual(['POST http://127.0.0.1:1', 'GET http://127.0.0.1:1 websocket', 'GET https://127.0.0.1:1']);
    expect(created).toBe(1);
  });

  it('close() lets the request in flight finish, closes the idle connections, then refuses new requests', async () => {
    let release: (() => void) | undefined;
    up = await rawUpstream([(s) => (release = () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate'))]);
    c = client();
    const other = await rawUpstream([]);
    try {
      await exchange(c, { origin: other.origin }); // an idle connection elsewhere
      const inFlight = exchange(c, { origin: up.origin });
      await waitFor(() => release !== undefined, 2_000, 'the request at the upstream');
      let closed = false;
      const closing = c.close().then(() => (closed = true));
      await waitFor(() => other.sockets[0].readableEnded || other.sockets[0].destroyed, 2_000, 'the idle connection closed');
      expect(closed).toBe(false);
      release!();
      expect((await inFlight).body).toBe('late');
      await closing;
      expect((await exchange(c, { origin: up.origin })).error?.code).toBe('UND_ERR_CLOSED');
    } finally {
      for (const s of other.sockets) s.destroy();
      await new Promise((r) => other.server.close(r));
    }
  });
});
