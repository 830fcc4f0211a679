import type { MatchInput } from '../match/types.js';

export interface SamplingInput extends MatchInput {
  /** 32 lowercase hex: the caller's trace id, or the new one tracecar is about to use. */
  traceId: string;
  /** The caller's decision, when a context or a sampling-only header arrived. */
  parent?: { sampled: boolean | undefined; debug: boolean };
  /** The caller's W3C tracestate: an `ot=rv:…` entry in it replaces the trace id's randomness. */
  traceState?: string;
}

export type SamplingReason =
  | 'force-header' //  the configured force header was present
  | 'b3-debug' //      the caller set the B3 debug flag
  | 'parent-sampled' // parent-based: the caller said sampled
  | 'parent-not-sampled' // parent-based: the caller said not sampled
  | 'ratio' //          a rule's (or the default) consistent ratio decided, either way
  | 'rate-limited'; //  the ratio said yes but the rule's per-second budget was spent

export interface SamplingDecision {
  readonly sampled: boolean;
  /** Which part of the config decided: 'force' | 'parent' | 'rules[<i>]' | 'default'. */
  readonly rule: string;
  readonly reason: SamplingReason;
  /** For 'ratio' / 'rate-limited': the ratio that applied. */
  readonly ratio?: number;
  /**
   * For sampled 'ratio' decisions: the OTel rejection threshold, to be written as
   * `tracestate: ot=th:<threshold>` so backends can compute adjusted counts.
   */
  readonly threshold?: string;
}

export interface Sampler {
  decide(input: SamplingInput): SamplingDecision;
  /** e.g. `TracecarSampler{force=[header:x-tracecar-force, b3-debug], parentBased=true, rules=[…], default=…}` */
  toString(): string;
}

export type TailKeepReason = 'error' | 'slow';
