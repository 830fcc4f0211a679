/**
 * The request path, in one place, top to bottom: the entry points the listeners call first, then
 * the stages in the order a request meets them.
 *
 *   listener → context (extract | stitch) → correlation → sampling → chaos → upstream → span end → export
 *
 * Each stage is a small function over the Hop (the request's tracing state). What a stage needs
 * from elsewhere is passed in (PipelineDeps, the Runtime of the config version the request
 * started under); the transports below (proxy/exchange, proxy/websocket, proxy/tunnel) and the
 * fault filter (chaos/inject) never call back up here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import type { UpstreamDispatcher } from './proxy/h1-client.js';
import type { Runtime } from './runtime.js';
import { diagnose, stitch, type Doctor, type StitchResult } from './stitching.js';
import { Hop } from './telemetry/hop.js';
import { nowMs } from './telemetry/span.js';
import { newSpanId, newTraceId, newUuid } from './telemetry/ids.js';
import { extractContext, appendTraceHeaders, formatTraceresponse, resolveCorrelationId, parseBaggage, TRACERESPONSE_HEADER } from './propagation/index.js';
import type { OutgoingContext, ExtractResult } from './propagation/types.js';
import { appendForwardedHeaders, forwardableRequestHeaders } from './proxy/headers.js';
import { forwardExchange, hasRequestBody, type ForwardOutcome, type ForwardRequest } from './proxy/exchange.js';
import { forwardH2Exchange, type H2ForwardObserver } from './proxy/h2-exchange.js';
import type { H2Pool } from './proxy/h2-pool.js';
import { isHttp2, requestAuthority, resetClient } from './proxy/h2-request.js';
import { writeGrpcTrailersOnly } from './proxy/grpc-answer.js';
import type { UpstreamClients } from './proxy/upstreams.js';
import type { TargetSpec } from './config/targets.js';
import { decodeGrpcMessage, isGrpcContentType, parseGrpcPath, parseGrpcStatus, parseGrpcTimeout } from './grpc/index.js';
import { InflightRegistry, type InflightEntry } from './proxy/inflight.js';
import type { LiveConnections } from './proxy/splice.js';
import { isWebSocketUpgrade, serveAsPlainRequest, writeRaw } from './proxy/upgrade.js';
import { forwardWebSocket } from './proxy/websocket.js';
import { openTunnel, parseAuthority } from './proxy/tunnel.js';
import { CHAOS_HEADER, injectFaults, type FaultedExchange, type FaultPlan } from './chaos/index.js';
import type { TimeoutConfig, PropagationFormat } from './config/types.js';
import { failure } from './errors.js';

export interface PipelineDeps {
  /** The config version new requests use. */
  runtime(): Runtime;
  /**
   * In-flight ingress requests, for stitching; absent when no egress listener exists (listeners
   * are fixed at start), so ingress requests skip a map nobody would read.
   */
  inflight?: InflightRegistry;
  /** Span end of a request → tail rule, sinks, access line, request metrics, drain. */
  finish(hop: Hop, rt: Runtime): void;
  /** Span end of what is not a request (a WebSocket's connection span): tail rule and sinks only. */
  exportSpan(hop: Hop, rt: Runtime): void;
  /** A request started (metrics, drain). */
  started(hop: Hop): void;
  /** Chaos injected (metrics). */
  chaosInjected?(kind: string, side: string): void;
  /** Whether the process is draining: responses then ask clients to close their connections. */
  draining(): boolean;
  /** The propagation doctor, for egress; absent = silent. */
  doctor?: Doctor;
  /** Upgraded and tunnelled connections open now, so shutdown can drain them. */
  live: LiveConnections;
  /**
   * false when no finished span can leave the process (no exporter, no admin store): details
   * only a span would carry (the upstream timing events) are then not recorded. Default true.
   */
  spansLeave?: boolean;
}

