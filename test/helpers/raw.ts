/**
 * Raw TCP on both sides of tracecar, for tests whose point is bytes: a client that writes exact
 * bytes and reads the exact answer, and an upstream that records exactly what each of its
 * connections received and answers every complete request it can frame.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawReply {
  /** Everything tracecar sent back, latin1. */
  text: string;
  /** First line of the answer ('' when none). */
  statusLine: string;
  /** Whether tracecar closed the connection (EOF or reset) before the ceiling. */
  closed: boolean;
}

/**
 * Writes `bytes` (in pieces, optionally spaced) to host:port and collects the answer until the
 * connection closes or `ceilingMs` passes (a ceiling, never a measurement: closed=false then).
 * `halfClose` ends our side after writing.
 */
export function rawRequest(
  port: number,
  bytes: string | Buffer | Array<string | Buffer>,
  options: { halfClose?: boolean; ceilingMs?: number; gapMs?: number } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statusLine: text.split('\r\n')[0] ?? '', closed });
    };
    const timer = setTimeout(() => done(false), options.ceilingMs ?? 5_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
    socket.on('end', () => done(true));
    const pieces = Array.isArray(bytes) ? bytes : [bytes];
    void (async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
      if (options.halfClose && !socket.destroyed) socket.end();
    })();
  });
}

export interface RawConnection {
  /** Every byte this connection received, in order. */
  received: Buffer;
  /** Requests on it that were complete and answered. */
  answered: number;
  /** The peer (tracecar) closed or reset it. */
  closed: boolean;
  socket: Socket;
}

export interface RawUpstream {
  url: string;
  port: number;
  connections: RawConnection[];
  /** All bytes received on all connections, latin1. */
  text(): string;
  close(): Promise<void>;
}

/**
 * A raw HTTP/1.1 app: frames requests by Content-Length or chunked encoding (nothing else), and
 * answers each complete one `200 ok`. A connection that never completes a request stays as it is:
 * tests read `received` and `closed` to see what the app would have seen.
 */
export async function startRawUpstream(answer = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'): Promise<RawUpstream> {
  const connections: RawConnection[] = [];
  const server: Server = createServer((socket) => {
    const conn: RawConnection = { received: Buffer.alloc(0), answered: 0, closed: false, socket };
    connections.push(conn);
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      conn.received = Buffer.concat([conn.received, d]);
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const used = completeRequestLength(pending);
        if (used === undefined) break;
        pending = pending.subarray(used);
        conn.answered++;
        socket.write(answer);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (conn.closed = true));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections,
    text: () => connections.map((c) => c.received.toString('latin1')).join(''),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Bytes of the first complete request in `buf`, or undefined while it is incomplete. */
export function completeRequestLength(buf: Buffer): number | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = buf.subarray(0, headEnd).toString('latin1').toLowerCase();
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) return undefined;
      if (size === 0) {
        const end = buf.indexOf('\r\n\r\n', lineEnd);
        return end < 0 ? undefined : end + 4;
      }
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return undefined;
    }
  }
  const length = cl ? Number(cl[1]) : 0;
  return buf.length >= bodyStart + length ? bodyStart + length : undefined;
}
