/**
 * WebSocket upgrades through ingress and egress, proxied by http-proxy (DESIGN: "http-proxy for
 * upgrades"). The upgrade request is an ordinary traced request: context extracted (ingress) or
 * stitched (egress), a SERVER / CLIENT span named after the route that ends at the 101 (or at a
 * non-101 answer, or at the failure, mapped like HTTP: refused → 502), and the new context
 * injected into the upgrade request the upstream receives. Frames pass untouched.
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
import { ServerResponse, STATUS_CODES, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import './http-proxy-compat.js';
import httpProxy from 'http-proxy';
import type { Runtime } from '../runtime.js';
import type { TimeoutConfig } from '../config/types.js';
import {
  beginClientHop,
  beginServerHop,
  handleEgress,
  handleIngress,
  injectFormats,
  rejectBadProxyRequest,
  resolveEgressDestination,
  traceresponse,
  upstreamHeaders,
  type Doctor,
  type EgressListener,
  type PipelineDeps,
  type UpstreamTarget,
} from '../pipeline.js';
import { Hop } from '../telemetry/hop.js';
import { nowMs } from '../telemetry/span.js';
import { newSpanId } from '../telemetry/ids.js';
import { classifyUpstreamError } from './upstream-errors.js';
import { failure } from '../errors.js';
import { FrameCounter, CLOSE_NO_STATUS } from './ws-frames.js';
import { bindLifetimes, type LiveConnections, type SpliceEnd } from './splice.js';

/** What the upgrade paths need beyond the request pipeline's deps. */
export interface UpgradeDeps extends PipelineDeps {
  doctor?: Doctor;
  /**
   * Span end for spans that are not requests (the WebSocket connection span): tail rule, sinks,
   * but no request metrics and no access line. A finisher without `requestFinished` fits.
   */
  exportSpan(hop: Hop, rt: Runtime): void;
}

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

/** A WebSocket handshake (RFC 6455 §4.1): GET with `Upgrade: websocket`. Other upgrades (h2c) are not proxied as upgrades. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const up = req.headers.upgrade;
  return req.method === 'GET' && typeof up === 'string' && up.split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Session {
  attach(proxyReq: ClientRequest): void;
}

/** One upgrade exchange, after the context stages ran. */
interface Exchange {
  hop: Hop;
  rt: Runtime;
  origin: string;
  label: string;
  timeouts: TimeoutConfig;
  /** Flat header list for the upstream (upstreamHeaders' output). */
  headers: string[];
  path: string;
  /** Our headers on the response the caller gets (101, non-101, or our 502/504). */
  responseHeaders: Record<string, string>;
  /** Called once when the upgrade request is over (before its span is finished). */
  over?(): void;
}

/**
 * Handlers for the `upgrade` events of the ingress and egress listeners. One http-proxy
 * instance serves all of them; its `proxyReqWs` event is tied back to the exchange by request.
 */
