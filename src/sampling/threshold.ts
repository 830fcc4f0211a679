import { isLowerHex } from '../propagation/hex.js';

/**
 * Consistent probability sampling on the trace id, as specified by OpenTelemetry
 * ("TraceState: Probability Sampling", the rule the spec's TraceIdRatioBased sampler is moving to,
 * implemented by the Go/Java SDKs and the Collector's probabilistic sampler):
 *
 *   R (randomness) = the trace id's rightmost 7 bytes (lower 56 bits) — random by W3C Trace Context
 *                    Level 2 when the random flag is set, and in every id tracecar creates — or an
 *                    explicit `rv` from `tracestate: ot=rv:<14 hex>` when the caller sent one;
 *   T (rejection threshold) = (1 - ratio) · 2^56, rounded to 4 significant hex digits (the spec's
 *                    recommended SDK default; `th` is the same number written to tracestate);
 *   sampled  ⇔  R ≥ T.
 *
 * Why this and not opentelemetry-js's TraceIdRatioBasedSampler: that one XORs the id's four 32-bit
 * words, an algorithm no other SDK or the Collector uses, so a sidecar deciding with it disagrees
 * with a Go or Java service at the same ratio. The threshold rule is the cross-language one, it is
 * monotone (sampled at ratio p ⇒ sampled at every p' ≥ p, so hops with different ratios still
 * yield complete traces down to the lowest ratio), and its `th` lets a backend compute adjusted
 * counts. R and T are 56-bit, so both are kept as 14-digit lowercase hex strings: for equal-length
 * lowercase hex, string order is numeric order — no BigInt or float precision loss per request.
 */

export const DEFAULT_PRECISION = 4;

export interface RatioThreshold {
  /** The configured ratio, clamped to 0..1. */
  readonly ratio: number;
  /** T as 14 lowercase hex digits; null when nothing can be sampled (ratio 0). */
  readonly hex: string | null;
  /** T in the tracestate `th` form (trailing zeros removed, "0" for ratio 1); null for ratio 0. */
  readonly th: string | null;
}

/**
 * Probability → threshold, following the spec's reference algorithm (precision grows with the
 * number of leading `f` digits so small ratios keep their significant digits).
 */
export function ratioThreshold(ratio: number, precision = DEFAULT_PRECISION): RatioThreshold {
  const p = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0;
  if (p === 0) return { ratio: p, hex: null, th: null };
  if (p === 1) return { ratio: p, hex: '0'.repeat(14), th: '0' };
  const exp = frexpExponent(p);
  const digits = Math.max(1, Math.min(12, precision + Math.floor(exp / -4)));
  const scale = 16 ** digits;
  // 2 - p lies in [1, 2); adding half of the last kept digit and truncating rounds to `digits`.
  const rejection = 2 - p + 0.5 / scale;
  const kept = rejection >= 2 ? scale - 1 : Math.floor((rejection - 1) * scale);
  const head = kept.toString(16).padStart(digits, '0');
  const hex = head.padEnd(14, '0');
  const th = head.replace(/0+$/, '') || '0';
  return { ratio: p, hex, th };
}

/** The base-2 exponent e of p = m · 2^e with m in [0.5, 1), like C's frexp. */
function frexpExponent(p: number): number {
  let e = Math.ceil(Math.log2(p));
  // log2 may be off by one at exact powers of two or from rounding: settle it exactly.
  while (p / 2 ** e >= 1) e++;
  while (p / 2 ** e < 0.5) e--;
  return e;
}

/**
 * The 56-bit randomness for a trace as 14 lowercase hex: an explicit `ot=…rv:` in tracestate wins,
 * otherwise the trace id's last 14 hex digits. null when neither is usable.
 */
export function traceRandomness(traceId: string, traceState?: string): string | null {
  if (traceState !== undefined && traceState.includes('rv:')) {
    const rv = explicitRandomness(traceState);
    if (rv !== null) return rv;
  }
  // Every id tracecar holds is already 32 lowercase hex: checked by isLowerHex, not a regex (/^[0-9a-f]{32}$/), which a
  // profile of the 1% row put at 0.29 µs a request.
  if (isTraceId(traceId)) return traceId.slice(18);
  const id = traceId.toLowerCase();
  return isTraceId(id) ? id.slice(18) : null;
}

function isTraceId(s: string): boolean {
  return s.length === 32 && isLowerHex(s, 0, 32);
}

/** `ot=th:8;rv:9b8233f7e3a151` inside a tracestate header → "9b8233f7e3a151". */
function explicitRandomness(traceState: string): string | null {
  for (const member of traceState.split(',')) {
    const m = member.trim();
    if (!m.startsWith('ot=')) continue;
    for (const field of m.slice(3).split(';')) {
      if (field.startsWith('rv:')) {
        const value = field.slice(3).toLowerCase();
        return value.length === 14 && isLowerHex(value, 0, 14) ? value : null;
      }
    }
  }
  return null;
}

/** R ≥ T. */
export function meetsThreshold(randomness: string | null, threshold: RatioThreshold): boolean {
  if (threshold.hex === null) return false;
  if (threshold.ratio === 1) return true;
  return randomness !== null && randomness >= threshold.hex;
}
