/**
 * Upstream faults, with raw sockets on both sides: an upstream that truncates a body, resets
 * mid-stream, answers garbage or hangs. Each time: no crash, nothing left behind (in-flight
 * requests, stitching entries, pooled upstream requests), the client is never given something
 * that looks complete when it is not, and an ERROR span names the cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { rawRequest } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

type Behaviour = (socket: Socket) => void;

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** A raw upstream: each request path picks how it misbehaves. */
async function faultyUpstream(behaviours: Record<string, Behaviour>): Promise<{ port: number; sockets: Socket[]; server: Server }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = buf.split(' ')[1] ?? '/';
      buf = buf.slice(end + 4);
      (behaviours[path] ?? ((s) => s.write(OK)))(socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, sockets, server };
}

const later = (ms: number, f: () => void): void => void setTimeout(f, ms);

const BEHAVIOURS: Record<string, Behaviour> = {
  '/short-content-length': (s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n' + 'a'.repeat(50));
    later(50, () => s.end());
  },
  '/chunked-then-close': (s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
    later(50, () => s.end());
  },
  '/chunked-then-reset': (s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
    later(50, () => s.resetAndDestroy());
  },
  '/garbage': (s) => s.write('HELLO THERE\r\n\r\n'),
  '/garbage-mid-body': (s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'),
  '/reset-before-response': (s) => s.resetAndDestroy(),
  '/close-before-response': (s) => s.end(),
  '/hang': () => {},
  '/hang-mid-body': (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc'),
};

describe('upstream faults: the client is told the truth and the span says why', () => {
  let up: Awaited<ReturnType<typeof faultyUpstream>>;
  let tc: RunningTracecar;
  beforeAll(async () => {
    up = await faultyUpstream(BEHAVIOURS);
    tc = await startTracecar({ ingress: { target: `http://127.0.0.1:${up.port}`, timeout: { response: 500, idle: 500 } } });
  });
  afterAll(async () => {
    await tc.close();
    for (const s of up.sockets) s.destroy();
    await new Promise((r) => up.server.close(r));
  });

  /** The one span of the last request (the store is cleared before each). */
  async function span(): Promise<SpanRecord> {
    return waitFor(() => tc.tracecar.store.list().map((t) => tc.tracecar.store.get(t.traceId)![0])[0], 5_000, 'the span');
  }
  /** Nothing left behind: no request in flight, no stitching entry, no upstream request running or queued. */
  async function nothingLeft(): Promise<void> {
    await waitFor(() => tc.tracecar.inflight === 0 && tc.tracecar.inflightEntries === 0, 5_000, 'no request in flight');
    await waitFor(() => Object.values(tc.tracecar.upstreamPools()).every((p) => p.running === 0 && p.pending === 0), 5_000, 'no upstream request left');
  }
  /**
   * A keep-alive request: a connection closed before the 3 s ceiling was cut by tracecar (its
   * keep-alive timeout is 5 s). `close` asks for Connection: close where the cut is not the point.
   */
  const get = (path: string, close = false) =>
    rawRequest(tc.addresses.ingress.port, `GET ${path} HTTP/1.1\r\nHost: app\r\n${close ? 'Connection: close\r\n' : ''}\r\n`, { ceilingMs: 3_000 });

  it.each([
    ['/short-content-length', 'UND_ERR_SOCKET', '50 of 100 body bytes (Content-Length)'],
    ['/chunked-then-close', 'UND_ERR_SOCKET', 'after 5 body bytes, before the end of the body'],
    ['/chunked-then-reset', 'ECONNRESET', 'after 5 body bytes, before the end of the body'],
  ])('%s: the client gets the status, a body that is visibly incomplete, then a cut connection; TRC_ERR_UPSTREAM_TRUNCATED', async (path, errorType, detail) => {
    tc.tracecar.store.clear();
    const reply = await get(path);
    expect(reply.statusLine).toBe('HTTP/1.1 200 OK');
    expect(reply.closed).toBe(true);
    const body = reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4);
    if (path === '/short-content-length') {
      expect(reply.text.toLowerCase()).toContain('content-length: 100');
      expect(body).toBe('a'.repeat(50));
    } else {
      expect(reply.text.toLowerCase()).toContain('transfer-encoding: chunked');
      expect(body).toBe('5\r\nhello\r\n');
      expect(body).not.toContain('0\r\n\r\n');
    }
    const s = await span();
    expect(s.status.code).toBe('error');
    expect(s.attributes['http.response.status_code']).toBe(200);
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_TRUNCATED');
    expect(s.attributes['error.type']).toBe(errorType);
    expect(s.status.message).toBe(`upstream 127.0.0.1:${up.port} ended the response early: ${detail}; the client connection was cut`);
    await nothingLeft();
  });

  it('garbage instead of a response → 502 naming the parser error; TRC_ERR_UPSTREAM_PROTOCOL', async () => {
    tc.tracecar.store.clear();
    const reply = await get('/garbage', true);
    expect(reply.statusLine).toBe('HTTP/1.1 502 Bad Gateway');
    expect(reply.text).toContain('sent an invalid HTTP response (Expected HTTP/, RTSP/ or ICE/)');
    const s = await span();
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_PROTOCOL');
    expect(s.attributes['error.type']).toBe('HTTPParserError');
    await nothingLeft();
  });

  it('garbage in the middle of a chunked body → the client connection is cut before any last chunk; TRC_ERR_UPSTREAM_PROTOCOL', async () => {
    tc.tracecar.store.clear();
    const reply = await get('/garbage-mid-body');
    expect(reply.statusLine).toBe('HTTP/1.1 200 OK');
    expect(reply.closed).toBe(true);
    expect(reply.text.endsWith('5\r\nhello\r\n')).toBe(true);
    const s = await span();
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_PROTOCOL');
    expect(s.status.message).toContain('Invalid character in chunk size, after 5 body bytes');
    await nothingLeft();
  });

  it.each(['/reset-before-response', '/close-before-response'])('%s → 502; TRC_ERR_UPSTREAM_RESET before responding', async (path) => {
    tc.tracecar.store.clear();
    const reply = await get(path, true);
    expect(reply.statusLine).toBe('HTTP/1.1 502 Bad Gateway');
    expect(reply.text).toContain('closed the connection before responding');
    const s = await span();
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_RESET');
    await nothingLeft();
  });

  it('an upstream that never answers → 504 at timeout.response; TRC_ERR_UPSTREAM_TIMEOUT', async () => {
    tc.tracecar.store.clear();
    const reply = await get('/hang', true);
    expect(reply.statusLine).toBe('HTTP/1.1 504 Gateway Timeout');
    const s = await span();
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_TIMEOUT');
    await nothingLeft();
  });

  it('an upstream that stops mid-body → the client connection is cut at timeout.idle; TRC_ERR_UPSTREAM_IDLE_TIMEOUT', async () => {
    tc.tracecar.store.clear();
    const reply = await get('/hang-mid-body');
    expect(reply.statusLine).toBe('HTTP/1.1 200 OK');
    expect(reply.closed).toBe(true);
    expect(reply.text.endsWith('\r\n\r\nabc')).toBe(true);
    const s = await span();
    expect(s.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_IDLE_TIMEOUT');
    expect(s.attributes['http.response.status_code']).toBe(200);
    await nothingLeft();
  });

  it('after all of that, tracecar still answers, on pooled connections the faults did not poison', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await get('/fine', true);
      expect(reply.statusLine).toBe('HTTP/1.1 200 OK');
    }
    await nothingLeft();
  });
});