export function createWebSocketProxy(deps: UpgradeDeps, live: LiveConnections) {
  const proxy = httpProxy.createProxyServer({ ws: true, xfwd: false, changeOrigin: false });
  const sessions = new WeakMap<IncomingMessage, Session>();
  proxy.on('proxyReqWs', (proxyReq, req) => sessions.get(req)?.attach(proxyReq));
  // Errors reach the per-call callback; this keeps a stray one from ever being unhandled.
  proxy.on('error', () => {});

  function ingress(target: (rt: Runtime) => UpstreamTarget): UpgradeListener {
    return (req, socket, head) => {
      socket.on('error', () => {});
      if (!isWebSocketUpgrade(req)) return asPlainRequest(req, socket, (rq, rs) => handleIngress(deps, target, rq, rs));
      const rt = deps.runtime();
      // Egress calls the app makes while accepting the connection stitch to this span; the entry
      // leaves at the 101, like any request's (a long-lived socket must not make inference guess).
      const { hop, x, entry } = beginServerHop(deps, req, rt);
      const url = req.url ?? '/';
      const t = target(rt);
      forward(req, socket as Socket, head, {
        hop,
        rt,
        origin: t.origin,
        label: t.label,
        timeouts: t.timeouts,
        headers: upstreamHeaders(hop, req, rt, injectFormats(rt, x.incomingB3)),
        path: url,
        responseHeaders: {
          [rt.correlationHeader]: hop.correlationId,
          traceresponse: traceresponse(hop),
        },
        over() {
          deps.inflight.delete(entry);
          if (entry.egressCalls > 0) hop.set('tracecar.egress.calls', entry.egressCalls);
        },
      });
    };
  }

  function egress(listener: EgressListener): UpgradeListener {
    return (req, socket, head) => {
      socket.on('error', () => {});
      if (!isWebSocketUpgrade(req)) return asPlainRequest(req, socket, (rq, rs) => handleEgress(deps, listener, rq, rs));
      const rt = deps.runtime();
      const dest = resolveEgressDestination(req, listener, rt);
      if (typeof dest === 'string') {
        rejectBadProxyRequest(deps, req, rt, dest, (status, body, correlationId) => {
          writeRaw(socket, status, body, { [rt.correlationHeader]: correlationId });
          socket.end();
        });
        return;
      }
      const { hop, headers } = beginClientHop(deps, req, rt, dest);
      forward(req, socket as Socket, head, {
        hop,
        rt,
        origin: dest.origin,
        label: dest.host,
        timeouts: rt.config.egress.timeout,
        headers,
        path: dest.path,
        responseHeaders: { [rt.correlationHeader]: hop.correlationId },
      });
    };
  }

  /** upstream: hand the handshake to http-proxy and follow it to the 101, a refusal, or a failure. */
  function forward(req: IncomingMessage, socket: Socket, head: Buffer, x: Exchange): void {
    const { hop, rt } = x;
    let phase: 'waiting' | 'responded' | 'upgraded' | 'done' = 'waiting';
    let proxyReq: ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;

    const arm = (ms: number, code: string, message: string): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!(ms > 0)) return;
      timer = setTimeout(() => proxyReq?.destroy(Object.assign(new Error(message), { code })), ms);
      timer.unref();
    };
    const finishUpgrade = (): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      if (hop.endTime === 0) hop.endTime = nowMs();
      x.over?.();
      deps.finish(hop, rt);
    };

    const onClientClose = (): void => {
      if (phase === 'waiting') {
        // The caller left before the upstream answered: stop that work too.
        phase = 'done';
        hop.endTime = nowMs();
        hop.fail(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: 'before the upgrade completed' }));
        proxyReq?.destroy();
        finishUpgrade();
      } else if (phase === 'responded') finishUpgrade();
    };
    // node:http hands the socket over paused, so a caller hanging up would go unnoticed until the
    // 101. Read it meanwhile: bytes a client sends before the 101 (it should not) are held, up to
    // EARLY_LIMIT, and put back before the pipe starts.
    const early: Buffer[] = [];
    let earlyBytes = 0;
    const onEarlyData = (chunk: Buffer): void => {
      early.push(chunk);
      earlyBytes += chunk.length;
      if (earlyBytes > EARLY_LIMIT) socket.pause();
    };
    socket.on('data', onEarlyData);
    socket.once('end', onClientClose);
    socket.once('close', onClientClose);

    sessions.set(req, {
      attach(pr) {
        proxyReq = pr;
        arm(x.timeouts.connect, 'ETIMEDOUT', 'connect timeout');
        pr.once('socket', (s: Socket) => {
          const connected = (): void => {
            hop.event('upstream.connected', nowMs());
            arm(x.timeouts.response, 'UND_ERR_HEADERS_TIMEOUT', 'response timeout');
          };
          if (s.connecting) s.once('connect', connected);
          else connected();
        });
        // These listeners run before http-proxy's own (it registers after emitting proxyReqWs),
        // so the headers it writes back already carry ours.
        pr.on('response', (res: IncomingMessage) => {
          if (timer) clearTimeout(timer);
          phase = 'responded';
          hop.event('upstream.first_byte', nowMs());
          hop.status = res.statusCode ?? 0;
          // http-proxy writes these headers raw and pipes the decoded body: no chunked framing
          // survives, so the body is delimited by closing the connection.
          delete res.headers['transfer-encoding'];
          res.headers.connection = 'close';
          Object.assign(res.headers, x.responseHeaders);
          res.on('data', (chunk: Buffer) => (hop.responseBytes += chunk.length));
          res.on('error', (err) => recordFailure(hop, err, x.label));
          res.once('end', () => {
            hop.endTime = nowMs();
            finishUpgrade();
          });
        });
        pr.on('upgrade', (proxyRes: IncomingMessage, proxySocket: Socket) => {
          if (timer) clearTimeout(timer);
          if (phase !== 'waiting') return;
          phase = 'upgraded';
          hop.endTime = nowMs();
          hop.status = 101;
          Object.assign(proxyRes.headers, x.responseHeaders);
          socket.off('end', onClientClose);
          socket.off('close', onClientClose);
          // Hand the socket to http-proxy's pipe (it resumes it) with the held bytes in front.
          socket.off('data', onEarlyData);
          socket.pause();
          if (early.length > 0) socket.unshift(Buffer.concat(early));
          startConnection(hop, rt, socket, proxySocket, x.timeouts);
          finishUpgrade();
        });
      },
    });

    // What the upstream receives: our header list (stale trace headers gone, context injected),
    // plus the two hop-by-hop fields a handshake needs. http-proxy sends req.headers as they are.
    req.headers = upgradeHeaders(x.headers, req.headers.upgrade ?? 'websocket');
    req.url = x.path;
    proxy.ws(req, socket, head, { target: x.origin }, (err) => {
      if (phase === 'upgraded' || phase === 'done') return; // the splice owns the sockets now
      if (phase === 'responded') {
        recordFailure(hop, err, x.label);
        socket.destroy();
        finishUpgrade();
        return;
      }
      phase = 'done';
      const failed = classifyUpstreamError(err, x.label);
      hop.endTime = nowMs();
      hop.status = failed.status;
      hop.fail(failed);
      // http-proxy ends the socket right after this callback.
      if (socket.writable) writeRaw(socket, failed.status, `${failed.message}\n`, x.responseHeaders);
      finishUpgrade();
    });
  }

  /** The connection span: from the 101 to the last byte, linked to the upgrade span. */
  function startConnection(up: Hop, rt: Runtime, client: Socket, upstream: Socket, timeouts: TimeoutConfig): void {
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
      halfOpenMs: timeouts.idle,
      onEnd: (end: SpliceEnd) => {
        live.delete(splice);
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
        deps.exportSpan(conn, rt);
      },
    });
    live.add(splice);
  }

  return { ingress, egress, proxy };
}