/** Where a request goes once the pipeline has decided everything else. */
export interface UpstreamTarget {
  /** HTTP/1.1 (undici), with the target's TLS settings. */
  dispatcher: UpstreamDispatcher;
  origin: string;
  path: string;
  label: string;
  timeouts: TimeoutConfig;
  /** h2c / h2 / ALPN targets: the session pool and the target (ALPN may still pick `dispatcher`). */
  h2?: { pool: H2Pool; spec: TargetSpec };
}

/** An egress listener: the forward proxy (no fixed target) or a named route. */
export interface EgressListener {
  dispatcher: UpstreamDispatcher;
  /** Named route: every request goes to this route's current target, under its name as peer.service. */
  route?: { name: string };
  /** Named routes: the connections to the route's target (its protocol and TLS settings). */
  clients?: UpstreamClients;
}

/** The target of a spec through `clients`: HTTP/2 when the spec may speak it. */
export function upstreamFor(clients: UpstreamClients, spec: TargetSpec, label: string, timeouts: TimeoutConfig): UpstreamTarget {
  const t: UpstreamTarget = { dispatcher: clients.dispatcher(spec), origin: spec.origin, path: '/', label, timeouts };
  if (spec.protocol !== 'http1') t.h2 = { pool: clients.h2, spec };
  return t;
}

// ---------------------------------------------------------------------------------------------
// Entry points: what each listener event runs

/** Ingress request: a SERVER span in front of the app. */
export function handleIngress(deps: PipelineDeps, target: (rt: Runtime) => UpstreamTarget, req: IncomingMessage, res: ServerResponse): void {
  const rt = deps.runtime();
  const { hop, x, entry } = beginServerHop(deps, req, rt);
  const plan = chaosStage(hop, req, rt, deps);
  const t = target(rt);
  const headers = upstreamHeaders(hop, req, rt, injectFormats(rt, x.incomingB3));
  t.path = req.url ?? '/';

  const exchange = new HopExchange(hop, rt, plan, deps, entry);
  if (plan) injectFaults(plan, faultedExchange(exchange, req, res, t, headers));
  else upstreamStage(exchange, req, res, t, headers, res);
}

/** Egress request (forward proxy or named route): a CLIENT span stitched to the SERVER span it belongs to. */
export function handleEgress(deps: PipelineDeps, listener: EgressListener, req: IncomingMessage, res: ServerResponse): void {
  const rt = deps.runtime();
  const dest = resolveEgressDestination(req, listener, rt);
  if (typeof dest === 'string') {
    rejectBadProxyRequest(deps, req, rt, dest, (status, body, correlationId) => {
      req.resume();
      const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), rt.correlationHeader, correlationId];
      if (deps.draining()) h.push('connection', 'close');
      res.writeHead(status, h);
      res.end(body);
    });
    return;
  }
  const { hop, headers } = beginClientHop(deps, req, rt, dest);
  const plan = chaosStage(hop, req, rt, deps);
  const target: UpstreamTarget =
    dest.spec && listener.clients
      ? upstreamFor(listener.clients, dest.spec, dest.host, rt.config.egress.timeout)
      : { dispatcher: listener.dispatcher, origin: dest.origin, path: dest.path, label: dest.host, timeouts: rt.config.egress.timeout };
  target.path = dest.path;
  const exchange = new HopExchange(hop, rt, plan, deps, undefined);
  if (plan) injectFaults(plan, faultedExchange(exchange, req, res, target, headers));
  else upstreamStage(exchange, req, res, target, headers, res);
}

/**
 * Ingress `upgrade`: a WebSocket handshake is an ordinary traced request up to the 101 (its span
 * ends there), then a connection with a span of its own. Any other upgrade is served as the
 * plain request it also is.
 */
