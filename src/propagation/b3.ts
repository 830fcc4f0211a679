/*
 * B3 propagation (https://github.com/openzipkin/b3-propagation):
 *   single:  b3: {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}   (last two optional)
 *            b3: {SamplingState}                                     (decision only)
 *   multi:   X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId, X-B3-Sampled, X-B3-Flags
 * TraceId is "32 or 16 lower-hex characters", span ids 16 lower-hex. Parsing never throws.
 */
import { excerpt, PROBLEM_EXCERPT } from './excerpt.js';
import { isAllZeros, isLowerHex, trimOws } from './hex.js';
import type { HeaderBag } from './headers.js';

export interface B3Ids {
  /** 16 or 32 lower-hex, as sent. */
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** What a B3 encoding carried: ids (optional) and the sampling state. */
export interface B3Parsed {
  ids?: B3Ids;
  /** undefined = Defer ("absence of the sampling field"). */
  sampled: boolean | undefined;
  /** Debug "is an emphasized accept decision that implies accept". */
  debug: boolean;
}

export interface B3MultiParsed extends B3Parsed {
  /** Reasons parts of the X-B3-* set were ignored (the rest may still be usable). */
  problems?: string[];
}

/**
 * Parse the single `b3` header. Anchored: the whole value must be one of the forms above, so
 * junk before or after a valid-looking value rejects it. A string result is the reason.
 */
export function parseB3Single(raw: string | string[]): B3Parsed | string {
  if (typeof raw !== 'string') {
    if (raw.length !== 1) return 'multiple b3 headers';
    raw = raw[0];
  }
  const v = trimOws(raw);
  const n = v.length;
  if (n === 0) return 'empty value';

  // "Sampling state can also be sent on its own (with no identifiers)": b3: 0 | 1 | d
  if (n === 1) {
    const state = samplingState(v.charCodeAt(0));
    return state ?? `unknown sampling state "${excerpt(v, PROBLEM_EXCERPT)}"`;
  }

  // TraceId: 16 or 32 lower-hex, then "-". A 32-hex id has a hex digit at index 16, so the
  // position of the first dash alone tells the two widths apart.
  const traceLength = v.charCodeAt(16) === 0x2d ? 16 : v.charCodeAt(32) === 0x2d ? 32 : -1;
  if (traceLength === -1 || !isLowerHex(v, 0, traceLength)) return 'TraceId is not 16 or 32 lower-hex characters';
  if (isAllZeros(v, 0, traceLength)) return 'TraceId is all zeros';

  const spanStart = traceLength + 1;
  if (!isLowerHex(v, spanStart, 16)) return 'SpanId is not 16 lower-hex characters';
  if (isAllZeros(v, spanStart, 16)) return 'SpanId is all zeros';
  const traceId = v.slice(0, traceLength);
  const spanId = v.slice(spanStart, spanStart + 16);

  let pos = spanStart + 16;
  if (pos === n) return { ids: { traceId, spanId }, sampled: undefined, debug: false };

  // "-" {SamplingState}: exactly one character, then the end or "-" {ParentSpanId}.
  if (v.charCodeAt(pos) !== 0x2d || pos + 2 > n) return 'unexpected characters after SpanId';
  const state = samplingState(v.charCodeAt(pos + 1));
  if (state === undefined) return 'SamplingState is not 0, 1 or d';
  pos += 2;
  if (pos === n) return { ids: { traceId, spanId }, sampled: state.sampled, debug: state.debug };

  if (v.charCodeAt(pos) !== 0x2d) return 'unexpected characters after SamplingState';
  if (n !== pos + 17 || !isLowerHex(v, pos + 1, 16)) {
    return 'ParentSpanId is not 16 lower-hex characters at the end of the value';
  }
  if (isAllZeros(v, pos + 1, 16)) return 'ParentSpanId is all zeros';
  return {
    ids: { traceId, spanId, parentSpanId: v.slice(pos + 1) },
    sampled: state.sampled,
    debug: state.debug,
  };
}

const ACCEPT: B3Parsed = Object.freeze({ sampled: true, debug: false });
const DENY: B3Parsed = Object.freeze({ sampled: false, debug: false });
const DEBUG: B3Parsed = Object.freeze({ sampled: true, debug: true });

/** Accept `1`, Deny `0`, Debug `d`. */
function samplingState(c: number): B3Parsed | undefined {
  if (c === 0x31) return ACCEPT;
  if (c === 0x30) return DENY;
  if (c === 0x64) return DEBUG;
  return undefined;
}

/**
 * Parse the X-B3-* set. Returns undefined when none is present. Ids and sampling are judged
 * apart so a deny (or accept) decision survives missing or broken ids: "While valid to
 * propagate only a reject sampling decision (X-B3-Sampled: 0)...".
 */
export function parseB3Multi(headers: HeaderBag): B3MultiParsed | undefined {
  const traceRaw = firstValue(headers['x-b3-traceid']);
  const spanRaw = firstValue(headers['x-b3-spanid']);
  const parentRaw = firstValue(headers['x-b3-parentspanid']);
  const sampledRaw = firstValue(headers['x-b3-sampled']);
  const flagsRaw = firstValue(headers['x-b3-flags']);
  if (
    traceRaw === undefined && spanRaw === undefined && parentRaw === undefined &&
    sampledRaw === undefined && flagsRaw === undefined
  ) {
    return undefined;
  }
  let problems: string[] | undefined;
  const problem = (p: string): void => {
    (problems ??= []).push(`x-b3-*: ${p}`);
  };

  // "Debug is encoded as X-B3-Flags: 1. Debug implies an accept decision."
  let debug = false;
  if (flagsRaw !== undefined) {
    if (flagsRaw === '1') debug = true;
    else if (flagsRaw !== '0') problem(`X-B3-Flags "${excerpt(flagsRaw, PROBLEM_EXCERPT)}" is not 1 or 0`);
  }

  // "An accept sampling decision is encoded as X-B3-Sampled: 1 and a deny as X-B3-Sampled: 0 ...
  // some tracers propagated X-B3-Sampled as true or false ... a lenient implementation may
  // accept them."
  let sampled: boolean | undefined;
  if (sampledRaw !== undefined) {
    if (sampledRaw === '1') sampled = true;
    else if (sampledRaw === '0') sampled = false;
    else {
      const lower = sampledRaw.toLowerCase();
      if (lower === 'true') sampled = true;
      else if (lower === 'false') sampled = false;
      else problem(`X-B3-Sampled "${excerpt(sampledRaw, PROBLEM_EXCERPT)}" is not 1, 0, true or false`);
    }
  }
  if (debug) sampled = true;

  let ids: B3Ids | undefined;
  if (traceRaw !== undefined || spanRaw !== undefined) {
    const traceOk =
      traceRaw !== undefined && (traceRaw.length === 32 || traceRaw.length === 16) &&
      isLowerHex(traceRaw, 0, traceRaw.length) && !isAllZeros(traceRaw, 0, traceRaw.length);
    const spanOk =
      spanRaw !== undefined && spanRaw.length === 16 && isLowerHex(spanRaw, 0, 16) && !isAllZeros(spanRaw, 0, 16);
    if (traceRaw === undefined) problem('X-B3-SpanId without X-B3-TraceId');
    else if (!traceOk) problem('X-B3-TraceId is not 16 or 32 lower-hex characters (non-zero)');
    if (spanRaw === undefined) problem('X-B3-TraceId without X-B3-SpanId');
    else if (!spanOk) problem('X-B3-SpanId is not 16 lower-hex characters (non-zero)');
    if (traceOk && spanOk) ids = { traceId: traceRaw!, spanId: spanRaw! };
  }
  if (parentRaw !== undefined) {
    // The parent is informational for us (our parent is the caller's SpanId): a bad one is
    // dropped without losing the rest of the context.
    if (parentRaw.length === 16 && isLowerHex(parentRaw, 0, 16) && !isAllZeros(parentRaw, 0, 16)) {
      if (ids) ids.parentSpanId = parentRaw;
      else if (traceRaw === undefined && spanRaw === undefined) problem('X-B3-ParentSpanId without ids');
    } else {
      problem('X-B3-ParentSpanId is not 16 lower-hex characters (non-zero)');
    }
  }
  return problems ? { ids, sampled, debug, problems } : { ids, sampled, debug };
}

/**
 * "When extracting state headers, the first value wins." node:http joins repeated X-B3-* fields
 * with ", ", so the first value is what precedes the first comma.
 */
function firstValue(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  let s: string | undefined = typeof v === 'string' ? v : v[0];
  if (s === undefined) return undefined;
  const comma = s.indexOf(',');
  if (comma !== -1) s = s.slice(0, comma);
  return trimOws(s);
}

/** B3 trace id as it goes out: 16 hex when the trace id is 64-bit, else 32. */
export function b3TraceId(traceId: string, traceIdBits: 64 | 128): string {
  return traceIdBits === 64 && traceId.length === 32 && traceId.startsWith('0000000000000000')
    ? traceId.slice(16)
    : traceId;
}

/** Single-header value; Debug goes out as `d` (it implies accept). */
export function formatB3Single(
  traceId: string,
  spanId: string,
  sampled: boolean,
  debug: boolean,
  parentSpanId: string | undefined,
): string {
  const state = debug ? 'd' : sampled ? '1' : '0';
  return parentSpanId
    ? `${traceId}-${spanId}-${state}-${parentSpanId}`
    : `${traceId}-${spanId}-${state}`;
}
