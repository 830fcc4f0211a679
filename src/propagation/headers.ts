import type { IncomingHttpHeaders } from 'node:http';

/**
 * Request headers as node:http (IncomingHttpHeaders) or undici deliver them: names already
 * lowercase, repeated fields either as an array or joined with ", ".
 * Lookups here are by lowercase name only; callers with other maps must lowercase the names.
 */
export type HeaderBag = IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>;

/** Lowercase names of every header this module reads or writes on a request. */
export const TRACE_HEADERS: readonly string[] = Object.freeze([
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
]);

/** The W3C Trace Context Level 2 response header (formatTraceresponse builds its value). */
export const TRACERESPONSE_HEADER = 'traceresponse';

const TRACE_HEADER_SET: ReadonlySet<string> = new Set(TRACE_HEADERS);

/**
 * Remove every trace header from an outgoing header map (any name case) so stale values a
 * caller sent never travel next to the context tracecar injects.
 */
export function stripTraceHeaders(target: Record<string, string>): void {
  for (const name of Object.keys(target)) {
    // Cheap pre-filter: every trace header starts with 't', 'b' or 'x'.
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x74 && c !== 0x62 && c !== 0x78) continue;
    if (TRACE_HEADER_SET.has(name) || TRACE_HEADER_SET.has(name.toLowerCase())) delete target[name];
  }
}

/** The raw value of a header (lowercase name), with an empty array treated as absent. */
export function rawHeader(headers: HeaderBag, name: string): string | string[] | undefined {
  const v = headers[name];
  if (Array.isArray(v) && v.length === 0) return undefined;
  return v;
}