export function handleIngressUpgrade(deps: PipelineDeps, target: (rt: Runtime) => UpstreamTarget, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => {});
  if (!isWebSocketUpgrade(req)) return serveAsPlainRequest(req, socket, (rq, rs) => handleIngress(deps, target, rq, rs));
  const rt = deps.runtime();
  // Egress calls the app makes while accepting the connection stitch to this span; the entry
  // leaves at the 101, like any request's (a long-lived socket must not make inference guess).
  const { hop, x, entry } = beginServerHop(deps, req, rt);
  const t = target(rt);
  forwardWebSocket(socket as Socket, head, {
    hop,
    dispatcher: t.dispatcher,
    origin: t.origin,
    path: req.url ?? '/',
    headers: upstreamHeaders(hop, req, rt, injectFormats(rt, x.incomingB3)),
    label: t.label,
    timeouts: t.timeouts,
    responseHeaders: { [rt.correlationHeader]: hop.correlationId, [TRACERESPONSE_HEADER]: traceresponse(hop) },
    settled() {
      if (entry) settleEntry(deps, hop, entry);
    },
    finish: (h) => deps.finish(h, rt),
    connectionEnded: (conn) => deps.exportSpan(conn, rt),
    live: deps.live,
  });
}

/** Egress `upgrade`: the app's own WebSocket, through the forward proxy or a named route. */
export function handleEgressUpgrade(deps: PipelineDeps, listener: EgressListener, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => {});
  if (!isWebSocketUpgrade(req)) return serveAsPlainRequest(req, socket, (rq, rs) => handleEgress(deps, listener, rq, rs));
  const rt = deps.runtime();
  const dest = resolveEgressDestination(req, listener, rt);
  if (typeof dest === 'string') return rejectOnSocket(deps, req, socket, rt, dest);
  const { hop, headers } = beginClientHop(deps, req, rt, dest);
  forwardWebSocket(socket as Socket, head, {
    hop,
    dispatcher: dest.spec && listener.clients ? listener.clients.dispatcher(dest.spec) : listener.dispatcher,
    origin: dest.origin,
    path: dest.path,
    headers,
    label: dest.host,
    timeouts: rt.config.egress.timeout,
    responseHeaders: { [rt.correlationHeader]: hop.correlationId },
    finish: (h) => deps.finish(h, rt),
    connectionEnded: (conn) => deps.exportSpan(conn, rt),
    live: deps.live,
  });
}

/** Egress `connect`: a CONNECT tunnel through the forward proxy (named routes do not tunnel). */
export function handleConnect(deps: PipelineDeps, listener: EgressListener, req: IncomingMessage, downstream: Duplex, head: Buffer): void {
  const socket = downstream as Socket;
  socket.on('error', () => {});
  const rt = deps.runtime();
  if (listener.route) {
    writeRaw(socket, 405, `tracecar egress route "${listener.route.name}" does not tunnel; CONNECT goes to the forward proxy (egress.listen)\n`, {});
    socket.end();
    return;
  }
  const authority = req.url ?? '';
  const target = parseAuthority(authority);
  if (typeof target === 'string') return rejectOnSocket(deps, req, socket, rt, target);

  const hop = new Hop('egress', 'client', 'CONNECT', nowMs());
  hop.path = authority;
  hop.route = authority;
  hop.name = `CONNECT ${authority}`;
  hop.userAgent = req.headers['user-agent'];
  hop.httpVersion = req.httpVersion;
  hop.peerAddress = socket.remoteAddress;
  hop.peerPort = socket.remotePort;
  hop.serverAddress = target.host;
  hop.serverPort = target.port;
  hop.peerService = target.host;
  // The app's trace headers, if any, travel inside the tunnel's TLS: the doctor must not blame it.
  egressContextStage(deps, hop, req, rt, { doctor: false });
  deps.started(hop);
  openTunnel(socket, head, {
    hop,
    target,
    authority,
    timeouts: rt.config.egress.timeout,
    responseHeaders: { [rt.correlationHeader]: hop.correlationId },
    finish: (h) => deps.finish(h, rt),
    live: deps.live,
  });
}

// ---------------------------------------------------------------------------------------------
// listener → context → correlation → sampling

/**
 * listener → context → correlation → sampling for a SERVER hop (HTTP request or WebSocket
 * upgrade), registered in the stitching map so the app's egress calls find it.
 */
