import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamDispatcher } from './h1-client.js';
import type { TimeoutConfig } from '../config/types.js';
import type { Failure, FailureCause } from '../errors.js';
import { forwardableResponseHeaders } from './headers.js';
import { clientResetCode, h2HasBody, isHttp2 } from './h2-request.js';
import { bodyTooLarge, isBodyTooLarge, limitBody, refusalOf } from './limits.js';
import { classifyMidResponse, classifyUpstreamError } from './upstream-errors.js';

/** One request to forward: where, what, and how long to wait. */
export interface ForwardRequest {
  /** scheme://host:port of the upstream. */
  origin: string;
  /** Origin-form path with query. */
  path: string;
  method: string;
  /** Flat [name, value, ...] list, already filtered and injected. */
  headers: string[];
  /** The client's request stream, or null when it carries no body. */
  body: IncomingMessage | null;
  /** limits.maxBodyBytes: a body without Content-Length is counted and cut past it (413). */
  maxBodyBytes: number | null;
  timeouts: TimeoutConfig;
  /** How the upstream is named in error messages. */
  targetLabel: string;
}

/** What happened, reported once when the exchange is over. */
export interface ForwardOutcome {
  /** Status the client received (0 when the connection was cut before a status went out). */
  status: number;
  /** Status the upstream answered, if it answered. */
  upstreamStatus?: number;
  requestBytes: number;
  responseBytes: number;
  failure?: FailureCause;
  /** The client went away before the response was complete. */
  clientAborted: boolean;
}

export interface ForwardObserver {
  /** The request is on an upstream socket (after connect, before the first byte is written). */
  connected?(): void;
  /** Upstream response headers arrived: add our own response headers to `headers`. */
  responseStart(status: number, headers: string[]): void;
  /** Building the error response sent to the client (502/504): add our own headers. */
  failureHeaders?(headers: string[]): void;
  finished(outcome: ForwardOutcome): void;
}

/**
 * Forwards one request to the upstream and streams the response back, with backpressure in both
 * directions (undici reads the request stream as the upstream socket drains; we pause undici
 * while the client socket is full), so memory does not grow with body size.
 * `sink` replaces `res` as the body destination when a chaos transform sits in between.
 */
export function forwardExchange(
  dispatcher: UpstreamDispatcher,
  req: IncomingMessage,
  res: ServerResponse,
  fr: ForwardRequest,
  observer: ForwardObserver,
  sink: Writable = res,
): void {
  const exchange = new Exchange(req, res, fr, observer, sink);
  res.on('close', exchange.onClientClose);
  dispatcher.dispatch(
    {
      origin: fr.origin,
      path: fr.path,
      method: fr.method as Dispatcher.HttpMethod,
      headers: fr.headers,
      body: fr.body && fr.maxBodyBytes !== null && req.headers['content-length'] === undefined ? limitBody(fr.body, fr.maxBodyBytes) : fr.body,
      headersTimeout: fr.timeouts.response,
      bodyTimeout: fr.timeouts.idle,
      // Non-idempotent requests with a streamed body must never be replayed by undici.
      idempotent: false,
    },
    exchange,
  );
}

/** tracecar's own answer when no response has begun: plain text naming the cause (`close`: and the connection closes). */
function answerFailure(res: ServerResponse, observer: ForwardObserver, f: Failure, close: boolean, h2Caller: boolean): void {
  const body = `${f.message}\n`;
  const headers = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))];
  observer.failureHeaders?.(headers);
  // HTTP/2 has no connection-specific fields (RFC 9113 §8.2.2): its stream ends, its session stays.
  if (close && !h2Caller) headers.push('connection', 'close');
  res.writeHead(f.status, headers);
  res.end(body);
}

/** The Content-Length of a flat header list, read only when a response failed. */
function contentLength(headers: string[] | undefined): number | undefined {
  if (!headers) return undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() === 'content-length') {
      const n = Number(headers[i + 1]);
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}

