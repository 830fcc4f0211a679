/**
 * The request path, stage by stage, in one place:
 *
 *   listener → context (extract | stitch) → correlation → sampling → chaos → upstream → span end → export
 *
 * Each stage is a small function over the Hop (the request's tracing state). Listeners call
 * `handleIngress` / `handleEgress`; everything after the response lives in `finishHop`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { pipeline, type Writable } from 'node:stream';
import type { Runtime } from './runtime.js';
import { Hop } from './telemetry/hop.js';
import { nowMs } from './telemetry/span.js';
import { newSpanId, newTraceId } from './telemetry/ids.js';
import { extractContext, injectContext, formatTraceresponse, resolveCorrelationId, parseBaggage, excerpt, TRACERESPONSE_HEADER } from './propagation/index.js';
import { splitTarget } from './telemetry/redact.js';
import type { OutgoingContext, ExtractResult } from './propagation/types.js';
import { appendForwardedHeaders, forwardableRequestHeaders } from './proxy/headers.js';
import { forwardExchange, hasRequestBody, type ForwardOutcome } from './proxy/exchange.js';
import type { InflightEntry, InflightRegistry } from './proxy/inflight.js';
import { CHAOS_HEADER, type FaultPlan } from './chaos/index.js';
import { throttle, slowBody, resetAfter } from './chaos/streams.js';
import type { TimeoutConfig, PropagationFormat } from './config/types.js';
import { cause, failure } from './errors.js';

export interface PipelineDeps {
  /** The config version new requests use. */
  runtime(): Runtime;
  inflight: InflightRegistry;
  /** Span end → sampling tail rule, export, store, access log, metrics. */
  finish(hop: Hop, rt: Runtime): void;
  /** In-flight counters (metrics, drain). */
  started(hop: Hop): void;
  /** Chaos injected (metrics). */
  chaosInjected?(kind: string, side: string): void;
  /** Whether the process is draining: responses then ask clients to close their connections. */
  draining(): boolean;
}

/** Where a request goes once the pipeline has decided everything else. */
export interface UpstreamTarget {
  dispatcher: Dispatcher;
  origin: string;
  path: string;
  label: string;
  timeouts: TimeoutConfig;
}

// ---------------------------------------------------------------------------------------------
// Stages shared by both sides

/** listener: what the request is, before anything is decided. */
export function describeRequest(hop: Hop, req: IncomingMessage, rt: Runtime, target: string): void {
  const { path, query } = splitTarget(target);
  hop.path = path;
  hop.query = rt.redactor.query(query);
  hop.route = rt.routes.route(hop.path);
  hop.name = `${hop.method} ${hop.route}`;
  hop.userAgent = req.headers['user-agent'];
  hop.httpVersion = req.httpVersion;
  hop.peerAddress = req.socket.remoteAddress;
  hop.peerPort = req.socket.remotePort;
}

/** correlation: keep the caller's id exactly, or make one. */
export function correlationStage(hop: Hop, req: IncomingMessage, rt: Runtime): void {
  const c = resolveCorrelationId(req.headers, rt.config.propagation.correlationHeaders);
  hop.correlationId = c.id;
  hop.correlationSource = c.source;
  if (c.rejected !== undefined) hop.correlationRejected = c.rejected;
}

/** sampling: head decision, consistent on the trace id. */
export function samplingStage(hop: Hop, req: IncomingMessage, rt: Runtime, parent: { sampled: boolean | undefined; debug: boolean } | undefined): void {
  const d = rt.sampler.decide({
    method: hop.method,
    path: hop.path,
    host: req.headers.host ?? '',
    headers: req.headers,
    traceId: hop.traceId,
    traceState: hop.traceState,
    parent,
  });
  hop.sampled = d.sampled;
  hop.samplingRule = d.rule;
  hop.samplingReason = d.reason;
}

