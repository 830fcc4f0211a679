/**
 * The limits a proxy listener puts on what a client sends (config `limits`, docs/hardening.md):
 * the node:http options and properties that carry them, the checks node:http does not make, and
 * the answer to a request refused at the door. One place, so every listener (HTTP/1.1 today,
 * h2 later) applies the same limits.
 *
 * Most limits are counted by Node's parser already (header bytes, the clock for the head and the
 * whole request, connections); what is left is O(1) per request: the header count is the length
 * of rawHeaders, the target's length is a string length, Transfer-Encoding and Content-Length are
 * looked up only when present. One scan of the header names finds a second Host.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { Transform, type Duplex, type Readable } from 'node:stream';
import type { LimitsConfig } from '../config/types.js';
import { failure, type Failure } from '../errors.js';
import { isHttp2 } from './h2-request.js';

/**
 * How often node:http checks headersTimeout and requestTimeout (its default is 30 s, so a 60 s
 * deadline was enforced at up to 90 s). The check walks only connections receiving a request.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Options for node:http's createServer, then applyLimits for the ones Node lets change later. */
export function listenerServerOptions(limits: LimitsConfig): ServerOptions {
  return {
    // Strict parsing whatever NODE_OPTIONS says (--insecure-http-parser would accept ambiguous framing).
    insecureHTTPParser: false,
    // checkRequest refuses a missing Host itself: node:http's own 400 would let requests
    // pipelined behind it through to the handler.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    maxHeaderSize: limits.maxHeaderBytes,
    ...timeouts(limits),
  };
}

/**
 * Applies `limits` to a running listener (start and every reload). Timeouts apply at the next
 * check; maxHeaderBytes to connections accepted afterwards (Node sizes the parser per connection).
 */
export function applyLimits(server: Server, limits: LimitsConfig): void {
  const t = timeouts(limits);
  server.headersTimeout = t.headersTimeout;
  server.requestTimeout = t.requestTimeout;
  server.keepAliveTimeout = t.keepAliveTimeout;
  // Not in @types/node, but node:http reads it when it sets up each connection's parser.
  (server as Server & { maxHeaderSize: number }).maxHeaderSize = limits.maxHeaderBytes;
  // Node would keep 2000 header fields and drop the rest silently; every field is kept (the
  // header bytes bound them) so checkRequest sees the true count and answers 431.
  server.maxHeadersCount = 0;
  server.maxConnections = limits.maxConnections;
}

function timeouts(limits: LimitsConfig): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number } {
  const request = limits.requestTimeout ?? 0;
  // The request timeout covers the head too: a longer headers timeout could never fire (and Node refuses it).
  const headers = request > 0 ? Math.min(limits.headersTimeout, request) : limits.headersTimeout;
  return { headersTimeout: headers, requestTimeout: request, keepAliveTimeout: limits.keepAliveTimeout };
}

/**
 * Why a parsed request head must be refused before it reaches the pipeline, or undefined:
 * too many header fields (431), a target over maxUrlBytes (414), a Content-Length over
 * maxBodyBytes (413), framing the app could read differently from us (400: Transfer-Encoding on
 * HTTP/1.0, Transfer-Encoding other than a lone `chunked`, two Host fields; 501: a transfer coding
 * before `chunked`). Node's parser has already refused the rest of ambiguous framing (CL with TE,
 * two Content-Lengths, obs-fold, bare CR or LF, bad chunk sizes, space before the colon, controls
 * in values) with a clientError.
 */