export function beginServerHop(deps: PipelineDeps, req: IncomingMessage, rt: Runtime): { hop: Hop; x: ExtractResult; entry: InflightEntry | undefined } {
  const hop = new Hop('ingress', 'server', req.method ?? 'GET', nowMs());
  describeRequest(hop, req, rt, req.url ?? '/');
  const host = requestAuthority(req);
  if (host) {
    const colon = host.lastIndexOf(':');
    if (colon > 0 && !host.endsWith(']')) {
      hop.serverAddress = host.slice(0, colon);
      hop.serverPort = Number(host.slice(colon + 1)) || undefined;
    } else hop.serverAddress = host;
  }
  // OTel semconv: client.address is the original client behind intermediaries when known.
  // The first entry only, without splitting a list a client may have made long; bounded at span end.
  const xff = req.headers['x-forwarded-for'];
  const comma = typeof xff === 'string' ? xff.indexOf(',') : -1;
  const firstHop = typeof xff === 'string' ? (comma < 0 ? xff : xff.slice(0, comma)).trim() : undefined;
  hop.clientAddress = firstHop || hop.peerAddress;

  const x = ingressContextStage(hop, req, rt);
  correlationStage(hop, req, rt);
  samplingStage(hop, req, rt, x.context ?? x.samplingOnly);
  deps.started(hop);

  const inflight = deps.inflight;
  if (!inflight) return { hop, x, entry: undefined };
  const entry: InflightEntry = {
    traceId: hop.traceId,
    spanId: hop.spanId,
    correlationId: hop.correlationId,
    sampled: hop.sampled,
    traceIdBits: hop.traceIdBits,
    random: hop.random,
    debug: hop.debug,
    traceState: hop.traceState,
    route: hop.name,
    egressCalls: 0,
  };
  inflight.add(entry);
  return { hop, x, entry };
}

/** The SERVER span's response began (or its upgrade settled): it leaves the stitching map. */
function settleEntry(deps: PipelineDeps, hop: Hop, entry: InflightEntry): void {
  deps.inflight?.delete(entry);
  if (entry.egressCalls > 0) hop.set('tracecar.egress.calls', entry.egressCalls);
}

/**
 * listener → context (stitch) → correlation → sampling for a CLIENT hop (HTTP request or
 * WebSocket upgrade), and the headers to send: ours injected, Host set to the destination.
 */
export function beginClientHop(deps: PipelineDeps, req: IncomingMessage, rt: Runtime, dest: EgressDestination): { hop: Hop; headers: string[] } {
  const hop = new Hop('egress', 'client', req.method ?? 'GET', nowMs());
  describeRequest(hop, req, rt, dest.path);
  hop.peerService = dest.peerService;
  if (dest.server) {
    hop.serverAddress = dest.server.address;
    hop.serverPort = dest.server.port;
  } else {
    const url = new URL(dest.origin);
    hop.serverAddress = url.hostname;
    hop.serverPort = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  }
  hop.urlFull = `${dest.origin}${hop.path}${hop.query ? `?${hop.query}` : ''}`;

  const stitched = egressContextStage(deps, hop, req, rt, { doctor: true });
  if (!hop.rpc) hop.name = `${hop.method} ${hop.route}`;
  deps.started(hop);

  const headers = upstreamHeaders(hop, req, rt, injectFormats(rt, stitched.incomingB3));
  // The upstream sees the destination's authority as Host (named routes rewrite it).
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === 4 && headers[i].toLowerCase() === 'host') headers[i + 1] = dest.host;
  }
  return { hop, headers };
}

