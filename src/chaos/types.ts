import type { MatchInput } from '../match/types.js';

export type ChaosSide = 'ingress' | 'egress';

export interface ChaosInput extends MatchInput {
  side: ChaosSide;
}

export type FaultKind = 'delay' | 'abort' | 'reset' | 'throttle' | 'slowBody';

/** A span event describing one injected fault (OTel span event name + attributes). */
export interface ChaosEvent {
  name: string;
  attributes: Record<string, string | number | boolean>;
}

/**
 * What to do to one request. The fault filter (inject.ts) applies, in this order: delayMs before
 * forwarding; abort (answer status/body, never call upstream); reset with afterBytes 0 (destroy
 * the client connection before any response); otherwise the response body flows through
 * throttle / slowBody / resetAfter from streams.ts. abort excludes reset, throttle and slowBody; a reset before the
 * response excludes throttle and slowBody.
 */
export interface FaultPlan {
  readonly delayMs?: number;
  /** status/body for HTTP requests; gRPC requests get grpcStatus in Trailers-Only form. */
  readonly abort?: { readonly status: number; readonly body: string; readonly grpcStatus: number };
  /** afterBytes 0 = before the response starts. */
  readonly reset?: { readonly afterBytes: number };
  readonly throttle?: { readonly bytesPerSecond: number };
  readonly slowBody?: { readonly chunkDelayMs: number };
  /** 'rules[<i>]' or 'header'. */
  readonly rule: string;
  readonly side: ChaosSide;
  /**
   * Value for the `x-tracecar-chaos` response header, e.g. `delay=212ms;abort=503;rule=rules[0]`.
   * It uses the request header's grammar, so it can be sent back to replay the same faults.
   */
  describe(): string;
  /** One span event per fault: tracecar.chaos.delay / .abort / .reset / .throttle / .slow_body. */
  events(): ChaosEvent[];
  /** Frees this request's active-fault slot. Call when the request ends; idempotent. */
  release(): void;
}

/** Counters for /metrics; names follow Envoy's fault filter stats. */
export interface ChaosStats {
  /** Gauge: plans handed out and not yet released (Envoy active_faults). */
  active: number;
  delaysInjected: number;
  abortsInjected: number;
  resetsInjected: number;
  /** Envoy response_rl_injected. */
  throttlesInjected: number;
  slowBodiesInjected: number;
  /** A fault was rolled but maxActiveFaults was reached, so none was injected (Envoy faults_overflow). */
  skippedCap: number;
}

export interface Chaos {
  /** The faults for this request, or null (disabled, no rule matched, no dice hit, or cap reached). */
  plan(input: ChaosInput): FaultPlan | null;
  activeFaults(): number;
  stats(): ChaosStats;
  toString(): string;
}
