import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
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
  dispatcher: Dispatcher,
  req: IncomingMessage,
  res: ServerResponse,
  fr: ForwardRequest,
  observer: ForwardObserver,
  sink: Writable = res,
): void {
  let abortUpstream: ((err?: Error) => void) | undefined;
  let done = false;
  let requestBytes = 0;
  let responseBytes = 0;
  let upstreamStatus: number | undefined;
  let responseHeaders: string[] | undefined;
  let resumeUpstream: (() => void) | undefined;
  let clientAborted = false;
  const h2Caller = isHttp2(req);

  const finish = (outcome: Omit<ForwardOutcome, 'requestBytes' | 'responseBytes' | 'clientAborted'>): void => {
    if (done) return;
    done = true;
    res.off('close', onClientClose);
    observer.finished({ ...outcome, requestBytes, responseBytes, clientAborted });
  };

  const onClientClose = (): void => {
    // An HTTP/2 caller's RST_STREAM also ends node's compatibility response as "finished".
    if (done || (res.writableFinished && clientResetCode(req, res) === 0)) return;
    // The client went away mid-exchange, or node:http refused the rest of its request (a bad
    // chunk, the request timeout): stop the upstream work too (no leaked sockets).
    const refused = refusalOf(res);
    clientAborted = refused === undefined;
    const err = Object.assign(new Error('client disconnected'), { code: 'TRC_ERR_CLIENT_ABORTED' });
    abortUpstream?.(err);
    req.destroy();
    if (refused) finish({ status: res.headersSent ? res.statusCode : refused.status, upstreamStatus, failure: refused });
    else finish({ status: res.headersSent ? res.statusCode : 0, upstreamStatus });
  };
  res.on('close', onClientClose);
  if (sink !== res) sink.on('drain', () => resumeUpstream?.());
  else res.on('drain', () => resumeUpstream?.());

  const handler: Dispatcher.DispatchHandler = {
    onConnect(abort) {
      abortUpstream = abort;
      if (clientAborted) abort(new Error('client disconnected'));
      else observer.connected?.();
    },
    // undici 7 passes the chunk itself (its typings say a size): accept both.
    onBodySent(chunk: unknown) {
      requestBytes += typeof chunk === 'number' ? chunk : typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
    },
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      if (statusCode < 200) return true; // 1xx informational: undici continues to the final response
      upstreamStatus = statusCode;
      resumeUpstream = resume;
      const headers = forwardableResponseHeaders(rawHeaders);
      responseHeaders = headers;
      observer.responseStart(statusCode, headers);
      if (clientAborted) return false;
      // HTTP/2 has no status text (RFC 9113 §8.3.2).
      if (h2Caller) res.writeHead(statusCode, headers);
      else res.writeHead(statusCode, statusText, headers);
      return true;
    },
    onData(chunk) {
      responseBytes += chunk.length;
      return sink.write(chunk);
    },
    onComplete() {
      const complete = (): void => finish({ status: res.statusCode, upstreamStatus });
      res.once('finish', complete);
      sink.end();
    },
    onError(err) {
      if (clientAborted || done) return;
      // The client's side failed first (it left, or node:http refused the rest of its request)
      // and undici saw the request body end before the response's 'close' came: same outcome.
      if (req.socket.destroyed) return onClientClose();
      if (isBodyTooLarge(err) && fr.maxBodyBytes !== null) {
        // The body crossed limits.maxBodyBytes: the upstream request was cut before the chunk
        // that crossed it; the client gets 413 and its connection closes (the rest is not read).
        const f = bodyTooLarge(fr.maxBodyBytes);
        if (res.headersSent) {
          res.destroy();
          finish({ status: res.statusCode, upstreamStatus, failure: f });
        } else {
          answerFailure(res, observer, f, true, h2Caller);
          finish({ status: f.status, upstreamStatus, failure: f });
        }
        return;
      }
      if (!res.headersSent) {
        const failure = classifyUpstreamError(err, fr.targetLabel);
        answerFailure(res, observer, failure, false, h2Caller);
        // Stop reading a body the upstream will never get.
        if (fr.body && !fr.body.readableEnded) fr.body.resume();
        finish({ status: failure.status, upstreamStatus, failure });
      } else {
        // Headers already went out: the only honest signal left is a cut connection (never the
        // end of a chunked body or a Content-Length the client could take for complete).
        res.destroy(err);
        const failure = classifyMidResponse(err, fr.targetLabel, { received: responseBytes, expected: contentLength(responseHeaders) });
        finish({ status: res.statusCode, upstreamStatus, failure });
      }
    },
  };

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
    handler,
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
