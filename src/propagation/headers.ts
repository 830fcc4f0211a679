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