/**
 * One exchange's state and undici's handler for it, as one object: the request path allocates it
 * instead of a closure per callback (what a profile of the quiet bench row showed a dozen of).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | undefined = undefined;
  private done = false;
  private requestBytes = 0;
  private responseBytes = 0;
  private upstreamStatus: number | undefined = undefined;
  private responseHeaders: string[] | undefined = undefined;
  private clientAborted = false;
  private readonly h2Caller: boolean;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly fr: ForwardRequest,
    private readonly observer: ForwardObserver,
    private readonly sink: Writable,
  ) {
    this.h2Caller = isHttp2(req);
  }

  private finish(status: number, failure?: FailureCause): void {
    if (this.done) return;
    this.done = true;
    // The 'close' listener stays: it returns at once now that the exchange is done.
    const outcome: ForwardOutcome = { status, upstreamStatus: this.upstreamStatus, requestBytes: this.requestBytes, responseBytes: this.responseBytes, clientAborted: this.clientAborted };
    if (failure) outcome.failure = failure;
    this.observer.finished(outcome);
  }

  /** res 'close' (bound: an event listener). */
  readonly onClientClose = (): void => {
    const res = this.res;
    // An HTTP/2 caller's RST_STREAM also ends node's compatibility response as "finished".
    if (this.done || (res.writableFinished && clientResetCode(this.req, res) === 0)) return;
    // The client went away mid-exchange, or node:http refused the rest of its request (a bad
    // chunk, the request timeout): stop the upstream work too (no leaked sockets).
    const refused = refusalOf(res);
    this.clientAborted = refused === undefined;
    const err = Object.assign(new Error('client disconnected'), { code: 'TRC_ERR_CLIENT_ABORTED' });
    this.abortUpstream?.(err);
    this.req.destroy();
    if (refused) this.finish(res.headersSent ? res.statusCode : refused.status, refused);
    else this.finish(res.headersSent ? res.statusCode : 0);
  };

  /** res 'finish' after the upstream completed (bound: an event listener). */
  private readonly onResponseFinished = (): void => {
    this.finish(this.res.statusCode);
  };

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    // The exchange may be over already: the client left, or node:http refused the rest of its request.
    if (this.clientAborted || this.done) abort(new Error('client disconnected'));
    else this.observer.connected?.();
  }

  // undici 7 passes the chunk itself (its typings say a size): accept both.
  onBodySent(chunk: unknown): void {
    this.requestBytes += typeof chunk === 'number' ? chunk : typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: undici continues to the final response
    this.upstreamStatus = statusCode;
    // We pause undici (onData answers false) while the client socket is full; its drain resumes it.
    this.sink.on('drain', resume);
    const headers = forwardableResponseHeaders(rawHeaders);
    this.responseHeaders = headers;
    this.observer.responseStart(statusCode, headers);
    if (this.clientAborted) return false;
    // HTTP/2 has no status text (RFC 9113 §8.3.2).
    if (this.h2Caller) this.res.writeHead(statusCode, headers);
    else this.res.writeHead(statusCode, statusText, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.responseBytes += chunk.length;
    return this.sink.write(chunk);
  }

  onComplete(): void {
    this.res.once('finish', this.onResponseFinished);
    this.sink.end();
  }

  onError(err: Error): void {
    if (this.clientAborted || this.done) return;
    const { res, fr } = this;
    // The client's side failed first (it left, or node:http refused the rest of its request)
    // and undici saw the request body end before the response's 'close' came: same outcome.
    if (this.req.socket.destroyed) return this.onClientClose();
    if (isBodyTooLarge(err) && fr.maxBodyBytes !== null) {
      // The body crossed limits.maxBodyBytes: the upstream request was cut before the chunk
      // that crossed it; the client gets 413 and its connection closes (the rest is not read).
      const f = bodyTooLarge(fr.maxBodyBytes);
      if (res.headersSent) {
        res.destroy();
        this.finish(res.statusCode, f);
      } else {
        answerFailure(res, this.observer, f, true, this.h2Caller);
        this.finish(f.status, f);
      }
      return;
    }
    if (!res.headersSent) {
      const failure = classifyUpstreamError(err, fr.targetLabel);
      answerFailure(res, this.observer, failure, false, this.h2Caller);
      // Stop reading a body the upstream will never get.
      if (fr.body && !fr.body.readableEnded) fr.body.resume();
      this.finish(failure.status, failure);
    } else {
      // Headers already went out: the only honest signal left is a cut connection (never the
      // end of a chunked body or a Content-Length the client could take for complete).
      res.destroy(err);
      const failure = classifyMidResponse(err, fr.targetLabel, { received: this.responseBytes, expected: contentLength(this.responseHeaders) });
      this.finish(res.statusCode, failure);
    }
  }
}

/**
 * Whether an incoming request carries a body (RFC 9112 §6.3: Content-Length or Transfer-Encoding;
 * HTTP/2: its HEADERS frame did not end the stream).
 */
export function hasRequestBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return h2HasBody(req);
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}
