import type { PropagationFormat } from '../config/types.js';

/**
 * Trace context as read from (or written to) request headers. Pure data: extraction never
 * throws; anything malformed is dropped and described in ExtractResult.problems.
 */
export interface TraceContext {
  /** 32 lowercase hex. A 64-bit B3 id is left-padded with zeros here; see traceIdBits. */
  traceId: string;
  /** The caller's span id (16 lowercase hex): becomes the parent of our span. */
  spanId: string;
  /** true/false = caller decided; undefined = deferred (B3 without sampled, never for W3C). */
  sampled: boolean | undefined;
  /** B3 debug (`d` / X-B3-Flags: 1): force sampling. */
  debug: boolean;
  /** W3C Level 2 random flag (0x02): the trace id's right 7 bytes are random. */
  random: boolean;
  /** W3C tracestate as a normalised header value (already validated / limited), if any. */
  traceState?: string;
  /** 64 when a B3 caller sent a 64-bit trace id: B3 injection sends it back as 16 hex. */
  traceIdBits: 64 | 128;
  /** Parent span id a B3 caller sent (its parent), kept for debugging only. */
  parentSpanId?: string;
  /** Which format supplied the context. */
  format: PropagationFormat;
}

/** A sampling decision that arrived without ids (`b3: 0`, `X-B3-Sampled: 1` alone). */
export interface SamplingOnly {
  sampled: boolean | undefined;
  debug: boolean;
  format: 'b3' | 'b3multi';
}

export interface ExtractResult {
  context?: TraceContext;
  samplingOnly?: SamplingOnly;
  /** The B3 style the caller used, if any (so injection can answer in kind). */
  incomingB3?: 'b3' | 'b3multi';
  /** Human-readable reasons for anything ignored, e.g. "traceparent: trace-id is all zeros". */
  problems: string[];
}

/** What tracecar injects into a request it forwards (the parent is our own span). */
export interface OutgoingContext {
  /** 32 lowercase hex, a 64-bit id left-padded as in TraceContext (16 hex is accepted too). */
  traceId: string;
  /** Our span's id (16 lowercase hex): the parent the receiver will see. */
  spanId: string;
  sampled: boolean;
  debug: boolean;
  random: boolean;
  traceState?: string;
  traceIdBits: 64 | 128;
  /** For B3 injection: the span id of our span's parent (ParentSpanId header). */
  parentSpanId?: string;
}
