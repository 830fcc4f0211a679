/**
 * A WebSocket handshake forwarded with undici and, after the 101, the two sockets joined by
 * splice.ts, as for CONNECT tunnels. The dispatch is the one under undici's `upgrade()`
 * (`upgrade: 'websocket'` on the request), with a handler of our own: `upgrade()`'s rejects any
 * other answer as "bad upgrade" and drops its body, where a refusal (403, 426…) must reach the
 * client as it is. The request path (pipeline.ts) has already run the context stages and built
 * the upstream headers; this module follows the handshake to the 101, a refusal or a failure
 * (mapped like HTTP: refused → 502, too slow → 504), and frames pass untouched.
 *
 * The connection's life gets a second span, `WS <route>`, child of the upgrade span and linked
 * to it. Its kind is INTERNAL on both sides: the remote exchange (the HTTP upgrade) already has
 * its SERVER / CLIENT span, and backends derive request rate and latency from those kinds
 * (Jaeger SPM, Tempo metrics-generator, the collector's spanmetrics), so a second SERVER span
 * lasting hours would be counted as another request and wreck the latency histograms. For the
 * same reason it does not go through the request metrics: the upgrade is counted once, as a
 * request answered 101.
 *
 * Directions are named from the app's point of view on both sides: "in" is what the app
 * receives (ingress: client → app; egress: remote → app), "out" is what it sends.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { UpstreamDispatcher } from './h1-client.js';
import type { TimeoutConfig } from '../config/types.js';
import { failure } from '../errors.js';
import { Hop } from '../telemetry/hop.js';
import { nowMs } from '../telemetry/span.js';
import { newSpanId } from '../telemetry/ids.js';
import { forwardableResponseHeaders } from './headers.js';
import { classifyUpstreamError } from './upstream-errors.js';
import { FrameCounter, CLOSE_NO_STATUS } from './ws-frames.js';
import { bindLifetimes, type LiveConnections, type SpliceEnd } from './splice.js';
import { writeRaw } from './upgrade.js';

/** Span attribute names of the connection span. */
export const WS = {
  bytesIn: 'tracecar.websocket.bytes.in',
  bytesOut: 'tracecar.websocket.bytes.out',
  messagesIn: 'tracecar.websocket.messages.in',
  messagesOut: 'tracecar.websocket.messages.out',
  closeCode: 'tracecar.websocket.close.code',
  /** "app" or "peer" (the client on ingress, the remote service on egress). */
  closedBy: 'tracecar.websocket.close.by',
  /** Set when the byte stream stopped looking like WebSocket framing (counts are then partial). */
  unparsed: 'tracecar.websocket.unparsed',
  linkType: 'tracecar.link.type',
} as const;

/** Bytes held from a client that writes before the 101; past this, it is read no further until then. */
const EARLY_LIMIT = 64 * 1024;

/** RFC 6455 §7.4.1: 1006 is never sent; it is how an end without a close frame is reported. */
const CLOSE_ABNORMAL = 1006;

const CLIENT_LEFT = Object.freeze(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: 'before the upgrade completed' }));

/**
 * Whether a close code reports a failure. 1000 normal, 1001 going away, 1005 (a close frame with
 * no code) and application codes 3000–4999 (their meaning is the app's) are not errors; the
 * protocol's failure codes (1002 protocol error, 1003, 1007–1015) are.
 */
export function isFailureClose(code: number): boolean {
  if (code === 1000 || code === 1001 || code === CLOSE_NO_STATUS) return false;
  if (code >= 3000 && code <= 4999) return false;
  return true;
}

/** One handshake to forward, after the context stages ran. */
export interface WebSocketExchange {
  /** The upgrade's SERVER (ingress) or CLIENT (egress) span. */
  hop: Hop;
  dispatcher: UpstreamDispatcher;
  origin: string;
  path: string;
  /** Flat [name, value, …] list for the upstream: hop-by-hop fields removed, context injected. */
  headers: string[];
  /** How the upstream is named in error messages. */
  label: string;
  timeouts: TimeoutConfig;
  /** Our headers on the response the caller gets (101, another answer, or our 502/504). */
  responseHeaders: Record<string, string>;
  /** Called once when the handshake is over, just before its span ends. */
  settled?(): void;
  /** Ends the upgrade span (a request: metrics, access line). */
  finish(hop: Hop): void;
  /** Ends the connection span (not a request: sinks only). */
  connectionEnded(conn: Hop): void;
  /** Where the spliced connection registers, so shutdown can drain it. */
  live: LiveConnections;
}

