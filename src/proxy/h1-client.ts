/**
 * tracecar's own HTTP/1.1 client towards plain http:// upstreams, the path nearly every proxied
 * request takes; upgrades (WebSocket) and https:// go to undici's Agent, created on first use.
 * Measured reason (docs/performance.md): undici's client side was ~40% of a bare proxy's CPU. It
 * keeps undici's handler interface (proxy/exchange.ts does not know which one ran) and undici's
 * error codes, so spans and error.type read the same.
 *
 * Responses are parsed by Node's own llhttp binding (the parser node:http's client uses, with its
 * strict RFC 9112 framing: Content-Length and Transfer-Encoding together, duplicate lengths, bad
 * chunk sizes and header overflow are errors, never guesses), the common head by proxy/h1-head.ts.
 * Request bodies are streamed with backpressure, as received (Content-Length) or chunked. One
 * request per connection at a time (no pipelining); idle connections are kept per origin for the
 * upstream's Keep-Alive hint.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { keepAliveTimeoutSeconds, readSimpleHead, type SimpleHead } from './h1-head.js';

const require = createRequire(import.meta.url);
const { maxHeaderSize } = require('node:http') as { maxHeaderSize: number };

/**
 * node:http's own response parser. `_http_common` is what node:http's client is built on; Node
 * documents it as deprecated for outside use (DEP0199, documentation-only) but ships it in every
 * version tracecar supports. Should a Node drop it, every request goes to undici instead.
 */
function loadParser(): HTTPParserConstructor | undefined {
  try {
    const { HTTPParser } = require('_http_common') as { HTTPParser?: HTTPParserConstructor };
    return typeof HTTPParser === 'function' && typeof HTTPParser.kOnHeadersComplete === 'number' ? HTTPParser : undefined;
  } catch {
    return undefined;
  }
}
const Parser = loadParser();
/** The parser, for code that only runs when there is one. */
const HTTPParser = Parser as HTTPParserConstructor;

interface HTTPParserInstance {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(chunk: Buffer): number | ParserError;
  finish(): undefined | ParserError;
  close(): void;
  [slot: number]: unknown;
}
interface HTTPParserConstructor {
  new (): HTTPParserInstance;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
interface ParserError extends Error {
  code: string;
  reason: string;
}

/** The part of undici's dispatcher the proxy uses: this client and undici's Agent both are one. */
export interface UpstreamDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

export interface PoolStats {
  connected: number;
  free: number;
  pending: number;
  running: number;
}

export interface H1ClientOptions {
  connectTimeout: number;
  /** Idle connections close after this long unless the upstream's Keep-Alive hint says less. */
  keepAliveTimeout: number;
  keepAliveMaxTimeout: number;
  /** Read the common response head in JavaScript (proxy/h1-head.ts); false: llhttp reads every one. @default true */
  simpleHeads?: boolean;
  /** The dispatcher for what this client does not carry, created on first use. */
  fallback: () => UpstreamDispatcher & { close(): Promise<void>; stats: Record<string, unknown> };
}

/** undici's own codes and messages, so error.type and the catalogue read the same either way. */
function transportError(code: string, message: string, name = 'Error'): Error {
  const e = Object.assign(new Error(message), { code });
  e.name = name;
  return e;
}
function otherSideClosed(): Error {
  return transportError('UND_ERR_SOCKET', 'other side closed', 'SocketError');
}
function aborted(): Error {
  return transportError('UND_ERR_ABORTED', 'Request aborted', 'RequestAbortedError');
}
/** undici's HTTPParserError carries no code for these: error.type stays `HTTPParserError`. */
function parserError(reason: string): Error {
  const e = new Error(`Response does not match the HTTP/1.1 protocol (${reason})`);
  e.name = 'HTTPParserError';
  return e;
}

// A connection's state between requests.
const IDLE = 0;
const CONNECTING = 1;
const WAITING_HEADERS = 2;
const READING_BODY = 3;

const KEEP_ALIVE_THRESHOLD_MS = 2_000; // undici's keepAliveTimeoutThreshold: close before the upstream does
const NOT_SAFE = /[\r\n\0]/;

/** One request on a connection: what the handler was promised, and its abort (handed to onConnect). */
class Pending {
  constructor(
    readonly conn: Connection,
    readonly handler: Dispatcher.DispatchHandler,
    readonly head: string,
    readonly isHead: boolean,
    readonly headersTimeout: number,
    readonly bodyTimeout: number,
    /** The request body, streamed after the head. */
    readonly body: Readable | null,
    /** Its Content-Length, or -1: sent chunked (RFC 9112 §7.1). */
    readonly bodyLength: number,
  ) {}
  done = false;
  /** Abort by the handler (the client left): the connection cannot be reused mid-response. */
  readonly abort = (err?: Error): void => {
    if (this.done) return;
    this.conn.fail(this, err ?? aborted());
  };
}

class OriginPool {
  readonly idle: Connection[] = [];
  connected = 0;
  running = 0;
  constructor(
    readonly client: H1Client,
    readonly key: string,
    readonly host: string,
    readonly port: number,
    /** `host: …\r\n` for requests that carry no Host field of their own. */
    readonly hostLine: string,
  ) {}
}

class Connection {
  readonly socket: Socket;
  readonly parser: HTTPParserInstance;
  state = CONNECTING;
  current: Pending | null = null;
  /** Trailers or headers delivered in pieces (llhttp's slow path). */
  private pieces: string[] | null = null;
  private status = 0;
  private keepAlive = false;
  private keepAliveMs: number;
  /** The socket's timeout now: Node restarts it on every read and write, so it is set only when it changes. */
  private timeoutMs = -1;
  /** While idle: reused only before this time (Date.now()), checked when a request takes it. */
  idleUntil = 0;
  /** A response began that no request asked for: the connection is not to be trusted. */
  private unsolicited = false;
  private finished = false;
  /** The message being read is llhttp's (it began there): the JavaScript head reader waits for the next. */
  private inParser = false;
  /** Body bytes still owed by a response whose head the JavaScript reader took (Content-Length). */
  private bodyLeft = 0;
  /** The request whose body is being written, and how much of it went out. */
  private sending: Pending | null = null;
  private bodySent = 0;
  /** The response ended before the request body did: the connection is not reused. */
  private requestCut = false;
  private socketError: Error | undefined = undefined;