export function checkRequest(req: IncomingMessage, limits: LimitsConfig): Failure | undefined {
  if (isHttp2(req)) return checkHttp2Request(req, limits);
  const raw = req.rawHeaders;
  if (raw.length > limits.maxHeaderCount * 2) {
    return failure('TRC_ERR_HEADERS_TOO_LARGE', 'too_many_headers', { reason: `${raw.length / 2} header fields, more than limits.maxHeaderCount (${limits.maxHeaderCount})` });
  }
  const target = req.url ?? '';
  // node:http decodes the head as latin1: one character per byte.
  if (target.length > limits.maxUrlBytes) {
    return failure('TRC_ERR_URL_TOO_LONG', 'url_too_long', { length: target.length, limit: limits.maxUrlBytes });
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
      // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
      return failure('TRC_ERR_BAD_REQUEST', 'bad_framing', { reason: 'Transfer-Encoding in an HTTP/1.0 request' });
    }
    if (te !== 'chunked' && te.toLowerCase() !== 'chunked') {
      const codings = te.toLowerCase().split(',').map((c) => c.trim());
      if (codings.length > 1 && codings[codings.length - 1] === 'chunked') {
        return failure('TRC_ERR_TRANSFER_CODING', 'unsupported_transfer_coding', { coding: quoted(te) });
      }
      return failure('TRC_ERR_BAD_REQUEST', 'bad_framing', { reason: `Transfer-Encoding ${quoted(te)} does not end in chunked` });
    }
  }
  if (limits.maxBodyBytes !== null) {
    const cl = req.headers['content-length'];
    if (cl !== undefined && Number(cl) > limits.maxBodyBytes) return bodyTooLarge(limits.maxBodyBytes);
  }
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) {
      // RFC 9112 §3.2: more than one Host field line → 400 (node:http keeps the first; an app may take the last).
      return failure('TRC_ERR_BAD_REQUEST', 'bad_framing', { reason: 'more than one Host header field' });
    }
  }
  // node:http asked for Host on plain HTTP/1.1 requests only, never on CONNECT or an upgrade.
  if (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.method !== 'CONNECT' && req.headers.upgrade === undefined) {
    return failure('TRC_ERR_BAD_REQUEST', 'bad_framing', { reason: 'an HTTP/1.1 request without Host' });
  }
  return undefined;
}

/**
 * The same limits for an HTTP/2 request (node's compatibility API): header fields without the
 * pseudo-headers, the :path, a content-length. Framing is HTTP/2's own (nghttp2 refuses
 * connection-specific fields and malformed streams), and :authority stands for Host.
 */
function checkHttp2Request(req: IncomingMessage, limits: LimitsConfig): Failure | undefined {
  const raw = req.rawHeaders;
  if (raw.length > limits.maxHeaderCount * 2) {
    let fields = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i].charCodeAt(0) !== 0x3a) fields++;
    if (fields > limits.maxHeaderCount) {
      return failure('TRC_ERR_HEADERS_TOO_LARGE', 'too_many_headers', { reason: `${fields} header fields, more than limits.maxHeaderCount (${limits.maxHeaderCount})` });
    }
  }
  const target = req.url ?? '';
  if (target.length > limits.maxUrlBytes) return failure('TRC_ERR_URL_TOO_LONG', 'url_too_long', { length: target.length, limit: limits.maxUrlBytes });
  if (limits.maxBodyBytes !== null) {
    const cl = req.headers['content-length'];
    if (cl !== undefined && Number(cl) > limits.maxBodyBytes) return bodyTooLarge(limits.maxBodyBytes);
  }
  return undefined;
}

export function bodyTooLarge(limit: number): Failure {
  return failure('TRC_ERR_BODY_TOO_LARGE', 'body_too_large', { limit });
}

const BODY_TOO_LARGE = Symbol('tracecar.bodyTooLarge');

/** Whether an upstream error is limitBody's: the request body crossed limits.maxBodyBytes. */
export function isBodyTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { [BODY_TOO_LARGE]?: boolean })[BODY_TOO_LARGE] === true;
}

/**
 * A request body without Content-Length (chunked), counted on its way upstream: the chunk that
 * would cross `max` is never passed on; the stream fails instead, so undici aborts the upstream
 * request (the app sees an unfinished body, never a complete one). `body` is piped, not
 * pipelined: a failure here must leave the client's socket open for the 413.
 */