/** Forwards the handshake on `socket` (detached from node:http) and, on a 101, splices the connection. */
export function forwardWebSocket(socket: Socket, head: Buffer, x: WebSocketExchange): void {
  const { hop } = x;
  let phase: 'waiting' | 'responded' | 'upgraded' | 'done' = 'waiting';
  let abortUpstream: ((err?: Error) => void) | undefined;
  let resumeUpstream: (() => void) | undefined;
  let finished = false;

  const finishUpgrade = (): void => {
    if (finished) return;
    finished = true;
    if (hop.endTime === 0) hop.endTime = nowMs();
    x.settled?.();
    x.finish(hop);
  };

  const onClientClose = (): void => {
    if (phase === 'waiting') {
      // The caller left before the upstream answered: stop that work too.
      phase = 'done';
      hop.endTime = nowMs();
      hop.fail(CLIENT_LEFT);
      abortUpstream?.(new Error('client disconnected'));
      finishUpgrade();
    } else if (phase === 'responded') {
      phase = 'done';
      abortUpstream?.(new Error('client disconnected'));
      finishUpgrade();
    }
  };
  // node:http hands the socket over paused, so a caller hanging up would go unnoticed until the
  // 101. Read it meanwhile: bytes a client sends before the 101 (it should not) are held, up to
  // EARLY_LIMIT, and put back before the splice starts; so are any node:http read past the head.
  const early: Buffer[] = head.length > 0 ? [head] : [];
  let earlyBytes = head.length;
  const onEarlyData = (chunk: Buffer): void => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (earlyBytes > EARLY_LIMIT) socket.pause();
  };
  socket.on('data', onEarlyData);
  socket.once('end', onClientClose);
  socket.once('close', onClientClose);
  socket.on('drain', () => resumeUpstream?.());

  const handler: Dispatcher.DispatchHandler = {
    onConnect(abort) {
      abortUpstream = abort;
      if (phase === 'done') abort(new Error('client disconnected'));
      else hop.event('upstream.connected', nowMs());
    },
    // A refusal (403, 404, 426…): passed on as it is, body delimited by closing the connection.
    onHeaders(statusCode, rawHeaders, resume) {
      if (statusCode < 200 || phase !== 'waiting') return true;
      phase = 'responded';
      resumeUpstream = resume;
      hop.event('upstream.first_byte', nowMs());
      hop.status = statusCode;
      const headers = forwardableResponseHeaders(rawHeaders as Buffer[]);
      socket.write(statusHead(statusCode, headers, x.responseHeaders));
      return true;
    },
    onData(chunk) {
      hop.responseBytes += chunk.length;
      return socket.write(chunk);
    },
    onComplete() {
      if (phase !== 'responded') return;
      phase = 'done';
      hop.endTime = nowMs();
      socket.end();
      finishUpgrade();
    },
    onUpgrade(statusCode, rawHeaders, upstream) {
      if (phase !== 'waiting') {
        (upstream as Socket).destroy();
        return;
      }
      phase = 'upgraded';
      hop.endTime = nowMs();
      hop.status = statusCode;
      socket.off('end', onClientClose);
      socket.off('close', onClientClose);
      socket.off('data', onEarlyData);
      socket.pause();
      // The 101 as the upstream sent it (Upgrade, Connection, Sec-WebSocket-Accept included), ours replacing its copies.
      socket.write(statusHead(statusCode, rawHeaders as Buffer[], x.responseHeaders));
      if (early.length > 0) socket.unshift(Buffer.concat(early));
      startConnection(hop, socket, upstream as Socket, x);
      finishUpgrade();
    },
    onError(err) {
      if (phase === 'upgraded' || phase === 'done') return; // the splice owns the sockets now, or the client left
      if (phase === 'responded') {
        phase = 'done';
        if (!hop.failed) hop.fail(classifyUpstreamError(err, x.label));
        socket.destroy();
        finishUpgrade();
        return;
      }
      phase = 'done';
      const failed = classifyUpstreamError(err, x.label);
      hop.endTime = nowMs();
      hop.status = failed.status;
      hop.fail(failed);
      if (socket.writable) writeRaw(socket, failed.status, `${failed.message}\n`, x.responseHeaders);
      socket.end();
      finishUpgrade();
    },
  };

  x.dispatcher.dispatch(
    {
      origin: x.origin,
      path: x.path,
      method: 'GET',
      headers: x.headers,
      // undici writes `connection: upgrade` and `upgrade: websocket` itself.
      upgrade: 'websocket',
      headersTimeout: x.timeouts.response,
      bodyTimeout: x.timeouts.idle,
    },
    handler,
  );
}

/**
 * The status line and headers of a response written raw to the client: the upstream's, with our
 * response headers replacing any copies it sent. A non-101 answer is delimited by closing the
 * connection (its body arrives decoded, so chunked framing cannot be passed on).
 */
function statusHead(status: number, raw: ReadonlyArray<Buffer | string>, ours: Record<string, string>): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString();
    if (name.toLowerCase() in ours) continue;
    head += `${name}: ${raw[i + 1].toString()}\r\n`;
  }
  for (const name in ours) head += `${name}: ${ours[name]}\r\n`;
  if (status !== 101) head += 'connection: close\r\n';
  return `${head}\r\n`;
}