  constructor(readonly pool: OriginPool) {
    const { client } = pool;
    this.keepAliveMs = client.options.keepAliveTimeout;
    const socket = connect({ host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    this.socket = socket;
    this.arm(client.options.connectTimeout);
    socket.on('connect', this.onConnect);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, 0);
    parser[HTTPParser.kOnMessageBegin] = this.onMessageBegin;
    parser[HTTPParser.kOnHeaders] = this.onHeaderPieces;
    parser[HTTPParser.kOnHeadersComplete] = this.onHeadersComplete;
    parser[HTTPParser.kOnBody] = this.onBody;
    parser[HTTPParser.kOnMessageComplete] = this.onMessageComplete;
    this.parser = parser;
    pool.connected++;
  }

  start(p: Pending): void {
    this.current = p;
    this.pool.running++;
    if (this.state === IDLE) this.send(p);
  }

  private send(p: Pending): void {
    this.state = WAITING_HEADERS;
    this.socket.ref();
    p.handler.onConnect?.(p.abort);
    if (p.done) return; // aborted in onConnect
    const body = p.body;
    if (body === null) {
      this.arm(p.headersTimeout);
      this.socket.write(p.head, 'latin1');
      return;
    }
    if (body.destroyed || body.readableAborted) {
      // The client's request ended badly while the connection was being made (node:http refused a
      // chunk, the client left): nothing of it is sent.
      this.fail(p, body.errored ?? aborted());
      return;
    }
    // As undici's headersTimeout: the wait for the response head starts once the request is sent
    // (a slow client body is limits.requestTimeout's to cut).
    this.arm(0);
    this.socket.write(p.head, 'latin1');
    this.sending = p;
    this.bodySent = 0;
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
  }

  /** The request body is no longer ours to read (sent, failed, or the response ended first). */
  private detachBody(): void {
    const p = this.sending;
    if (p === null) return;
    this.sending = null;
    const body = p.body!;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    body.off('error', this.onBodyError);
    body.off('close', this.onBodyClose);
  }

  private readonly onBodyData = (chunk: Buffer | string): void => {
    const p = this.sending;
    if (p === null || p.done) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    const socket = this.socket;
    let ok: boolean;
    if (p.bodyLength >= 0) {
      this.bodySent += buf.length;
      if (this.bodySent > p.bodyLength) return this.fail(p, lengthMismatch());
      ok = socket.write(buf);
    } else {
      socket.cork();
      socket.write(`${buf.length.toString(16)}\r\n`, 'latin1');
      socket.write(buf);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    }
    p.handler.onBodySent?.(buf as never, this.bodySent);
    if (!ok && !p.done) p.body!.pause(); // resumed by the socket's 'drain'
  };

  private readonly onBodyEnd = (): void => {
    const p = this.sending;
    this.detachBody();
    if (p === null || p.done) return;
    if (p.bodyLength >= 0 && this.bodySent !== p.bodyLength) return this.fail(p, lengthMismatch());
    if (p.bodyLength < 0) this.socket.write('0\r\n\r\n', 'latin1');
    if (this.state === WAITING_HEADERS) this.arm(p.headersTimeout);
  };

  private readonly onBodyError = (err: Error): void => {
    const p = this.sending;
    this.detachBody();
    if (p !== null) this.fail(p, err);
  };

  /** Destroyed without 'end' or 'error' (the client went away). */
  private readonly onBodyClose = (): void => {
    const p = this.sending;
    if (p === null || p.body!.readableEnded) return;
    this.detachBody();
    this.fail(p, aborted());
  };

  private readonly onDrain = (): void => {
    const p = this.sending;
    if (p !== null && !p.done && p.body!.isPaused()) p.body!.resume();
  };

  /** The request ends with `err`; a connection with a response half read is closed. */
  fail(p: Pending, err: Error): void {
    if (p.done) return;
    if (this.sending === p) this.detachBody();
    p.done = true;
    this.current = null;
    this.pool.running--;
    this.socket.destroy();
    p.handler.onError?.(err);
  }

  /**
   * The response stopped making sense: the request fails once the socket has closed, a tick
   * later, so body bytes already handed to the client's response go out before its connection is cut.
   */
  private broken(err: Error): void {
    this.socketError ??= err;
    this.socket.destroy();
  }

  private readonly onConnect = (): void => {
    this.state = IDLE;
    const p = this.current;
    if (p) this.send(p);
  };

  private readonly resume = (): void => {
    this.socket.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    const p = this.current;
    if (p === null) {
      // Bytes between requests: nothing asked for them.
      this.socket.destroy();
      return;
    }
    if (this.bodyLeft > 0) return this.simpleBody(p, chunk, 0);
    if (this.state === WAITING_HEADERS && !this.inParser && this.pool.client.simpleHeads) {
      const head = readSimpleHead(chunk, p.isHead, maxHeaderSize);
      if (head !== undefined) return this.simpleHead(p, head, chunk);
    }
    let r: number | ParserError;
    try {
      r = this.parser.execute(chunk);
    } catch (err) {
      // A handler callback threw: that request fails, the connection is not reused.
      this.broken(err as Error);
      return;
    }
    if (typeof r !== 'number') {
      this.broken(parserError(r.reason));
      return;
    }
    if (this.finished) this.release();
    else if (this.state === READING_BODY && this.current !== null) this.arm(this.current.bodyTimeout);
  };

  /** The socket's timeout for the phase ahead: the connect, the response head, the body's silences. */
  private arm(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  /** A response head from either reader, to the handler; false when the handler ended the request. */
  private responseHead(p: Pending, status: number, headers: string[], statusText: string, keepAlive: boolean, keepAliveSeconds: number): boolean {
    this.status = status;
    if (status >= 200) {
      this.keepAlive = keepAlive;
      if (keepAlive) this.keepAliveMs = this.keepAliveFor(keepAliveSeconds);
      this.state = READING_BODY;
    }
    const paused = p.handler.onHeaders?.(status, headers as unknown as Buffer[], this.resume, statusText) === false;
    if (p.done) return false;
    if (paused) this.socket.pause();
    return true;
  }

  /** A head the JavaScript reader took. */
  private simpleHead(p: Pending, head: SimpleHead, chunk: Buffer): void {
    if (!this.responseHead(p, head.status, head.headers, head.statusText, head.keepAlive, head.keepAliveSeconds)) return;
    this.bodyLeft = head.contentLength;
    this.simpleBody(p, chunk, head.bodyStart);
  }

  /** Content-Length body bytes from `start`; bytes past the body were never asked for. */
  private simpleBody(p: Pending, chunk: Buffer, start: number): void {
    const available = chunk.length - start;
    if (this.bodyLeft > 0 && available > 0) {
      const take = available < this.bodyLeft ? available : this.bodyLeft;
      this.bodyLeft -= take;
      const piece = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
      if (p.handler.onData?.(piece) === false) this.socket.pause();
      if (p.done) return;
      start += take;
    }
    if (this.bodyLeft > 0) {
      this.arm(p.bodyTimeout); // the body continues in later reads
      return;
    }
    if (start < chunk.length) this.unsolicited = true;
    this.complete(p, []);
    this.release();
  }

  private readonly onMessageBegin = (): void => {
    this.inParser = true;
    if (this.current === null) this.unsolicited = true;
  };

  private readonly onHeaderPieces = (headers: string[]): void => {
    this.pieces = this.pieces === null ? headers : this.pieces.concat(headers);
  };

  private readonly onHeadersComplete = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: unknown,
    _url: unknown,
    status: number,
    statusText: string,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number => {
    const p = this.current;
    if (p === null || p.done) return -1;
    if (headers === undefined) {
      headers = this.pieces ?? [];
      this.pieces = null;
    }
    if (upgrade) {
      this.broken(parserError('Upgrade in a response to a request that asked for none'));
      return -1;
    }
    const seconds = status >= 200 && shouldKeepAlive ? keepAliveField(headers) : -1;
    if (!this.responseHead(p, status, headers, statusText, shouldKeepAlive, seconds)) return -1;
    // No body after a 1xx, nor after a HEAD response's headers (RFC 9110 §9.3.2).
    return status < 200 || p.isHead ? 1 : 0;
  };

  /** How long the connection may idle: the upstream's Keep-Alive hint less a margin, else the default. */
  private keepAliveFor(seconds: number): number {
    const { keepAliveTimeout, keepAliveMaxTimeout } = this.pool.client.options;
    if (seconds < 0) return keepAliveTimeout;
    const ms = seconds * 1000 - KEEP_ALIVE_THRESHOLD_MS;
    return ms <= 0 ? 0 : Math.min(ms, keepAliveMaxTimeout);
  }

  private readonly onBody = (chunk: Buffer): void => {
    const p = this.current;
    if (p === null || p.done) return;
    if (p.handler.onData?.(chunk) === false) this.socket.pause();
  };

  private readonly onMessageComplete = (): void => {
    const p = this.current;
    if (p === null || p.done) return;
    this.inParser = false;
    const trailers = this.pieces ?? [];
    this.pieces = null;
    if (this.status < 200) return; // 1xx: the final response follows on the same connection
    this.finished = true;
    this.complete(p, trailers);
  };

  private complete(p: Pending, trailers: string[]): void {
    if (this.sending === p) {
      // An early answer (a 413, a redirect): the rest of the body is never sent, so the
      // connection is left mid-request and closed; the client's body is node:http's to drain.
      this.detachBody();
      this.requestCut = true;
    }
    p.done = true;
    this.current = null;
    this.pool.running--;
    p.handler.onComplete?.(trailers as never);
  }

  /** Back to the idle list after the response is read, or closed when it may not be reused. */
  private release(): void {
    this.finished = false;
    const socket = this.socket;
    if (!this.keepAlive || this.keepAliveMs <= 0 || this.unsolicited || this.requestCut || this.pool.client.closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.state = IDLE;
    // A response paused for the client's backpressure may have ended paused.
    if (socket.isPaused()) socket.resume();
    // The socket's timeout stays armed (a connection idle that long closes); the keep-alive limit
    // is checked when a request takes the connection, which costs a request no timer.
    this.idleUntil = Date.now() + this.keepAliveMs;
    if (this.timeoutMs === 0) this.arm(this.keepAliveMs);
    socket.unref();
    this.pool.idle.push(this);
  }

  private readonly onEnd = (): void => {
    const p = this.current;
    if (p !== null && !p.done && this.state === READING_BODY) {
      // A body delimited by the close ends here (RFC 9112 §6.3 rule 8, `current` is then null);
      // any other is cut short.
      this.parser.finish();
    }
    this.socket.destroy(this.current ? otherSideClosed() : undefined);
  };

  private readonly onTimeout = (): void => {
    const p = this.current;
    switch (this.state) {
      case CONNECTING:
        if (p) this.fail(p, transportError('UND_ERR_CONNECT_TIMEOUT', `Connect Timeout Error (attempted address: ${this.pool.host}:${this.pool.port}, timeout: ${this.pool.client.options.connectTimeout}ms)`, 'ConnectTimeoutError'));
        else this.socket.destroy();
        return;
      case WAITING_HEADERS:
        if (p) this.fail(p, transportError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error', 'HeadersTimeoutError'));
        return;
      case READING_BODY:
        if (p) this.fail(p, transportError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error', 'BodyTimeoutError'));
        return;
      default:
        this.socket.destroy(); // keep-alive expired
    }
  };

  private readonly onError = (err: Error): void => {
    this.socketError ??= err;
  };

  private readonly onClose = (): void => {
    const pool = this.pool;
    pool.connected--;
    const i = pool.idle.indexOf(this);
    if (i >= 0) pool.idle.splice(i, 1);
    this.parser.close();
    const p = this.current;
    if (p !== null && !p.done) this.fail(p, this.socketError ?? otherSideClosed());
    pool.client.connectionClosed(pool);
  };
}

/** The value of the last Keep-Alive field's timeout, in seconds, or -1. */
function keepAliveField(headers: string[]): number {
  let seconds = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === 10 && name.toLowerCase() === 'keep-alive') seconds = keepAliveTimeoutSeconds(headers[i + 1]);
  }
  return seconds;
}

/**
 * The upstream connections of one listener side for plain-HTTP origins: a pool of keep-alive
 * connections per origin, no limit on their number (as undici's Agent by default), no queueing.
 */
export class H1Client implements UpstreamDispatcher {
  private readonly pools = new Map<string, OriginPool>();
  private other: ReturnType<H1ClientOptions['fallback']> | undefined = undefined;
  closing = false;
  readonly simpleHeads: boolean;
  private drained: (() => void) | undefined = undefined;

  constructor(readonly options: H1ClientOptions) {
    this.simpleHeads = options.simpleHeads !== false;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = opts.origin as string;
    const body = opts.body;
    if (Parser === undefined || (body != null && !isStream(body)) || opts.upgrade || opts.method === 'CONNECT' || !origin.startsWith('http:') || !Array.isArray(opts.headers)) {
      return this.fallback().dispatch(opts, handler);
    }
    if (this.closing) {
      handler.onError?.(transportError('UND_ERR_CLOSED', 'The client is destroyed', 'ClientClosedError'));
      return false;
    }
    const pool = this.pools.get(origin) ?? this.addPool(origin);
    const head = requestHead(opts, pool.hostLine, body != null);
    if (typeof head !== 'string') {
      handler.onError?.(head);
      return false;
    }
    let conn = pool.idle.pop();
    if (conn !== undefined && conn.idleUntil <= Date.now()) {
      // Idle past its keep-alive limit: the upstream may be closing it. Older idle ones are too.
      const now = Date.now();
      while (conn !== undefined && conn.idleUntil <= now) {
        conn.socket.destroy();
        conn = pool.idle.pop();
      }
    }
    conn ??= new Connection(pool);
    const headers = opts.headersTimeout ?? 300_000;
    const stream = body == null ? null : (body as Readable);
    // The body may fail before its request is sent or after it ended (limits.maxBodyBytes, a bad
    // chunk): its error is the request's to report, never an uncaught 'error' event.
    stream?.on('error', ignore);
    conn.start(new Pending(conn, handler, head, opts.method === 'HEAD', headers, opts.bodyTimeout ?? 300_000, stream, declaredLength));
    return true;
  }

  private addPool(origin: string): OriginPool {
    const url = new URL(origin);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const pool = new OriginPool(this, origin, host, Number(url.port) || 80, `host: ${url.host}\r\n`);
    this.pools.set(origin, pool);
    return pool;
  }

  private fallback(): ReturnType<H1ClientOptions['fallback']> {
    return (this.other ??= this.options.fallback());
  }

  /** Connections, idle ones and requests in flight per origin (undici's Agent stats shape), both paths summed. */
  get stats(): Record<string, PoolStats> {
    const out: Record<string, PoolStats> = {};
    for (const [origin, s] of Object.entries(this.other?.stats ?? {})) {
      const pool = s as Partial<PoolStats> & { pending: number; running: number };
      out[origin] = { connected: pool.connected ?? 0, free: pool.free ?? 0, pending: pool.pending, running: pool.running };
    }
    for (const [origin, pool] of this.pools) {
      const prev = out[origin] ?? { connected: 0, free: 0, pending: 0, running: 0 };
      out[origin] = { connected: prev.connected + pool.connected, free: prev.free + pool.idle.length, pending: prev.pending, running: prev.running + pool.running };
    }
    return out;
  }

  connectionClosed(pool: OriginPool): void {
    if (pool.connected === 0 && pool.idle.length === 0) this.pools.delete(pool.key);
    if (this.drained && this.pools.size === 0) this.drained();
  }

  /** Graceful: idle connections close now, busy ones after their response. */
  async close(): Promise<void> {
    this.closing = true;
    const waits: Promise<void>[] = [];
    if (this.other) waits.push(this.other.close().catch(() => {}));
    for (const [key, pool] of this.pools) {
      for (const conn of pool.idle.splice(0)) conn.socket.destroy();
      if (pool.connected === 0) this.pools.delete(key); // a request refused before it had a connection
    }
    if (this.pools.size > 0) waits.push(new Promise<void>((r) => (this.drained = r)));
    await Promise.all(waits);
  }
}

/** Methods whose bodiless request undici sends with `content-length: 0` (RFC 9110 §8.6). */
function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** The request line and header section, or an error for a field that would split the request. */
/** The Content-Length the last requestHead() found in the headers, or -1. */
let declaredLength = -1;

function ignore(): void {}

function isStream(body: unknown): boolean {
  return typeof (body as Readable).on === 'function' && typeof (body as Readable).pause === 'function';
}

function lengthMismatch(): Error {
  return transportError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header', 'RequestContentLengthMismatchError');
}

/**
 * The request line and header section, or an error for a field that would split the request.
 * A body without Content-Length is sent chunked; a bodiless POST, PUT or PATCH says
 * `content-length: 0`, as undici does.
 */
function requestHead(opts: Dispatcher.DispatchOptions, hostLine: string, hasBody: boolean): string | Error {
  const method = opts.method;
  const path = opts.path;
  if (NOT_SAFE.test(path) || path.includes(' ')) return transportError('UND_ERR_INVALID_ARG', 'invalid request path', 'InvalidArgumentError');
  const headers = opts.headers as string[] | null | undefined;
  let lines = '';
  let host = false;
  let length = false;
  declaredLength = -1;
  if (headers) {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      if (NOT_SAFE.test(value)) return transportError('UND_ERR_INVALID_ARG', `invalid ${name} header`, 'InvalidArgumentError');
      if (name.length === 4 && name.toLowerCase() === 'host') host = true;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') {
        length = true;
        declaredLength = /^\d{1,15}$/.test(value) ? Number(value) : -2;
      } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        return transportError('UND_ERR_INVALID_ARG', 'invalid transfer-encoding header', 'InvalidArgumentError');
      }
      lines += `${name}: ${value}\r\n`;
    }
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!host) head += hostLine;
  head += 'connection: keep-alive\r\n';
  if (declaredLength === -2) return transportError('UND_ERR_INVALID_ARG', 'invalid content-length header', 'InvalidArgumentError');
  if (hasBody) {
    if (!length) head += 'transfer-encoding: chunked\r\n';
  } else if (!length && expectsPayload(method)) head += 'content-length: 0\r\n';
  return `${head}${lines}\r\n`;
}