/** chaos: decide faults for this request (null when chaos is off or nothing matched). */
function chaosStage(hop: Hop, req: IncomingMessage, rt: Runtime, deps: PipelineDeps): FaultPlan | null {
  if (!rt.chaos) return null;
  const plan = rt.chaos.plan({
    side: hop.side,
    method: hop.method,
    path: hop.path,
    host: req.headers.host ?? '',
    headers: req.headers,
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

/** The context sent on: our span is the parent. */
function outgoingContext(hop: Hop): OutgoingContext {
  return {
    traceId: hop.traceId,
    spanId: hop.spanId,
    sampled: hop.sampled,
    debug: hop.debug,
    random: hop.random,
    traceState: hop.traceState,
    traceIdBits: hop.traceIdBits,
    parentSpanId: hop.parentSpanId,
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
  appendForwardedHeaders(out, {
    remoteAddress: req.socket.remoteAddress,
    proto: 'http',
    host: req.headers.host,
    existingFor: req.headers['x-forwarded-for'],
    existingProto: req.headers['x-forwarded-proto'],
    existingHost: req.headers['x-forwarded-host'],
  });
  const injected: Record<string, string> = {};
  injectContext(injected, outgoingContext(hop), formats);
  for (const name in injected) out.push(name, injected[name]);
  out.push(rt.correlationHeader, hop.correlationId);
  return out;
}

/** W3C traceresponse for the caller of a SERVER hop: our span, sampled flag and random flag. */
export function traceresponse(hop: Hop): string {
  return formatTraceresponse(hop.traceId, hop.spanId, hop.sampled, hop.random);
}

/** Our response headers: the correlation id, W3C traceresponse, what chaos did. */
function addResponseHeaders(hop: Hop, headers: string[], rt: Runtime, plan: FaultPlan | null, deps: PipelineDeps): void {
  const drop = rt.ownResponseHeaders;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (drop.has(headers[i].toLowerCase())) headers.splice(i, 2);
  }
  headers.push(rt.correlationHeader, hop.correlationId);
  if (hop.side === 'ingress') headers.push(TRACERESPONSE_HEADER, traceresponse(hop));
  if (plan) headers.push(CHAOS_HEADER, plan.describe());
  if (deps.draining()) headers.push('connection', 'close');
}

const CLIENT_ABORTED = Object.freeze(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: 'before the response was complete' }));

/** span end: fold the exchange outcome into the hop and hand it on. */
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

/**
 * Wraps the response in chaos stream faults: upstream → throttle → slow body → reset after N → res.
 * The reset stage goes last so exactly N bytes reach the client before the RST.
 */
function chaosSink(hop: Hop, res: ServerResponse, plan: FaultPlan | null): Writable {
  if (!plan || (!plan.throttle && !plan.slowBody && !(plan.reset && plan.reset.afterBytes > 0))) return res;
  const stages: Array<NodeJS.ReadWriteStream & Writable> = [];
  if (plan.throttle) stages.push(throttle(plan.throttle.bytesPerSecond));
  if (plan.slowBody) stages.push(slowBody(plan.slowBody.chunkDelayMs));
  if (plan.reset && plan.reset.afterBytes > 0) {
    const afterBytes = plan.reset.afterBytes;
    stages.push(
      resetAfter(afterBytes, () => {
        hop.fail(cause('TRC_ERR_CHAOS_RESET', 'chaos_reset', { when: `after ${afterBytes} bytes` }));
        res.socket?.resetAndDestroy();
      }),
    );
  }
  // pipeline, not pipe: a client that leaves destroys every stage, and with it the stage's timers.
  pipeline([...stages, res], () => {});
  return stages[0];
}

/** upstream: forward (or short-circuit on a chaos abort/reset) and finish the hop when done. */
function upstreamStage(
  hop: Hop,
  req: IncomingMessage,
  res: ServerResponse,
  rt: Runtime,
  target: UpstreamTarget,
  headers: string[],
  plan: FaultPlan | null,
  deps: PipelineDeps,
  done: () => void,
): void {
  if (plan?.abort) {
    const body = plan.abort.body;
    const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))];
    addResponseHeaders(hop, h, rt, plan, deps);
    req.resume();
    res.writeHead(plan.abort.status, h);
    res.end(body, () => {
      recordOutcome(hop, { status: plan.abort!.status, requestBytes: 0, responseBytes: 0, clientAborted: false });
      if (plan.abort!.status >= 500) {
        hop.fail(cause('TRC_ERR_CHAOS_ABORT', 'chaos_abort', { status: plan.abort!.status }));
      }
      done();
    });
    return;
  }
  if (plan?.reset && plan.reset.afterBytes === 0) {
    hop.endTime = nowMs();
    hop.fail(cause('TRC_ERR_CHAOS_RESET', 'chaos_reset', { when: 'before the response' }));
    req.socket.resetAndDestroy();
    done();
    return;
  }
  const sink = chaosSink(hop, res, plan);
  forwardExchange(
    target.dispatcher,
    req,
    res,
    {
      origin: target.origin,
      path: target.path,
      method: hop.method,
      headers,
      body: hasRequestBody(req) ? req : null,
      timeouts: target.timeouts,
      targetLabel: target.label,
    },
    {
      connected: () => hop.event('upstream.connected', nowMs()),
      responseStart: (_status, h) => {
        hop.event('upstream.first_byte', nowMs());
        addResponseHeaders(hop, h, rt, plan, deps);
      },
      failureHeaders: (h) => addResponseHeaders(hop, h, rt, plan, deps),
      finished: (outcome) => {
        recordOutcome(hop, outcome);
        done();
      },
    },
    sink,
  );
}

