/**
 * One port, HTTP/1.1 and HTTP/2. The listening server is node:http's (or node:https's with TLS),
 * so HTTP/1.1 keeps every behaviour, option and event it has today; HTTP/2 connections are taken
 * off it before node:http sees them and handed to a node:http2 server (compatibility API):
 *
 *   cleartext: the first bytes are read; the HTTP/2 connection preface (RFC 9113 §3.4, "prior
 *              knowledge") goes to http2, anything else is put back and goes to http;
 *   TLS:       ALPN (RFC 7301) offers h2 and http/1.1; "h2" goes to http2, the rest to http.
 *
 * `Upgrade: h2c` (RFC 9113 §3.1 deprecates it) is not answered: such a request is served as the
 * HTTP/1.1 request it also is (proxy/upgrade.ts), which RFC 9110 §7.8 allows.
 *
 * HTTP/2 sessions are tracked here: idle ones are closed with GOAWAY after `idleTimeout`, and
 * shutdown sends GOAWAY to all (in-flight streams finish) before the drain deadline destroys them.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The HTTP/2 connection preface a client with prior knowledge sends first (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Http2ListenerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to each caller. */
  maxConcurrentStreams: number;
  /** A session with no open stream for this long is closed with GOAWAY. */
  idleTimeout: number;
  /** How long a new cleartext connection may stay silent before its protocol is known. */
  prefaceTimeout: number;
}

export interface ProtocolListenerOptions {
  /** node:http options (HTTP/1.1 behaviour, unchanged). */
  http1: ServerOptions;
  http2: Http2ListenerOptions;
  /** Certificate and key to serve TLS with; absent = cleartext. */
  tls?: { cert: Buffer; key: Buffer };
}

/** A request and its response as either protocol delivers them (node's HTTP/2 compatibility API mirrors node:http). */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export interface ProtocolListener {
  /** The server that listens: node:http (or node:https) — HTTP/1.1 events are registered on it. */
  readonly server: HttpServer;
  /** The HTTP/2 server connections are handed to: register `request` on it. */
  readonly http2: Http2Server;
  /** HTTP/2 sessions open now. */
  readonly sessions: number;
  /** Serve a new certificate and key to new connections (TLS only). */
  setCertificate(tls: { cert: Buffer; key: Buffer }): void;
  /** Stop accepting; close idle HTTP/1.1 connections; GOAWAY to every HTTP/2 session (its streams finish). */
  close(): void;
  /** Cut whatever is left (after the drain deadline). */
  closeAll(): void;
}

export function createProtocolListener(options: ProtocolListenerOptions): ProtocolListener {
  const tls = options.tls;
  const server: HttpServer = tls
    ? (createHttpsServer({ ...options.http1, cert: tls.cert, key: tls.key, ALPNProtocols: ['h2', 'http/1.1'] }) as unknown as HttpServer)
    : createHttpServer(options.http1);
  const http2 = createHttp2Server({ settings: { maxConcurrentStreams: options.http2.maxConcurrentStreams } });
  const sessions = new Set<ServerHttp2Session>();
  let closing = false;

  http2.on('session', (session) => trackSession(session, sessions, options.http2.idleTimeout, () => closing));

  // node:http registers its connection handler on `connection` (TLS: `secureConnection`); take it
  // over and call it for everything that is not HTTP/2.
  const event = tls ? 'secureConnection' : 'connection';
  const http1Listeners = server.listeners(event) as Array<(socket: Socket) => void>;
  server.removeAllListeners(event);
  const toHttp1 = (socket: Socket): void => {
    for (const l of http1Listeners) l.call(server, socket);
  };
  const toHttp2 = (socket: Socket): void => {
    if (closing) return void socket.destroy();
    http2.emit('connection', socket);
  };
  if (tls) {
    server.on('secureConnection', (socket: TLSSocket) => (socket.alpnProtocol === 'h2' ? toHttp2(socket) : toHttp1(socket)));
  } else {
    server.on('connection', (socket: Socket) => sniffPreface(socket, toHttp1, toHttp2, options.http2.prefaceTimeout));
  }

  return {
    server,
    http2,
    get sessions() {
      return sessions.size;
    },
    setCertificate(next) {
      if (!tls) return;
      (server as unknown as { setSecureContext(o: object): void }).setSecureContext({ cert: next.cert, key: next.key, ALPNProtocols: ['h2', 'http/1.1'] });
    },
    close() {
      closing = true;
      server.close();
      server.closeIdleConnections();
      for (const s of sessions) if (!s.closed) s.close();
    },
    closeAll() {
      closing = true;
      server.closeAllConnections();
      for (const s of sessions) s.destroy();
    },
  };
}

/**
 * Reads until the bytes either are the HTTP/2 preface or cannot be, then puts them back and hands
 * the socket over. Only a prefix of the preface is waited on; HTTP/1.1 methods differ from "PRI "
 * within the first bytes, so an HTTP/1.1 client is handed over on its first packet.
 */
function sniffPreface(socket: Socket, http1: (s: Socket) => void, http2: (s: Socket) => void, timeoutMs: number): void {
  let seen: Buffer | undefined;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer): void => {
    seen = seen ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(seen.length, PREFACE.length);
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) return handOver(http1);
    if (seen.length >= PREFACE.length) handOver(http2);
  };
  const onGone = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
  };
  const handOver = (to: (s: Socket) => void): void => {
    onGone();
    socket.off('close', onGone);
    socket.off('error', onGone);
    socket.pause();
    socket.unshift(seen!);
    to(socket);
    // The new owner reads what was put back once the socket flows again.
    process.nextTick(() => socket.resume());
  };
  socket.on('data', onData);
  socket.once('close', onGone);
  socket.once('error', onGone);
}

/** Counts a session's open streams; closes it with GOAWAY when it stays idle, or at once when the listener is closing. */
function trackSession(session: ServerHttp2Session, sessions: Set<ServerHttp2Session>, idleTimeout: number, closing: () => boolean): void {
  if (closing()) return void session.close();
  sessions.add(session);
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (open === 0 && !session.closed) session.close();
    }, idleTimeout).unref();
  };
  armIdle();
  session.on('stream', (stream) => {
    open++;
    clearTimeout(idle);
    stream.once('close', () => {
      if (--open === 0) armIdle();
    });
  });
  session.on('error', () => {});
  session.once('close', () => {
    clearTimeout(idle);
    sessions.delete(session);
  });
}