/** The connection span: from the 101 to the last byte, linked to the upgrade span. */
function startConnection(up: Hop, client: Socket, upstream: Socket, x: WebSocketExchange): void {
  const conn = new Hop(up.side, 'internal', up.method, nowMs());
  conn.continueTrace(up);
  conn.spanId = newSpanId();
  conn.sampled = up.sampled;
  conn.samplingRule = 'parent';
  conn.samplingReason = up.sampled ? 'parent-sampled' : 'parent-not-sampled';
  conn.correlationId = up.correlationId;
  conn.correlationSource = up.correlationSource === 'incoming' ? 'incoming' : 'stitched';
  conn.route = up.route;
  conn.path = up.path;
  conn.name = `WS ${up.route}`;
  conn.httpVersion = up.httpVersion;
  conn.userAgent = up.userAgent;
  conn.peerAddress = up.peerAddress;
  conn.peerPort = up.peerPort;
  conn.serverAddress = up.serverAddress;
  conn.serverPort = up.serverPort;
  conn.peerService = up.peerService;
  conn.urlFull = up.urlFull;
  conn.links.push({ traceId: up.traceId, spanId: up.spanId, attributes: { [WS.linkType]: 'websocket.upgrade' } });

  // downstream = the socket tracecar accepted; upstream = the one it opened.
  const fromDown = new FrameCounter();
  const fromUp = new FrameCounter();
  let firstClose: { code: number; by: 'down' | 'up'; at: number } | undefined;
  client.on('data', (chunk: Buffer) => {
    fromDown.push(chunk);
    if (!firstClose && fromDown.closeCode !== undefined) firstClose = { code: fromDown.closeCode, by: 'down', at: nowMs() };
  });
  upstream.on('data', (chunk: Buffer) => {
    fromUp.push(chunk);
    if (!firstClose && fromUp.closeCode !== undefined) firstClose = { code: fromUp.closeCode, by: 'up', at: nowMs() };
  });

  const splice = bindLifetimes(client, upstream, {
    halfOpenMs: x.timeouts.idle,
    onEnd: (end: SpliceEnd) => {
      x.live.delete(splice);
      conn.endTime = nowMs();
      const appIsUp = up.side === 'ingress';
      const toApp = appIsUp ? fromDown : fromUp;
      const fromApp = appIsUp ? fromUp : fromDown;
      conn.set(WS.bytesIn, toApp.bytes);
      conn.set(WS.bytesOut, fromApp.bytes);
      conn.set(WS.messagesIn, toApp.messages);
      conn.set(WS.messagesOut, fromApp.messages);
      // The "request" direction of the exchange is the one from the side that connected.
      conn.requestBytes = fromDown.bytes;
      conn.responseBytes = fromUp.bytes;
      const broken = fromDown.broken ?? fromUp.broken;
      if (broken) conn.set(WS.unparsed, broken);
      if (firstClose) {
        conn.set(WS.closeCode, firstClose.code);
        conn.set(WS.closedBy, (firstClose.by === 'up') === appIsUp ? 'app' : 'peer');
        conn.event('websocket.close', firstClose.at, { [WS.closeCode]: firstClose.code });
      }
      if (end.cutReason) {
        conn.fail({ errorType: 'tracecar_shutdown', message: end.cutReason });
        if (!firstClose) conn.set(WS.closeCode, CLOSE_ABNORMAL);
      } else if (!firstClose) {
        conn.set(WS.closeCode, CLOSE_ABNORMAL);
        const failedSide = end.error ? end.error.side : (end.firstEnded ?? end.firstClosed);
        const who = failedSide === undefined ? 'a side' : (failedSide === 'b') === appIsUp ? 'the app' : appIsUp ? 'the client' : 'the remote service';
        const cause = end.error ? `: ${(end.error.error as NodeJS.ErrnoException).code ?? end.error.error.message}` : '';
        conn.fail({
          errorType: (end.error?.error as NodeJS.ErrnoException | undefined)?.code ?? 'websocket_abnormal_close',
          message: `connection ended by ${who} without a WebSocket close frame (1006)${cause}`,
        });
      } else if (isFailureClose(firstClose.code)) {
        conn.fail({ errorType: `websocket_close_${firstClose.code}`, message: `WebSocket closed with code ${firstClose.code}` });
      } else if (end.error) {
        // After a close frame, a reset is only how a side chose to hang up.
        conn.event('websocket.transport_error', nowMs(), { 'error.type': (end.error.error as NodeJS.ErrnoException).code ?? 'error' });
      }
      x.connectionEnded(conn);
    },
  });
  x.live.add(splice);
  client.pipe(upstream);
  upstream.pipe(client);
}
