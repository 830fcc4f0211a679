/*
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context-2/#traceparent-header):
 *   value = version "-" trace-id "-" parent-id "-" trace-flags   (version 00: exactly 55 chars)
 * Parsing never throws: it returns the fields or a short reason the header was ignored.
 */
import { hasUpperHex, hexDigit, isAllZeros, isLowerHex, padTraceId, trimOws } from './hex.js';

/** Level 2 trace-flags: bit 0 sampled, bit 1 random-trace-id. Other bits are reserved. */
export const FLAG_SAMPLED = 0x01;
export const FLAG_RANDOM = 0x02;

/** 2 (version) + 1 + 32 (trace-id) + 1 + 16 (parent-id) + 1 + 2 (flags) */
const V00_LENGTH = 55;

export interface Traceparent {
  version: number;
  traceId: string;
  parentId: string;
  /** Only the flags this implementation knows (sampled, random); reserved bits are dropped. */
  flags: number;
}

/** Parse one traceparent value. A string result is the reason it was rejected. */
export function parseTraceparent(raw: string): Traceparent | string {
  // The field value may carry HTTP optional whitespace around it (W3C test suite: OWS handling).
  const v = trimOws(raw);
  if (v.length === 0) return 'empty value';

  // "When the version prefix cannot be parsed (it's not 2 hex characters followed by a dash (-)),
  // the implementation should restart the trace."
  if (v.length < 3 || v.charCodeAt(2) !== 0x2d || !isLowerHex(v, 0, 2)) {
    return hasUpperHex(v, 0, 2) ? 'version is not lowercase hex' : 'version is not 2 hex digits followed by "-"';
  }
  const version = hexDigit(v.charCodeAt(0)) * 16 + hexDigit(v.charCodeAt(1));
  // "Version ff is invalid."
  if (version === 0xff) return 'version ff is forbidden';

  if (version === 0) {
    // Version 00 is exactly version-format: nothing may follow trace-flags.
    if (v.length !== V00_LENGTH) {
      if (v.includes(',')) return 'multiple traceparent values';
      return `version 00 must be exactly ${V00_LENGTH} characters, got ${v.length}`;
    }
  } else if (v.length < V00_LENGTH) {
    // Higher version: "If the size of the header is shorter than 55 characters, the vendor should
    // not parse the header and should restart the trace."
    return `version ${v.slice(0, 2)} is shorter than ${V00_LENGTH} characters`;
  }

  // trace-id = 32HEXDIGLC, all zeroes forbidden; "vendors MUST ignore the traceparent".
  if (!isLowerHex(v, 3, 32) || v.charCodeAt(35) !== 0x2d) {
    return hasUpperHex(v, 3, 32) ? 'trace-id is not lowercase hex' : 'trace-id is not 32 hex digits followed by "-"';
  }
  if (isAllZeros(v, 3, 32)) return 'trace-id is all zeros';

  // parent-id = 16HEXDIGLC, all zeroes forbidden.
  if (!isLowerHex(v, 36, 16) || v.charCodeAt(52) !== 0x2d) {
    return hasUpperHex(v, 36, 16) ? 'parent-id is not lowercase hex' : 'parent-id is not 16 hex digits followed by "-"';
  }
  if (isAllZeros(v, 36, 16)) return 'parent-id is all zeros';

  // trace-flags = 2HEXDIGLC. "Vendors MUST set those [other flags] to zero" on the way out, and a
  // higher version's flags are parsed only for the bits this version defines: mask on the way in.
  if (!isLowerHex(v, 53, 2)) {
    return hasUpperHex(v, 53, 2) ? 'trace-flags is not lowercase hex' : 'trace-flags is not 2 hex digits';
  }
  // Higher version: the flags "MUST [be] either at the end of the string or followed by a dash".
  // Whatever follows is an unknown field: not parsed, nothing assumed about it.
  if (v.length > V00_LENGTH && v.charCodeAt(V00_LENGTH) !== 0x2d) {
    if (v.includes(',')) return 'multiple traceparent values';
    return `version ${v.slice(0, 2)}: trace-flags must be followed by "-" or end the value`;
  }
  const flags = (hexDigit(v.charCodeAt(53)) * 16 + hexDigit(v.charCodeAt(54))) & (FLAG_SAMPLED | FLAG_RANDOM);

  return { version, traceId: v.slice(3, 35), parentId: v.slice(36, 52), flags };
}

/** Trace flags byte as two lowercase hex digits (only sampled and random are ever set). */
export function formatFlags(sampled: boolean, random: boolean): string {
  return random ? (sampled ? '03' : '02') : sampled ? '01' : '00';
}

/**
 * A version 00 traceparent. "Vendors MUST use these fields to construct the new traceparent field
 * according to the highest version of the specification known to the implementation" (00).
 * A 64-bit trace id is left-padded to 32 hex.
 */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean, random: boolean): string {
  return `00-${padTraceId(traceId)}-${spanId}-${formatFlags(sampled, random)}`;
}

/**
 * W3C Trace Context Level 2 `traceresponse` value: version 00, the trace id, the callee's span id
 * (child-id) and trace-flags, where sampled says whether this hop recorded the request ("If a
 * component receives a 0 for the sampled flag ... it may still decide to record a trace. In this
 * case it SHOULD return a sampled flag 1") and random-trace-id has the same meaning as in
 * traceparent.
 */
export function formatTraceresponse(traceId: string, spanId: string, sampled: boolean, random = false): string {
  return formatTraceparent(traceId, spanId, sampled, random);
}
