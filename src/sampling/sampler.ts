import type { SamplingConfig } from '../config/types.js';
import { tracecarError } from '../errors.js';
import { compileMatch } from '../match/match.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { meetsThreshold, ratioThreshold, traceRandomness, type RatioThreshold } from './threshold.js';
import type { Sampler, SamplingDecision, SamplingInput } from './types.js';

/**
 * Head sampling, decided once per request in this order:
 *   1. force  — the configured force header is present (any value), or the caller set B3 debug;
 *   2. parent — when `parentBased`, a caller's explicit sampled flag is obeyed (B3 "deferred",
 *               i.e. no flag, falls through);
 *   3. the first rule whose match holds, else the default: consistent ratio on the trace id
 *      (threshold.ts), then the rule's optional per-second budget.
 * Everything is compiled at construction; decide() allocates nothing (decisions are shared,
 * frozen objects). A rate-limited "no" is local to this sidecar: the only non-consistent outcome.
 */
export function createSampler(config: SamplingConfig, options: { now?: () => number } = {}): Sampler {
  const now = options.now ?? Date.now;
  const forceHeader = config.forceHeader === null ? null : config.forceHeader.toLowerCase();
  const rules = config.rules.map((rule, i) => ({
    match: compileMatch(rule.match),
    policy: createPolicy(`rules[${i}]`, rule.ratio, rule.ratePerSecond, now),
  }));
  const fallback = createPolicy('default', config.default.ratio, config.default.ratePerSecond, now);

  const FORCE_HEADER = decision({ sampled: true, rule: 'force', reason: 'force-header' });
  const B3_DEBUG = decision({ sampled: true, rule: 'force', reason: 'b3-debug' });
  const PARENT_YES = decision({ sampled: true, rule: 'parent', reason: 'parent-sampled' });
  const PARENT_NO = decision({ sampled: false, rule: 'parent', reason: 'parent-not-sampled' });

  const description =
    `TracecarSampler{force=[${forceHeader === null ? '' : `header:${forceHeader}, `}b3-debug], ` +
    `parentBased=${config.parentBased}, ` +
    `rules=[${rules.map((r) => `${r.policy.name}${r.match.toString()} → ${r.policy.toString()}`).join(', ')}], ` +
    `default=${fallback.toString()}}`;

  return {
    decide(input: SamplingInput): SamplingDecision {
      if (forceHeader !== null && input.headers[forceHeader] !== undefined) return FORCE_HEADER;
      const parent = input.parent;
      if (parent?.debug) return B3_DEBUG;
      if (config.parentBased && parent !== undefined && parent.sampled !== undefined) {
        return parent.sampled ? PARENT_YES : PARENT_NO;
      }
      for (const rule of rules) if (rule.match(input)) return rule.policy.decide(input);
      return fallback.decide(input);
    },
    toString: () => description,
  };
}

interface Policy {
  readonly name: string;
  decide(input: SamplingInput): SamplingDecision;
  toString(): string;
}

function createPolicy(name: string, ratio: number, ratePerSecond: number | undefined, now: () => number): Policy {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw tracecarError('TRC_ERR_CONFIG_INVALID', `sampling.${name}.ratio: must be between 0 and 1 (got ${String(ratio)})`);
  }
  if (ratePerSecond !== undefined && !(ratePerSecond >= 0)) {
    throw tracecarError('TRC_ERR_CONFIG_INVALID', `sampling.${name}.ratePerSecond: must be 0 or more (got ${String(ratePerSecond)})`);
  }
  const threshold: RatioThreshold = ratioThreshold(ratio);
  const limiter: RateLimiter | null = ratePerSecond === undefined ? null : createRateLimiter(ratePerSecond, now);
  const yes = decision({ sampled: true, rule: name, reason: 'ratio', ratio, ...(threshold.th === null ? {} : { threshold: threshold.th }) });
  const no = decision({ sampled: false, rule: name, reason: 'ratio', ratio });
  const limited = decision({ sampled: false, rule: name, reason: 'rate-limited', ratio });
  const description =
    `ConsistentRatio{${ratio}${threshold.th === null ? '' : `, th=${threshold.th}`}` +
    `${limiter === null ? '' : `, rate=${ratePerSecond}/s`}}`;
  // Ratio 1 keeps every trace and ratio 0 none, whatever the trace's randomness: not read then.
  const all = threshold.ratio === 1;
  const none = threshold.hex === null;
  return {
    name,
    decide(input) {
      if (none) return no;
      if (!all && !meetsThreshold(traceRandomness(input.traceId, input.traceState), threshold)) return no;
      if (limiter !== null && !limiter.tryTake()) return limited;
      return yes;
    },
    toString: () => description,
  };
}

function decision(d: SamplingDecision): SamplingDecision {
  return Object.freeze(d);
}