/** listener: what the request is, before anything is decided. */
export function describeRequest(hop: Hop, req: IncomingMessage, rt: Runtime, target: string): void {
  // splitTarget's split, without its object.
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  hop.path = path;
  hop.query = q === -1 ? '' : rt.redactor.query(target.slice(q + 1));
  // A gRPC call is named by its method (package.Service/Method), which its path already is.
  const rpc = isGrpcContentType(req.headers['content-type']) ? parseGrpcPath(path) : undefined;
  if (rpc) {
    hop.rpc = rpc;
    hop.rpcAttributes = rt.config.grpc.attributes;
    hop.route = path;
    hop.name = rpc.full;
  } else {
    hop.route = rt.routes.route(hop.path);
    hop.name = `${hop.method} ${hop.route}`;
  }
  hop.userAgent = req.headers['user-agent'];
  // network.protocol.version: "2" for HTTP/2 (node says "2.0").
  hop.httpVersion = req.httpVersionMajor === 2 ? '2' : req.httpVersion;
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) hop.scheme = 'https';
  hop.peerAddress = req.socket.remoteAddress;
  hop.peerPort = req.socket.remotePort;
}

/** context (ingress): continue the caller's trace, or start one. A malformed header starts a new trace. */
export function ingressContextStage(hop: Hop, req: IncomingMessage, rt: Runtime): ExtractResult {
  const x = extractContext(req.headers, rt.config.propagation.extract);
  const ctx = x.context;
  if (ctx) {
    hop.continueTrace(ctx);
    hop.set('tracecar.parent.source', ctx.format);
  } else {
    hop.startTrace(newTraceId());
    hop.debug = x.samplingOnly?.debug ?? false;
  }
  hop.spanId = newSpanId();
  if (x.problems.length > 0) {
    hop.event('tracecar.propagation.invalid', hop.startTime, { 'tracecar.problems': x.problems });
  }
  return x;
}

/**
 * context → correlation → sampling for an egress hop: stitch to the ingress request it belongs
 * to (forwarded trace headers → correlation id → opt-in inference → a marked new root), ask the
 * propagation doctor when `doctor` is set, then take the correlation id and the sampling
 * decision from the stitched parent.
 */
export function egressContextStage(deps: PipelineDeps, hop: Hop, req: IncomingMessage, rt: Runtime, options: { doctor: boolean }): StitchResult {
  const inflight = deps.inflight ?? NOTHING_IN_FLIGHT;
  const stitched = stitch(hop, req, rt, inflight);
  hop.set('tracecar.parent.source', stitched.source);
  if (stitched.source === 'inferred') hop.set('tracecar.parent.inferred', true);
  if (stitched.source === 'none') {
    hop.set('tracecar.root', true);
    if (stitched.ambiguous) hop.set('tracecar.parent.ambiguous', true);
  }
  if (options.doctor && deps.doctor) diagnose(hop, stitched, req, rt, inflight, deps.doctor);
  correlationStage(hop, req, rt);
  if (hop.correlationSource !== 'incoming' && stitched.entry) {
    hop.correlationId = stitched.entry.correlationId;
    hop.correlationSource = 'stitched';
  }
  if (stitched.entry) {
    stitched.entry.egressCalls++;
    hop.sampled = stitched.entry.sampled;
    hop.samplingRule = 'parent';
    hop.samplingReason = stitched.entry.sampled ? 'parent-sampled' : 'parent-not-sampled';
  } else {
    samplingStage(hop, req, rt, stitched.parent);
  }
  return stitched;
}

/** What egress stitches against when no map is kept (PipelineDeps.inflight absent): nothing in flight. */
const NOTHING_IN_FLIGHT = new InflightRegistry(0);

export interface EgressDestination {
  /** Named routes: the route's target as compiled for this config version (protocol, TLS). */
  spec?: TargetSpec;
  origin: string;
  /** Origin-form path + query sent upstream. */
  path: string;
  /** Authority for the Host header and server.address. */
  host: string;
  peerService: string | undefined;
  /** server.address and server.port, when known without parsing `origin` again. */
  server?: { address: string; port: number };
}

/**
 * Where an egress request goes. Forward proxy: the absolute-form target (RFC 9112 §3.2.2: the
 * proxy uses the target URI's authority, not the Host header); an origin-form request falls back
 * to Host (transparent use). Named route: the route's origin, Host rewritten to it. A string is
 * why it cannot go anywhere.
 */