/** Flat [name, value, …] list → the header object http-proxy sends, plus the handshake's hop-by-hop fields. */
function upgradeHeaders(flat: string[], upgrade: string): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    const prev = out[name];
    out[name] = prev === undefined ? flat[i + 1] : Array.isArray(prev) ? [...prev, flat[i + 1]] : [prev, flat[i + 1]];
  }
  out.connection = 'Upgrade';
  out.upgrade = upgrade;
  return out as IncomingHttpHeaders;
}

function recordFailure(hop: Hop, err: Error, label: string): void {
  if (!hop.failed) hop.fail(classifyUpstreamError(err, label));
}

/** A complete plain-text response written straight to a detached socket; the connection closes after it. */
export function writeRaw(socket: Duplex, status: number, body: string, headers: Record<string, string>): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.write(`${head}\r\n${body}`);
}

/**
 * An upgrade to something other than WebSocket (h2c, which HTTP/2-first clients such as Java's
 * HttpClient offer on every plain-http request): RFC 9110 §7.8 lets a server ignore Upgrade, so
 * it is served as the ordinary request it also is, on the normal request path, and the
 * connection closes after the response (node:http has already let go of the socket). The
 * listener's `shouldUpgradeCallback` can keep such requests off this path entirely.
 */
function asPlainRequest(req: IncomingMessage, socket: Duplex, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (!req.complete) {
    // A body after an upgrade request is no longer parsed by node:http: say so instead of guessing.
    writeRaw(socket, 501, 'tracecar: an Upgrade other than websocket on a request with a body is not supported; send it without Upgrade\n', {});
    socket.end();
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    (socket as Socket).destroySoon();
  });
  handle(req, res);
}