// ---------------------------------------------------------------------------------------------
// Ingress: SERVER span in front of the app

/** context: continue the caller's trace, or start one. A malformed header starts a new trace. */
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
 * listener → context → correlation → sampling for a SERVER hop (HTTP request or WebSocket
 * upgrade), registered in the stitching map so the app's egress calls find it.
 */
export function beginServerHop(deps: PipelineDeps, req: IncomingMessage, rt: Runtime): { hop: Hop; x: ExtractResult; entry: InflightEntry } {
  const hop = new Hop('ingress', 'server', req.method ?? 'GET', nowMs());
  describeRequest(hop, req, rt, req.url ?? '/');
  const host = req.headers.host;
  if (host) {
    const colon = host.lastIndexOf(':');
    if (colon > 0 && !host.endsWith(']')) {
      hop.serverAddress = host.slice(0, colon);
      hop.serverPort = Number(host.slice(colon + 1)) || undefined;
    } else hop.serverAddress = host;
  }
  // OTel semconv: client.address is the original client behind intermediaries when known.
  const xff = req.headers['x-forwarded-for'];
  const firstHop = typeof xff === 'string' ? xff.split(',')[0].trim() : undefined;
  hop.clientAddress = firstHop || hop.peerAddress;

  const x = ingressContextStage(hop, req, rt);
  correlationStage(hop, req, rt);
  samplingStage(hop, req, rt, x.context ? { sampled: x.context.sampled, debug: x.context.debug } : x.samplingOnly);
  deps.started(hop);

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
  deps.inflight.add(entry);
  return { hop, x, entry };
}

export function handleIngress(deps: PipelineDeps, target: (rt: Runtime) => UpstreamTarget, req: IncomingMessage, res: ServerResponse): void {
  const rt = deps.runtime();
  const { hop, x, entry } = beginServerHop(deps, req, rt);
  const url = req.url ?? '/';
  const plan = chaosStage(hop, req, rt, deps);
  const t = target(rt);
  const headers = upstreamHeaders(hop, req, rt, injectFormats(rt, x.incomingB3));
  t.path = url;

  const done = (): void => {
    deps.inflight.delete(entry);
    if (entry.egressCalls > 0) hop.set('tracecar.egress.calls', entry.egressCalls);
    plan?.release();
    deps.finish(hop, rt);
  };
  runAfterDelay(hop, res, plan, done, () => upstreamStage(hop, req, res, rt, t, headers, plan, deps, done));
}

/** Chaos delay before the upstream call; a client that leaves during the delay ends the hop. */
function runAfterDelay(hop: Hop, res: ServerResponse, plan: FaultPlan | null, done: () => void, go: () => void): void {
  if (!plan?.delayMs) return go();
  const timer = setTimeout(() => {
    res.off('close', onClose);
    go();
  }, plan.delayMs);
  const onClose = (): void => {
    clearTimeout(timer);
    recordOutcome(hop, { status: 0, requestBytes: 0, responseBytes: 0, clientAborted: true });
    done();
  };
  res.once('close', onClose);
}

// ---------------------------------------------------------------------------------------------
// Egress: CLIENT span for the app's outgoing call, stitched to the SERVER span it belongs to

/** An egress listener: the forward proxy (no fixed target) or a named route. */
export interface EgressListener {
  dispatcher: Dispatcher;
  /** Named route: every request goes to this route's current target, under its name as peer.service. */
  route?: { name: string };
}

export interface EgressDestination {
  origin: string;
  /** Origin-form path + query sent upstream. */
  path: string;
  /** Authority for the Host header and server.address. */
  host: string;
  peerService: string | undefined;
}

/**
 * Where an egress request goes. Forward proxy: the absolute-form target (RFC 9112 §3.2.2: the
 * proxy uses the target URI's authority, not the Host header); an origin-form request falls back
 * to Host (transparent use). Named route: the route's origin, Host rewritten to it.
 */
export function resolveEgressDestination(req: IncomingMessage, listener: EgressListener, rt: Runtime): EgressDestination | string {
  const raw = req.url ?? '/';
  if (listener.route) {
    const target = rt.routeTargets.get(listener.route.name);
    if (!target) return `route "${listener.route.name}" is no longer configured (restart to close its listener)`;
    return { origin: target.origin, path: raw, host: target.host, peerService: listener.route.name };
  }
  if (raw.startsWith('http://') || raw.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `"${raw.slice(0, 200)}" is not a valid absolute URL`;
    }
    return { origin: url.origin, path: url.pathname + url.search, host: url.host, peerService: url.hostname };
  }
  const host = req.headers.host;
  if (!host) return 'request has neither an absolute-form URL nor a Host header';
  return { origin: `http://${host}`, path: raw, host, peerService: host.replace(/:\d+$/, '') };
}