export function resolveEgressDestination(req: IncomingMessage, listener: EgressListener, rt: Runtime): EgressDestination | string {
  const raw = req.url ?? '/';
  if (listener.route) {
    const target = rt.routeTargets.get(listener.route.name);
    if (!target) return `route "${listener.route.name}" is no longer configured (restart to close its listener)`;
    return { spec: target, origin: target.origin, path: raw, host: target.host, peerService: listener.route.name, server: target.server };
  }
  if (raw.startsWith('http://') || raw.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `"${raw.slice(0, 200)}" is not a valid absolute URL`;
    }
    const server = { address: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
    return { origin: url.origin, path: url.pathname + url.search, host: url.host, peerService: url.hostname, server };
  }
  const host = requestAuthority(req);
  if (!host) return 'request has neither an absolute-form URL nor a Host header';
  return { origin: `http://${host}`, path: raw, host, peerService: host.replace(/:\d+$/, '') };
}

/**
 * An egress request tracecar cannot route (no absolute-form URL or Host, a malformed CONNECT
 * target, a route a reload removed): answered 400 TRC_ERR_BAD_PROXY_REQUEST, and traced and
 * counted like any failed request, stitched to its ingress request where it can be.
 */
function rejectBadProxyRequest(
  deps: PipelineDeps,
  req: IncomingMessage,
  rt: Runtime,
  reason: string,
  answer: (status: number, body: string, correlationId: string) => void,
): void {
  const hop = new Hop('egress', 'client', req.method ?? 'GET', nowMs());
  describeRequest(hop, req, rt, req.url ?? '/');
  egressContextStage(deps, hop, req, rt, { doctor: false });
  deps.started(hop);
  const failed = failure('TRC_ERR_BAD_PROXY_REQUEST', 'bad_proxy_request', { reason });
  hop.status = failed.status;
  hop.fail(failed);
  answer(failed.status, `${failed.message}\n`, hop.correlationId);
  hop.endTime = nowMs();
  deps.finish(hop, rt);
}

/** rejectBadProxyRequest on a socket node:http let go of (upgrade, CONNECT). */
function rejectOnSocket(deps: PipelineDeps, req: IncomingMessage, socket: Duplex, rt: Runtime, reason: string): void {
  rejectBadProxyRequest(deps, req, rt, reason, (status, body, correlationId) => {
    writeRaw(socket, status, body, { [rt.correlationHeader]: correlationId });
    socket.end();
  });
}

/** correlation: keep the caller's id exactly, or make one. */
export function correlationStage(hop: Hop, req: IncomingMessage, rt: Runtime): void {
  const c = resolveCorrelationId(req.headers, rt.config.propagation.correlationHeaders, newUuid);
  hop.correlationId = c.id;
  hop.correlationSource = c.source;
  if (c.rejected !== undefined) hop.correlationRejected = c.rejected;
}

/** sampling: head decision, consistent on the trace id. */
export function samplingStage(hop: Hop, req: IncomingMessage, rt: Runtime, parent: { sampled: boolean | undefined; debug: boolean } | undefined): void {
  const d = rt.sampler.decide({
    method: hop.method,
    path: hop.path,
    host: requestAuthority(req) ?? '',
    headers: req.headers,
    grpc: hop.rpc,
    traceId: hop.traceId,
    traceState: hop.traceState,
    parent,
  });
  hop.sampled = d.sampled;
  hop.samplingRule = d.rule;
  hop.samplingReason = d.reason;
}

// ---------------------------------------------------------------------------------------------
// chaos → upstream

