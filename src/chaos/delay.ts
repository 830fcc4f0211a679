import type { DelayFault } from '../config/types.js';
import { tracecarError } from '../errors.js';

/** Draws one delay in whole milliseconds (≥ 0) from a configured distribution. */
export type DelaySampler = (random: () => number) => number;

/**
 * fixed   — `value` ms
 * uniform — min + U·(max − min), U uniform in [0, 1)
 * normal  — mean + stddev·Z, Z standard normal by Box–Muller (two uniforms per draw, the second
 *           variate discarded so each draw consumes a fixed amount of randomness); clamped at 0.
 * Invalid parameters are a config error at construction (the loader should have caught them).
 */
export function compileDelay(where: string, delay: DelayFault): { sample: DelaySampler; describe: string } {
  const need = (key: 'value' | 'min' | 'max' | 'mean' | 'stddev'): number => {
    const v = delay[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.${key}: a duration of 0 or more is required for a ${delay.distribution} delay`);
    }
    return v;
  };
  switch (delay.distribution) {
    case 'fixed': {
      const value = Math.round(need('value'));
      return { sample: () => value, describe: `fixed(${value}ms)` };
    }
    case 'uniform': {
      const min = need('min');
      const max = need('max');
      if (max < min) throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.max: must not be below min (${min}ms)`);
      return { sample: (random) => Math.round(min + random() * (max - min)), describe: `uniform(${min}ms..${max}ms)` };
    }
    case 'normal': {
      const mean = need('mean');
      const stddev = need('stddev');
      return {
        sample: (random) => Math.max(0, Math.round(mean + stddev * standardNormal(random))),
        describe: `normal(${mean}ms±${stddev}ms)`,
      };
    }
    default:
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.distribution: expected fixed, uniform or normal`);
  }
}

/** Box–Muller: Z = √(−2 ln U1) · cos(2π U2), with U1 in (0, 1]. */
export function standardNormal(random: () => number): number {
  const u1 = 1 - random();
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
