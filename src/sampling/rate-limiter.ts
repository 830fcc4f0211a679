/**
 * Token bucket for "at most N sampled traces per second" on one rule. Holds up to max(1, N)
 * tokens (one second of burst), starts full, refills continuously at N tokens/s from `now()` (ms).
 * `ratePerSecond: 0` admits nothing.
 */
export interface RateLimiter {
  tryTake(): boolean;
  toString(): string;
}

export function createRateLimiter(ratePerSecond: number, now: () => number): RateLimiter {
  const rate = Math.max(0, ratePerSecond);
  const capacity = rate === 0 ? 0 : Math.max(1, rate);
  let tokens = capacity;
  let last = now();
  return {
    tryTake(): boolean {
      const t = now();
      if (t > last) {
        tokens = Math.min(capacity, tokens + ((t - last) / 1000) * rate);
        last = t;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    },
    toString: () => `RateLimit{${rate}/s}`,
  };
}