/** chaos: decide faults for this request (null when chaos is off or nothing matched), recorded on the span. */
function chaosStage(hop: Hop, req: IncomingMessage, rt: Runtime, deps: PipelineDeps): FaultPlan | null {
  if (!rt.chaos) return null;
  const plan = rt.chaos.plan({
    side: hop.side,
    method: hop.method,
    path: hop.path,
    host: requestAuthority(req) ?? '',
    headers: req.headers,
    grpc: hop.rpc,
    baggage: parseBaggage(req.headers.baggage),
  });
  if (!plan) return null;
  const now = nowMs();
  for (const e of plan.events()) {
    hop.event(e.name, now, e.attributes);
    deps.chaosInjected?.(e.name.replace('tracecar.chaos.', ''), hop.side);
  }
  hop.set('tracecar.chaos', plan.describe());
  return plan;
}

/** The exchange as the fault filter (chaos/inject.ts) drives it; only built when a plan exists. */
function faultedExchange(x: HopExchange, req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, headers: string[]): FaultedExchange {
  const { hop } = x;
  return {
    req,
    res,
    grpc: hop.rpc !== undefined,
    addResponseHeaders: (h) => x.failureHeaders(h),
    reset: () => resetClient(req, res),
    answerGrpc(code, message, headers) {
      hop.grpcStatus = code;
      hop.grpcMessage = message;
      writeGrpcTrailersOnly(res, code, message, headers);
    },
    forward: (sink) => upstreamStage(x, req, res, target, headers, sink),
    ended(outcome) {
      if (outcome.cause) hop.fail(outcome.cause);
      recordOutcome(hop, { status: outcome.status, requestBytes: 0, responseBytes: 0, clientAborted: outcome.clientAborted });
      x.end();
    },
    failed: (cause) => hop.fail(cause),
  };
}

export function injectFormats(rt: Runtime, incomingB3: 'b3' | 'b3multi' | undefined): readonly PropagationFormat[] {
  const p = rt.config.propagation;
  if (!incomingB3 || !p.injectIncomingB3 || p.inject.includes(incomingB3)) return p.inject;
  return [...p.inject, incomingB3];
}

/** Request headers for the upstream: the caller's, minus hop-by-hop and stale trace headers, plus ours. */
export function upstreamHeaders(hop: Hop, req: IncomingMessage, rt: Runtime, formats: readonly PropagationFormat[]): string[] {
  const out = forwardableRequestHeaders(req.rawHeaders, req.headers.connection, { drop: rt.dropOnForward });
  const h2 = isHttp2(req);
  // HTTP/2 callers send :authority instead of Host (pseudo-headers are never copied as headers).
  if (h2 && req.headers[':authority']) out.push('host', req.headers[':authority'] as string);
  appendForwardedHeaders(out, {
    remoteAddress: req.socket.remoteAddress,
    proto: hop.scheme,
    host: requestAuthority(req),
    existingFor: req.headers['x-forwarded-for'],
    existingProto: req.headers['x-forwarded-proto'],
    existingHost: req.headers['x-forwarded-host'],
  });
  // The context sent on: our span is the parent (the hop holds every OutgoingContext field).
  appendTraceHeaders(out, hop satisfies OutgoingContext, formats);
  out.push(rt.correlationHeader, hop.correlationId);
  return out;
}

/** upstream: forward the request and stream the response into `sink`; finish the hop when done. */
function upstreamStage(x: HopExchange, req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, headers: string[], sink: Writable): void {
  const hop = x.hop;
  // grpc-timeout is the caller's deadline: it replaces timeout.response for the call.
  const deadlineMs = hop.rpc ? parseGrpcTimeout(req.headers['grpc-timeout']) : undefined;
  const fr: ForwardRequest = {
    origin: target.origin,
    path: target.path,
    method: hop.method,
    headers,
    body: hasRequestBody(req) ? req : null,
    maxBodyBytes: x.rt.config.limits.maxBodyBytes,
    timeouts: deadlineMs === undefined ? target.timeouts : { ...target.timeouts, response: deadlineMs },
    targetLabel: target.label,
  };
  if (!target.h2) return forwardExchange(target.dispatcher, req, res, fr, x, sink);
  forwardH2Exchange(target.h2.pool, target.h2.spec, req, res, { ...fr, grpc: hop.rpc !== undefined, deadlineMs }, x, sink, () =>
    forwardExchange(target.dispatcher, req, res, fr, x, sink),
  );
}

