/**
 * Propagation: pure header ⇄ context functions for W3C Trace Context, B3 (single and multi),
 * correlation ids and W3C baggage. Nothing here throws on request input.
 */
export { extractContext } from './extract.js';
export { appendTraceHeaders, injectContext } from './inject.js';
export { TRACE_HEADERS, TRACERESPONSE_HEADER, type HeaderBag } from './headers.js';
export { formatTraceresponse } from './traceparent.js';
export { resolveCorrelationId, type CorrelationId } from './correlation.js';
export { parseBaggage } from './baggage.js';
export { excerpt } from './excerpt.js';
export type { ExtractResult, OutgoingContext, SamplingOnly, TraceContext } from './types.js';
