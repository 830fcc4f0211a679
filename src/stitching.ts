/**
 * Stitching and the propagation doctor (DESIGN "Stitching: why a sidecar alone usually breaks
 * traces"). An uninstrumented app drops the context of its incoming request on the way to its
 * outgoing calls; egress finds the SERVER span such a call belongs to in the in-flight map, and
 * the doctor tells the user what the app got wrong.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from './log.js';
import type { Runtime } from './runtime.js';
import type { Hop } from './telemetry/hop.js';
import { newSpanId, newTraceId } from './telemetry/ids.js';
import { excerpt, extractContext } from './propagation/index.js';
import type { InflightEntry, InflightRegistry } from './proxy/inflight.js';

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
export function stitch(hop: Hop, req: IncomingMessage, rt: Runtime, inflight: InflightRegistry): StitchResult {
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
  if (entry) hop.continueTrace(entry);
  else hop.startTrace(newTraceId());
  // A B3 debug flag that came alone (`b3: d`, `X-B3-Flags: 1`) goes on with the call, stitched or
  // not; a sampled state alone is the sampler's parent decision when nothing was stitched.
  if (x.samplingOnly?.debug) hop.debug = true;
  return { source, entry, ambiguous, incomingB3: x.incomingB3, parent: x.samplingOnly };
}

/** The propagation doctor: speaks when an egress request lost context its ingress request had. */
export interface Doctor {
  /** A span event every time, a counter, and one terminal hint per route. */
  lost(hop: Hop, route: string, missing: string, hint: string): void;
}

/** Routes the doctor remembers having spoken about (it stops remembering past this, never stops counting). */
const MAX_ROUTES_SPOKEN = 1000;

export function createDoctor(metrics: { propagationLost(route: string): void }, logger: Pick<Logger, 'warn'>): Doctor {
  const spoke = new Set<string>();
  return {
    lost(hop, route, missing, hint) {
      hop.event('tracecar.propagation.lost', hop.startTime, { 'tracecar.propagation.missing': missing, 'tracecar.propagation.hint': hint });
      metrics.propagationLost(route);
      if (spoke.has(route)) return;
      if (spoke.size < MAX_ROUTES_SPOKEN) spoke.add(route);
      logger.warn({ route, missing }, `propagation doctor: ${hint}`);
    },
  };
}

/**
 * The doctor's diagnosis. Ingress saw a request, and this egress call arrives with no trace
 * headers (stitched by correlation id or inferred), or with a correlation id no in-flight request
 * has while requests are in flight.
 */
export function diagnose(hop: Hop, stitched: StitchResult, req: IncomingMessage, rt: Runtime, inflight: InflightRegistry, doctor: Doctor): void {
  const header = rt.correlationHeader;
  if ((stitched.source === 'correlation-id' || stitched.source === 'inferred') && stitched.entry) {
    const route = stitched.entry.route;
    const forwarded = stitched.source === 'correlation-id' ? ` (it forwards ${header}, which is how this call was stitched)` : '';
    doctor.lost(hop, route, 'traceparent', `the app behind "${route}" does not forward traceparent to its outgoing calls${forwarded}; copy the incoming traceparent header (and ${header}) onto outgoing requests`);
  } else if (stitched.source === 'none' && inflight.size > 0) {
    const sent = headerValue(req.headers[header]);
    const route = inflight.size === 1 ? (inflight.sole()?.route ?? 'unknown route') : 'unknown route';
    if (sent) doctor.lost(hop, route, header, `an outgoing call carries ${header}="${excerpt(sent, 64)}" that matches no request in flight: the app rewrites or mangles ${header}; forward the incoming value unchanged`);
    else doctor.lost(hop, route, 'traceparent', `an outgoing call carries no trace context while requests are in flight: forward the incoming traceparent and ${header} headers (or enable egress.inferParent)`);
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