/** How the CLIENT span found its parent: the stitching order of DESIGN.md. */
export type ParentSource = 'w3c' | 'b3' | 'b3multi' | 'correlation-id' | 'inferred' | 'none';

export interface StitchResult {
  source: ParentSource;
  entry: InflightEntry | undefined;
  /** Why a header-less request was not inferred (several requests in flight). */
  ambiguous: boolean;
  incomingB3?: 'b3' | 'b3multi';
  /** The forwarded context's own sampling flags, when headers carried them. */
  parent?: { sampled: boolean | undefined; debug: boolean };
}

/**
 * context (egress): rebuild the trace the app dropped. Order: forwarded trace headers → the
 * correlation id matched against in-flight ingress requests → (opt-in) the only request in
 * flight → a new root, marked as such. Never a guess when two requests are in flight.
 */
export function stitchStage(hop: Hop, req: IncomingMessage, rt: Runtime, inflight: InflightRegistry): StitchResult {
  const x = extractContext(req.headers, rt.config.propagation.extract);
  hop.spanId = newSpanId();
  if (x.problems.length > 0) hop.event('tracecar.propagation.invalid', hop.startTime, { 'tracecar.problems': x.problems });
  const ctx = x.context;
  if (ctx) {
    const entry = inflight.bySpanId(ctx.spanId);
    hop.continueTrace(ctx);
    return { source: ctx.format, entry, ambiguous: false, incomingB3: x.incomingB3, parent: { sampled: ctx.sampled, debug: ctx.debug } };
  }
  const correlation = headerValue(req.headers[rt.correlationHeader]);
  let entry = correlation ? inflight.byCorrelationId(correlation) : undefined;
  let source: ParentSource = entry ? 'correlation-id' : 'none';
  let ambiguous = false;
  if (!entry && rt.config.egress.inferParent === 'when-unambiguous') {
    entry = inflight.sole();
    if (entry) source = 'inferred';
    else ambiguous = inflight.size > 1;
  }
  if (entry) {
    hop.continueTrace(entry);
  } else {
    hop.startTrace(newTraceId());
  }
  // A B3 debug flag that came alone (`b3: d`, `X-B3-Flags: 1`) goes on with the call, stitched or
  // not; a sampled state alone is the sampler's parent decision when nothing was stitched.
  if (x.samplingOnly?.debug) hop.debug = true;
  return { source, entry, ambiguous, incomingB3: x.incomingB3, parent: x.samplingOnly };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What the propagation doctor needs to know about the listener side. */
export interface Doctor {
  /** Called when an egress request lost context its ingress request had; speaks once per route. */
  lost(hop: Hop, route: string, missing: string, hint: string): void;
}

/**
 * propagation doctor: the app dropped or mangled context. Ingress saw a request, and this egress
 * call arrives with no trace headers (stitched by correlation id or inferred), or with a
 * correlation id no in-flight request has while requests are in flight.
 */
function doctorStage(hop: Hop, stitch: StitchResult, req: IncomingMessage, rt: Runtime, inflight: InflightRegistry, doctor: Doctor | undefined): void {
  if (!doctor) return;
  const header = rt.correlationHeader;
  if ((stitch.source === 'correlation-id' || stitch.source === 'inferred') && stitch.entry) {
    const route = stitch.entry.route;
    const forwarded = stitch.source === 'correlation-id' ? ` (it forwards ${header}, which is how this call was stitched)` : '';
    doctor.lost(hop, route, 'traceparent', `the app behind "${route}" does not forward traceparent to its outgoing calls${forwarded}; copy the incoming traceparent header (and ${header}) onto outgoing requests`);
  } else if (stitch.source === 'none' && inflight.size > 0) {
    const sent = headerValue(req.headers[header]);
    const route = inflight.size === 1 ? inflight.sole()?.route ?? 'unknown route' : 'unknown route';
    if (sent) doctor.lost(hop, route, header, `an outgoing call carries ${header}="${excerpt(sent, 64)}" that matches no request in flight: the app rewrites or mangles ${header}; forward the incoming value unchanged`);
    else doctor.lost(hop, route, 'traceparent', `an outgoing call carries no trace context while requests are in flight: forward the incoming traceparent and ${header} headers (or enable egress.inferParent)`);
  }
}

/**
 * listener → context (stitch) → correlation → sampling for a CLIENT hop (HTTP request or
 * WebSocket upgrade), and the headers to send: ours injected, Host set to the destination.
 */
export function beginClientHop(
  deps: PipelineDeps & { doctor?: Doctor },
  req: IncomingMessage,
  rt: Runtime,
  dest: EgressDestination,
): { hop: Hop; headers: string[] } {
  const hop = new Hop('egress', 'client', req.method ?? 'GET', nowMs());
  describeRequest(hop, req, rt, dest.path);
  hop.peerService = dest.peerService;
  const url = new URL(dest.origin);
  hop.serverAddress = url.hostname;
  hop.serverPort = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  hop.urlFull = `${dest.origin}${hop.path}${hop.query ? `?${hop.query}` : ''}`;

  const stitch = egressContextStage(deps, hop, req, rt, { doctor: true });
  hop.name = `${hop.method} ${hop.route}`;
  deps.started(hop);

  const headers = upstreamHeaders(hop, req, rt, injectFormats(rt, stitch.incomingB3));
  // The upstream sees the destination's authority as Host (named routes rewrite it).
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() === 'host') headers[i + 1] = dest.host;
  }
  return { hop, headers };
}