export function limitBody(body: IncomingMessage, max: number): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(Object.assign(new Error(`request body over ${max} bytes`), { [BODY_TOO_LARGE]: true }));
      else callback(null, chunk);
    },
  });
  body.once('close', () => {
    if (!body.readableEnded) limited.destroy(Object.assign(new Error('client disconnected'), { code: 'TRC_ERR_CLIENT_ABORTED' }));
  });
  body.pipe(limited);
  return limited;
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** Connections on which a request was refused: they close after its answer. */
const closing = new WeakSet<object>();

/**
 * Whether a request arrived on a connection that closes after a refused one (it was pipelined
 * behind it): node:http still hands it to the listener, but it must never be forwarded.
 */
export function pipelinedAfterRefusal(req: IncomingMessage): boolean {
  return closing.has(req.socket);
}

/**
 * Answers a refused request on its ServerResponse; the connection closes after the answer (its
 * body is not read) and requests pipelined behind it are never forwarded.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, f: Failure): void {
  const body = `tracecar: ${f.message}\n`;
  const headers = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))];
  // HTTP/2: the stream ends, the connection (other streams) stays; it has no Connection field.
  if (!isHttp2(req)) {
    closing.add(req.socket);
    headers.push('connection', 'close');
  }
  res.writeHead(f.status, headers);
  res.end(body);
}

/** The same answer written to a socket node:http has let go of (upgrade, CONNECT), then the socket is closed. */
export function refuseOnSocket(socket: Duplex, f: Failure): void {
  if (socket.writable) socket.write(rawResponse(f));
  socket.destroy();
}

function rawResponse(f: Failure): string {
  const body = `tracecar: ${f.message}\n`;
  return `HTTP/1.1 ${f.status} ${STATUS_CODES[f.status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** The refusal of a request whose response was already in flight when its connection failed (a bad chunk, a body timeout). */
const refused = new WeakMap<ServerResponse, Failure>();

/** Why the client's own request was refused mid-exchange, if it was: the exchange records this instead of a client abort. */
export function refusalOf(res: ServerResponse): Failure | undefined {
  return refused.get(res);
}

interface ClientErrorLike extends Error {
  code?: string;
  reason?: string;
}

/**
 * node:http's `clientError` (a request it could not parse, a head or request timeout): answers
 * as Node would (400 / 408 / 431, nothing when a response has already begun) but with a body
 * that says why, closes the connection, and returns the failure for the metrics. A client that
 * reset, or closed its side mid-request, is closed quietly (undefined).
 */
export function answerClientError(err: ClientErrorLike, socket: Duplex, limits: LimitsConfig): Failure | undefined {
  // The client reset, or closed its side before its request was complete (HPE_INVALID_EOF_STATE):
  // it left; nothing was refused. The exchange, if one began, records a client abort.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return undefined;
  }
  // The response of the request being received, if its head was complete (node:http's own field).
  const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  if (res?.writableEnded) {
    // Already answered (checkRequest refused the head before the parser failed on the body).
    socket.destroy();
    return undefined;
  }
  const f = parserFailure(err, limits, res !== undefined);
  if (res) refused.set(res, f);
  if (!res?.headersSent) socket.write(rawResponse(f));
  socket.destroy();
  return f;
}

function parserFailure(err: ClientErrorLike, limits: LimitsConfig, headComplete: boolean): Failure {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return failure('TRC_ERR_HEADERS_TOO_LARGE', 'headers_too_large', { reason: `more than limits.maxHeaderBytes (${limits.maxHeaderBytes} bytes)` });
    case 'ERR_HTTP_REQUEST_TIMEOUT': {
      const t = timeouts(limits);
      const what = headComplete
        ? `the request body did not arrive within limits.requestTimeout (${t.requestTimeout} ms)`
        : `the request head did not arrive within limits.headersTimeout (${t.headersTimeout} ms)`;
      return failure('TRC_ERR_REQUEST_TIMEOUT', 'request_timeout', { what });
    }
    default:
      // llhttp's reason is a fixed phrase ("Invalid header value char"), never the client's bytes.
      return failure('TRC_ERR_BAD_REQUEST', err.code ?? 'bad_request', { reason: (err.reason ?? err.message ?? 'malformed request').slice(0, 100) });
  }
}
