/**
 * Forwards one request to an HTTP/2 upstream (h2c:// or h2 over TLS) on a stream of the session
 * pool, and streams the response back to the caller, whichever protocol the caller speaks.
 *
 * - Bodies both ways with backpressure: the caller's body is paused while the upstream stream is
 *   full; the upstream stream is paused while the caller (or the chaos stages in `sink`) is full.
 * - End of stream: a response whose HEADERS ended the stream (gRPC "Trailers-Only") is answered
 *   the same way; trailers are forwarded as trailers (HTTP/2 callers; HTTP/1.1 chunked callers).
 *   Request trailers go upstream too.
 * - Cancellation: the caller resetting its stream (or closing its connection) sends RST_STREAM
 *   CANCEL upstream; the upstream resetting the stream resets the caller's (RST_STREAM over HTTP/2,
 *   the connection over HTTP/1.1) — a reset never reaches the caller as a clean end. Node reports an
 *   RST_STREAM(NO_ERROR) that arrives before END_STREAM as a normal end, so a gRPC response that
 *   ends with neither trailers nor Trailers-Only headers is treated as reset too.
 * - Timeouts: timeout.response until the response head, timeout.idle between frames, and for gRPC
 *   calls the grpc-timeout deadline over the whole call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type Http2ServerResponse, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Writable } from 'node:stream';
import type { TargetSpec } from '../config/targets.js';
import { failure } from '../errors.js';
import { GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_UNAVAILABLE } from '../grpc/index.js';
import type { ForwardObserver, ForwardOutcome, ForwardRequest } from './exchange.js';
import { writeGrpcTrailersOnly } from './grpc-answer.js';
import { cancelStream, type H2Pool } from './h2-pool.js';
import { isHttp2, resetClient } from './h2-request.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, HTTP2_FLAG_END_STREAM } = constants as typeof constants & {
  HTTP2_FLAG_END_STREAM?: number;
};
/** END_STREAM in the flags of a HEADERS frame (nghttp2 NGHTTP2_FLAG_END_STREAM). */
const END_STREAM = HTTP2_FLAG_END_STREAM ?? 0x1;

export interface H2ForwardRequest extends ForwardRequest {
  /** The call is gRPC: tracecar's own answers are gRPC statuses, and a response must end with a status. */
  grpc: boolean;
  /** grpc-timeout in milliseconds: the whole call must finish within it. */
  deadlineMs?: number;
}

export interface H2ForwardObserver extends ForwardObserver {
  /** The upstream's trailers, filtered, as a flat list (before they are sent on). */
  trailers?(trailers: string[]): void;
}

/** Names never forwarded over HTTP/2 (RFC 9113 §8.2.2) or between hops (RFC 9110 §7.6.1). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'http2-settings']);

/** RST_STREAM codes passed on to the caller as they are; anything else becomes INTERNAL_ERROR. */
const PASSED_ON = new Set([NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM]);