export function handleEgress(deps: PipelineDeps & { doctor?: Doctor }, listener: EgressListener, req: IncomingMessage, res: ServerResponse): void {
  const rt = deps.runtime();
  const dest = resolveEgressDestination(req, listener, rt);
  if (typeof dest === 'string') {
    rejectBadProxyRequest(deps, req, rt, dest, (status, body, correlation) => {
      req.resume();
      const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), rt.correlationHeader, correlation];
      if (deps.draining()) h.push('connection', 'close');
      res.writeHead(status, h);
      res.end(body);
    });
    return;
  }
  const { hop, headers } = beginClientHop(deps, req, rt, dest);
  const plan = chaosStage(hop, req, rt, deps);
  const target: UpstreamTarget = {
    dispatcher: listener.dispatcher,
    origin: dest.origin,
    path: dest.path,
    label: dest.host,
    timeouts: rt.config.egress.timeout,
  };
  const done = (): void => {
    plan?.release();
    deps.finish(hop, rt);
  };
  runAfterDelay(hop, res, plan, done, () => upstreamStage(hop, req, res, rt, target, headers, plan, deps, done));
}

/**
 * An egress request tracecar cannot route (no absolute-form URL or Host, a malformed CONNECT
 * target, a route a reload removed): answered 400 TRC_ERR_BAD_PROXY_REQUEST, and traced and
 * counted like any failed request, stitched to its ingress request where it can be.
 */
export function rejectBadProxyRequest(
  deps: PipelineDeps & { doctor?: Doctor },
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

// ---------------------------------------------------------------------------------------------
// Egress context for exchanges that do not go through handleEgress (WebSocket upgrades, CONNECT)

/**
 * context → correlation → sampling for an egress hop, in handleEgress's order: stitch to the
 * ingress request it belongs to (forwarded trace headers → correlation id → opt-in inference →
 * a marked new root), ask the propagation doctor when `doctor` is set (a CONNECT tunnel carries
 * its trace headers inside TLS, so it must not be blamed for missing ones), then take the
 * correlation id and the sampling decision from the stitched parent.
 */
export function egressContextStage(
  deps: PipelineDeps & { doctor?: Doctor },
  hop: Hop,
  req: IncomingMessage,
  rt: Runtime,
  options: { doctor: boolean },
): StitchResult {
  const stitch = stitchStage(hop, req, rt, deps.inflight);
  hop.set('tracecar.parent.source', stitch.source);
  if (stitch.source === 'inferred') hop.set('tracecar.parent.inferred', true);
  if (stitch.source === 'none') {
    hop.set('tracecar.root', true);
    if (stitch.ambiguous) hop.set('tracecar.parent.ambiguous', true);
  }
  if (options.doctor) doctorStage(hop, stitch, req, rt, deps.inflight, deps.doctor);
  correlationStage(hop, req, rt);
  if (hop.correlationSource !== 'incoming' && stitch.entry) {
    hop.correlationId = stitch.entry.correlationId;
    hop.correlationSource = 'stitched';
  }
  if (stitch.entry) {
    stitch.entry.egressCalls++;
    hop.sampled = stitch.entry.sampled;
    hop.samplingRule = 'parent';
    hop.samplingReason = stitch.entry.sampled ? 'parent-sampled' : 'parent-not-sampled';
  } else {
    samplingStage(hop, req, rt, stitch.parent);
  }
  return stitch;
}
