import type { PropagationFormat } from '../config/types.js';
import { parseB3Multi, parseB3Single, type B3Parsed } from './b3.js';
import type { HeaderBag } from './headers.js';
import { padTraceId } from './hex.js';
import { FLAG_RANDOM, FLAG_SAMPLED, parseTraceparent } from './traceparent.js';
import { parseTracestate } from './tracestate.js';
import type { ExtractResult, SamplingOnly, TraceContext } from './types.js';

/**
 * Read the caller's trace context. `formats` is the priority order: when several formats carry a
 * valid context, the first in the list wins. Within B3 the single `b3` header always wins over
 * X-B3-* ("The single-header variant takes precedence over the multiple header one when
 * extracting fields"), and an unparsable `b3` falls back to X-B3-* when 'b3multi' is enabled.
 * Never throws; everything ignored is described in `problems`.
 */
export function extractContext(headers: HeaderBag, formats: readonly PropagationFormat[]): ExtractResult {
  const result: ExtractResult = { problems: [] };
  const w3cAt = formats.indexOf('w3c');
  const singleAt = formats.indexOf('b3');
  const multiAt = formats.indexOf('b3multi');
  const b3At = singleAt === -1 ? multiAt : multiAt === -1 ? singleAt : Math.min(singleAt, multiAt);

  // B3 is read whenever enabled, even if W3C ranks first: `incomingB3` must say which style the
  // caller spoke so injection can answer in kind.
  let b3: B3Outcome | undefined;
  if (b3At !== -1) b3 = extractB3(headers, singleAt !== -1, multiAt !== -1, result);

  // W3C is skipped only when a higher-ranked B3 already supplied a context.
  if (w3cAt !== -1 && (b3?.context === undefined || w3cAt < b3At)) {
    const w3c = extractW3c(headers, result.problems);
    if (w3c) result.context = w3c;
  }
  if (result.context === undefined && b3?.context) result.context = b3.context;
  const alone = b3?.samplingOnly;
  if (alone) {
    // A B3 decision without ids (`b3: 0`, `b3: d`, `X-B3-Flags: 1`, `X-B3-Sampled: 0`) is kept:
    // with no context it is the whole of what the caller sent; next to another format's context
    // only the debug flag is taken ("an emphasized accept decision": it forces, like the force
    // header), while a plain 0/1 defers to the context's own sampled flag, which ranks first.
    if (result.context === undefined) result.samplingOnly = alone;
    else if (alone.debug) result.context.debug = true;
  }
  return result;
}

function extractW3c(headers: HeaderBag, problems: string[]): TraceContext | undefined {
  const raw = headers.traceparent;
  if (raw === undefined) {
    if (headers.tracestate !== undefined) problems.push('tracestate: ignored without a traceparent');
    return undefined;
  }
  let parsed;
  if (typeof raw === 'string') parsed = parseTraceparent(raw);
  else if (raw.length === 1) parsed = parseTraceparent(raw[0]);
  // W3C conformance suite (test_traceparent_duplicated): two traceparent fields → new trace.
  else parsed = raw.length === 0 ? 'empty value' : 'multiple traceparent headers';

  if (typeof parsed === 'string') {
    problems.push(`traceparent: ${parsed}`);
    // "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate."
    if (headers.tracestate !== undefined) problems.push('tracestate: ignored because traceparent is invalid');
    return undefined;
  }

  // "failure to parse tracestate MUST NOT affect the parsing of traceparent."
  const state = parseTracestate(headers.tracestate);
  if (state.problem) problems.push(`tracestate: ${state.problem}`);
  const ctx: TraceContext = {
    traceId: parsed.traceId,
    spanId: parsed.parentId,
    sampled: (parsed.flags & FLAG_SAMPLED) !== 0,
    debug: false,
    random: (parsed.flags & FLAG_RANDOM) !== 0,
    traceIdBits: 128,
    format: 'w3c',
  };
  if (state.value !== undefined) ctx.traceState = state.value;
  return ctx;
}

interface B3Outcome {
  context?: TraceContext;
  samplingOnly?: SamplingOnly;
}

function extractB3(headers: HeaderBag, single: boolean, multi: boolean, result: ExtractResult): B3Outcome | undefined {
  if (single) {
    const raw = headers.b3;
    if (raw !== undefined) {
      const parsed = parseB3Single(raw);
      if (typeof parsed !== 'string') {
        result.incomingB3 = 'b3';
        return outcome(parsed, 'b3');
      }
      result.problems.push(`b3: ${parsed}${multi ? '; trying X-B3-* headers' : ''}`);
      // The caller still spoke single-header B3, even if X-B3-* gives nothing usable.
      result.incomingB3 = 'b3';
    }
  }
  if (!multi) return undefined;
  const parsed = parseB3Multi(headers);
  if (parsed === undefined) return undefined;
  if (parsed.problems) for (const p of parsed.problems) result.problems.push(p);
  result.incomingB3 = 'b3multi';
  return outcome(parsed, 'b3multi');
}

function outcome(parsed: B3Parsed, format: 'b3' | 'b3multi'): B3Outcome {
  const ids = parsed.ids;
  if (ids === undefined) {
    // Sampling state alone (`b3: 0`, `X-B3-Sampled: 0` with no ids): keep the decision.
    if (parsed.sampled === undefined && !parsed.debug) return {};
    return { samplingOnly: { sampled: parsed.sampled, debug: parsed.debug, format } };
  }
  const ctx: TraceContext = {
    // "The TraceId is 64 or 128-bit": held as 32 hex, with traceIdBits saying how it came.
    traceId: padTraceId(ids.traceId),
    spanId: ids.spanId,
    sampled: parsed.sampled,
    debug: parsed.debug,
    random: false,
    traceIdBits: ids.traceId.length === 16 ? 64 : 128,
    format,
  };
  if (ids.parentSpanId !== undefined) ctx.parentSpanId = ids.parentSpanId;
  return { context: ctx };
}
