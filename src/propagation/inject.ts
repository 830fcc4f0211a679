import type { PropagationFormat } from '../config/types.js';
import { b3TraceId, formatB3Single } from './b3.js';
import { formatTraceparent } from './traceparent.js';
import type { OutgoingContext } from './types.js';

/**
 * Write `ctx` into an outgoing header map (lowercase names) in each of `formats`. It only adds
 * headers: the caller's own trace headers (TRACE_HEADERS) are left out when the proxy copies the
 * request (Runtime.dropOnForward), so no stale one travels next to these.
 */
export function injectContext(
  target: Record<string, string>,
  ctx: OutgoingContext,
  formats: readonly PropagationFormat[],
): void {
  const list: string[] = [];
  appendTraceHeaders(list, ctx, formats);
  for (let i = 0; i < list.length; i += 2) target[list[i]] = list[i + 1];
}

/**
 * injectContext onto a flat [name, value, ...] header list (what the proxy forwards): the same
 * headers in the same order, without a map in between.
 */
export function appendTraceHeaders(out: string[], ctx: OutgoingContext, formats: readonly PropagationFormat[]): void {
  // B3 debug "implies an accept decision"; W3C has no debug bit, so it goes out as sampled.
  const sampled = ctx.sampled || ctx.debug;
  for (const format of formats) {
    if (format === 'w3c') {
      // Version 00, trace id always 32 hex; the random flag (Level 2, 0x02) is a property of the
      // trace id, so every child span keeps it.
      out.push('traceparent', formatTraceparent(ctx.traceId, ctx.spanId, sampled, ctx.random));
      if (ctx.traceState) out.push('tracestate', ctx.traceState);
    } else if (format === 'b3') {
      out.push('b3', formatB3Single(b3TraceId(ctx.traceId, ctx.traceIdBits), ctx.spanId, sampled, ctx.debug, ctx.parentSpanId));
    } else if (format === 'b3multi') {
      out.push('x-b3-traceid', b3TraceId(ctx.traceId, ctx.traceIdBits), 'x-b3-spanid', ctx.spanId);
      // "The X-B3-ParentSpanId header may be present on a child span and must be absent on the root span."
      if (ctx.parentSpanId) out.push('x-b3-parentspanid', ctx.parentSpanId);
      // "Debug implies an accept decision, so don't also send the X-B3-Sampled header."
      if (ctx.debug) out.push('x-b3-flags', '1');
      else out.push('x-b3-sampled', sampled ? '1' : '0');
    }
  }
}