export function forwardH2Exchange(
  pool: H2Pool,
  spec: TargetSpec,
  req: IncomingMessage,
  res: ServerResponse,
  fr: H2ForwardRequest,
  observer: H2ForwardObserver,
  sink: Writable,
  http1Fallback: () => void,
): void {
  const h2Caller = isHttp2(req);
  let stream: ClientHttp2Stream | undefined;
  let done = false;
  let requestBytes = 0;
  let responseBytes = 0;
  let upstreamStatus: number | undefined;
  let clientAborted = false;
  let headTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let sawTrailers = false;
  let trailersOnly = false;

  const finish = (outcome: Omit<ForwardOutcome, 'requestBytes' | 'responseBytes' | 'clientAborted'>): void => {
    if (done) return;
    done = true;
    clearTimeout(headTimer);
    clearTimeout(deadlineTimer);
    res.off('close', onClientClose);
    observer.finished({ ...outcome, requestBytes, responseBytes, clientAborted });
  };

  const onClientClose = (): void => {
    if (done) return;
    // The caller went away (HTTP/1.1 socket closed, or RST_STREAM): cancel the upstream stream.
    clientAborted = true;
    cancelStream(stream, NGHTTP2_CANCEL);
    if (fr.body && !fr.body.readableEnded) fr.body.resume();
    finish({ status: res.headersSent ? res.statusCode : 0, upstreamStatus });
  };
  res.on('close', onClientClose);

  /** The exchange failed: answer (status or gRPC status) if nothing went out yet, else reset the caller. */
  const fail = (f: UpstreamFailure, grpcCode: number, rstCode: number = NGHTTP2_INTERNAL_ERROR): void => {
    if (done) return;
    cancelStream(stream, NGHTTP2_CANCEL);
    if (!res.headersSent) {
      const headers: string[] = [];
      observer.failureHeaders?.(headers);
      if (fr.grpc) {
        // The status the caller gets is the call's status: record it like an upstream's.
        observer.trailers?.(['grpc-status', String(grpcCode), 'grpc-message', f.message]);
        writeGrpcTrailersOnly(res, grpcCode, f.message, headers);
      } else {
        const body = `${f.message}\n`;
        headers.push('content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)));
        res.writeHead(f.status, headers);
        res.end(body);
      }
      if (fr.body && !fr.body.readableEnded) fr.body.resume();
      finish({ status: fr.grpc ? 200 : f.status, upstreamStatus, failure: f });
    } else {
      // Headers already went out: the only honest signal left is a reset.
      resetClient(req, res, rstCode);
      finish({ status: res.statusCode, upstreamStatus, failure: f });
    }
  };

  // The whole gRPC call, connect included, must fit in its deadline.
  if (fr.deadlineMs !== undefined) {
    deadlineTimer = setTimeout(() => {
      const f = failure('TRC_ERR_UPSTREAM_DEADLINE', 'deadline_exceeded', { target: fr.targetLabel, timeout: formatMs(fr.deadlineMs!) });
      fail(f, GRPC_DEADLINE_EXCEEDED, NGHTTP2_CANCEL);
    }, fr.deadlineMs);
  }

  const headers = requestHeaders(spec, fr, req);
  const hasBody = fr.body !== null;
  let retried = false;
  const open = (): void =>
    pool.open(spec, headers, { endStream: !hasBody, waitForTrailers: hasBody }, (err, result) => {
      if (done) {
        if (result && 'stream' in result) cancelStream(result.stream, NGHTTP2_CANCEL);
        return;
      }
      if (err) {
        const f = classifyUpstreamError(err, fr.targetLabel);
        return fail(f, GRPC_UNAVAILABLE);
      }
      if (!result || 'http1' in result) {
        // ALPN: the upstream speaks HTTP/1.1; undici takes the request from here.
        res.off('close', onClientClose);
        clearTimeout(deadlineTimer);
        done = true;
        return http1Fallback();
      }
      stream = result.stream;
      wire(stream, result.session);
    });
  open();
  sink.on('drain', () => stream?.resume());

  function wire(up: ClientHttp2Stream, session: ClientHttp2Session): void {
    observer.connected?.();
    up.on('error', () => {
      // Reported through 'close' (rstCode) below.
    });
    if (fr.deadlineMs === undefined || fr.timeouts.response < fr.deadlineMs) {
      headTimer = setTimeout(() => fail(failure('TRC_ERR_UPSTREAM_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', { target: fr.targetLabel }), GRPC_UNAVAILABLE), fr.timeouts.response);
    }
    up.setTimeout(fr.timeouts.idle, () => {
      if (upstreamStatus === undefined) return; // before the head: the response timeout decides
      fail(failure('TRC_ERR_UPSTREAM_IDLE_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', { target: fr.targetLabel }), GRPC_UNAVAILABLE);
    });

    pumpRequest(up);

    up.on('response', (raw: IncomingHttpHeaders, flags: number) => {
      clearTimeout(headTimer);
      if (done) return;
      const status = Number(raw[':status']);
      upstreamStatus = status;
      const list = responseHeaders(raw);
      observer.responseStart(status, list);
      trailersOnly = (flags & END_STREAM) !== 0;
      if (trailersOnly) {
        // One HEADERS frame with END_STREAM (gRPC Trailers-Only): answer in the same form.
        res.statusCode = status;
        for (let i = 0; i < list.length; i += 2) res.appendHeader(list[i], list[i + 1]);
        res.once('finish', () => finish({ status, upstreamStatus }));
        res.end();
        return;
      }
      if (h2Caller) (res as unknown as Http2ServerResponse).writeHead(status, list);
      else res.writeHead(status, list);
    });

    up.on('data', (chunk: Buffer) => {
      if (done) return;
      responseBytes += chunk.length;
      if (!sink.write(chunk)) up.pause();
    });

    up.on('trailers', (raw: IncomingHttpHeaders) => {
      if (done) return;
      sawTrailers = true;
      const list = responseHeaders(raw);
      observer.trailers?.(list);
      const obj: Record<string, string | string[]> = {};
      for (let i = 0; i < list.length; i += 2) {
        const prev = obj[list[i]];
        obj[list[i]] = prev === undefined ? list[i + 1] : Array.isArray(prev) ? [...prev, list[i + 1]] : [prev, list[i + 1]];
      }
      res.addTrailers(obj);
    });

    up.on('end', () => {
      if (done || trailersOnly) return;
      // Before a response, or with a reset code (node also ends the readable side when the
      // connection is lost, with CANCEL): not an end, 'close' reports it.
      if (upstreamStatus === undefined || up.rstCode) return;
      if (fr.grpc && !sawTrailers) {
        // A gRPC response always ends with a status: this one was cut short (see the module comment).
        return fail(failure('TRC_ERR_UPSTREAM_RESET', 'ERR_HTTP2_STREAM_ERROR', { target: fr.targetLabel, when: 'mid-stream (the stream ended without gRPC trailers)' }), GRPC_INTERNAL);
      }
      res.once('finish', () => {
        // An HTTP/2 caller that reset the stream before our END_STREAM went out did not get the end.
        const rst = h2Caller ? ((res as unknown as Http2ServerResponse).stream?.rstCode ?? 0) : 0;
        if (rst !== 0) clientAborted = true;
        finish({ status: res.statusCode, upstreamStatus });
      });
      sink.end();
    });

    up.once('close', () => {
      if (done) return;
      const code = up.rstCode ?? 0;
      if (code === 0 && (trailersOnly || up.readableEnded)) return; // 'end' finishes it
      const before = upstreamStatus === undefined;
      if (code === NGHTTP2_REFUSED_STREAM && before && requestBytes === 0 && !retried) {
        // Refused, so not processed (RFC 9113 §8.7): a session that just sent GOAWAY does this to
        // streams past its last one. Nothing of the caller's body was read yet: try again once.
        retried = true;
        clearTimeout(headTimer);
        return open();
      }
      if (session.destroyed) {
        // The connection to the upstream is gone (node closes its streams with CANCEL).
        const f = failure('TRC_ERR_UPSTREAM_RESET', 'ECONNRESET', { target: fr.targetLabel, when: before ? 'before responding' : 'mid-stream (the connection was lost)' });
        return fail(f, GRPC_UNAVAILABLE);
      }
      const name = RST_NAMES[code] ?? `code ${code}`;
      const f = failure('TRC_ERR_UPSTREAM_RESET', `NGHTTP2_${name}`, { target: fr.targetLabel, when: `${before ? 'before responding' : 'mid-stream'} (RST_STREAM ${name})` });
      // REFUSED_STREAM: the upstream did not process it (RFC 9113 §8.7); a gRPC client may retry UNAVAILABLE.
      fail(f, code === NGHTTP2_REFUSED_STREAM ? GRPC_UNAVAILABLE : code === NGHTTP2_CANCEL ? GRPC_CANCELLED : GRPC_INTERNAL, PASSED_ON.has(code) ? code : NGHTTP2_INTERNAL_ERROR);
    });
  }

  /** Caller body → upstream stream, paused while the stream is full; trailers after the last byte. */
  function pumpRequest(up: ClientHttp2Stream): void {
    const body = fr.body;
    if (!body) return;
    up.on('wantTrailers', () => {
      const t = requestTrailers(body);
      up.sendTrailers(t);
    });
    const onData = (chunk: Buffer): void => {
      requestBytes += chunk.length;
      if (!up.write(chunk)) body.pause();
    };
    const onEnd = (): void => void up.end();
    if (body.readableEnded) return onEnd(); // an empty body that ended before a retry
    body.on('data', onData);
    body.once('end', onEnd);
    up.on('drain', () => body.resume());
    up.once('close', () => {
      body.off('data', onData);
      body.off('end', onEnd);
      // Held until a retry (or the end of the exchange) takes it up again.
      if (!body.readableEnded) body.pause();
    });
    body.resume();
  }
}

/** The request as HTTP/2 headers: pseudo-headers first, the forwarded list, `te: trailers` when the caller asked for trailers. */
function requestHeaders(spec: TargetSpec, fr: ForwardRequest, req: IncomingMessage): OutgoingHttpHeaders {
  let authority = spec.host;
  const out: OutgoingHttpHeaders = {
    ':method': fr.method,
    ':scheme': spec.origin.startsWith('https:') ? 'https' : 'http',
    ':path': fr.path,
  };
  const list = fr.headers;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i].toLowerCase();
    if (name === 'host') {
      authority = list[i + 1];
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 0x3a) continue;
    const prev = out[name];
    out[name] = prev === undefined ? list[i + 1] : Array.isArray(prev) ? [...prev, list[i + 1]] : [String(prev), list[i + 1]];
  }
  out[':authority'] = authority;
  // TE is hop-by-hop, but "trailers" is how a gRPC client says it understands them (RFC 9113 §8.2.2 allows it).
  const te = req.headers.te;
  if (typeof te === 'string' && /(^|,)\s*trailers\s*(;|,|$)/i.test(te)) out.te = 'trailers';
  return out;
}

/** Response headers or trailers as a flat list: no pseudo-headers, no connection-specific fields. */
function responseHeaders(raw: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in raw) {
    if (name.charCodeAt(0) === 0x3a || CONNECTION_SPECIFIC.has(name)) continue;
    const v = raw[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

function requestTrailers(body: IncomingMessage): OutgoingHttpHeaders {
  const t: OutgoingHttpHeaders = {};
  const raw = body.trailers;
  for (const name in raw) {
    if (name.charCodeAt(0) === 0x3a || CONNECTION_SPECIFIC.has(name)) continue;
    t[name] = raw[name];
  }
  return t;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(3)}s` : `${+ms.toFixed(3)}ms`;
}

const RST_NAMES: Record<number, string> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};