/** gRPC status and message from response headers (Trailers-Only) or trailers, as a flat list. */
function grpcStatusFrom(hop: Hop, list: readonly string[]): void {
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    if (name === 'grpc-status') hop.grpcStatus = parseGrpcStatus(list[i + 1]);
    else if (name === 'grpc-message') hop.grpcMessage = decodeGrpcMessage(list[i + 1]);
  }
}

/**
 * A request's exchange as the hop sees it: what the transport reports, recorded on the hop, and
 * span end. One object per request rather than a closure per event.
 */
class HopExchange implements H2ForwardObserver {
  constructor(
    readonly hop: Hop,
    readonly rt: Runtime,
    private readonly plan: FaultPlan | null,
    private readonly deps: PipelineDeps,
    /** The SERVER span's stitching entry (ingress with an egress listener only). */
    private readonly entry: InflightEntry | undefined,
  ) {}

  connected(): void {
    if (this.deps.spansLeave !== false) this.hop.event('upstream.connected', nowMs());
  }

  responseStart(_status: number, headers: string[]): void {
    if (this.deps.spansLeave !== false) this.hop.event('upstream.first_byte', nowMs());
    if (this.hop.rpc) grpcStatusFrom(this.hop, headers);
    addResponseHeaders(this.hop, headers, this.rt, this.plan, this.deps);
  }

  trailers(trailers: string[]): void {
    if (this.hop.rpc) grpcStatusFrom(this.hop, trailers);
  }

  failureHeaders(headers: string[]): void {
    addResponseHeaders(this.hop, headers, this.rt, this.plan, this.deps);
  }

  finished(outcome: ForwardOutcome): void {
    recordOutcome(this.hop, outcome);
    this.end();
  }

  /** span end: the stitching entry leaves, the fault plan's slot frees, the hop finishes. */
  end(): void {
    if (this.entry) settleEntry(this.deps, this.hop, this.entry);
    this.plan?.release();
    this.deps.finish(this.hop, this.rt);
  }
}

// ---------------------------------------------------------------------------------------------
// response → span end

/** W3C traceresponse for the caller of a SERVER hop: our span, sampled flag and random flag. */
export function traceresponse(hop: Hop): string {
  return formatTraceresponse(hop.traceId, hop.spanId, hop.sampled, hop.random);
}

/** Our response headers: the correlation id, W3C traceresponse, what chaos did. */
function addResponseHeaders(hop: Hop, headers: string[], rt: Runtime, plan: FaultPlan | null, deps: PipelineDeps): void {
  const drop = rt.ownResponseHeaders;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (drop.has(headers[i])) headers.splice(i, 2);
  }
  headers.push(rt.correlationHeader, hop.correlationId);
  if (hop.side === 'ingress') headers.push(TRACERESPONSE_HEADER, traceresponse(hop));
  if (plan) headers.push(CHAOS_HEADER, plan.describe());
  // HTTP/2 has no Connection header (RFC 9113 §8.2.2): a draining listener sends GOAWAY instead.
  if (deps.draining() && hop.httpVersion !== '2') headers.push('connection', 'close');
}

const CLIENT_ABORTED = Object.freeze(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: 'before the response was complete' }));

/** span end: fold the exchange outcome into the hop (the caller then hands it on). */
function recordOutcome(hop: Hop, outcome: ForwardOutcome): void {
  hop.endTime = nowMs();
  hop.status = outcome.status;
  hop.requestBytes = outcome.requestBytes;
  hop.responseBytes = outcome.responseBytes;
  // A cause already recorded (a chaos reset cuts the socket, which looks like a client abort) wins.
  if (hop.failed) return;
  if (outcome.clientAborted) hop.fail(CLIENT_ABORTED);
  else if (outcome.failure) hop.fail(outcome.failure);
}
