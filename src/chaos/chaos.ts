import type { ChaosConfig, ChaosRule } from '../config/types.js';
import { tracecarError } from '../errors.js';
import { compileMatch } from '../match/match.js';
import type { Matcher } from '../match/types.js';
import { compileDelay, type DelaySampler } from './delay.js';
import { CHAOS_HEADER, hasHeaderFault, parseChaosHeader } from './header.js';
import { createPlan, isEmptyDraft, normalizeDraft, type FaultDraft } from './plan.js';
import { seededRandom } from './random.js';
import type { Chaos, ChaosInput, ChaosStats, FaultPlan } from './types.js';
import { formatSize } from '../config/units.js';

interface CompiledRule {
  name: string;
  side: ChaosRule['side'];
  match: Matcher;
  delay?: { percent: number; sample: DelaySampler; distribution: string; describe: string };
  abort?: { percent: number; status: number; body: string; grpcStatus: number };
  reset?: { percent: number; afterBytes: number };
  throttle?: { percent: number; bytesPerSecond: number };
  slowBody?: { percent: number; chunkDelayMs: number };
  describe: string;
}

/**
 * Fault injection in the vocabulary of Envoy's fault filter: per-fault percentages, a cap on
 * concurrently active faults (max_active_faults) checked after the dice are rolled, so a capped
 * request consumes the same randomness as an uncapped one and a seeded run stays reproducible.
 *
 * plan(): disabled → null. With allowHeader, a valid x-tracecar-chaos header for this side wins.
 * Otherwise the FIRST rule whose side and match fit decides (later rules are not consulted even
 * when none of its dice hit); each configured fault rolls its own percent, in the fixed order
 * delay, abort, reset, throttle, slowBody (one random draw each, plus the delay's own draws on a hit).
 */
export function createChaos(config: ChaosConfig, options: { random?: () => number; stats?: ChaosStats } = {}): Chaos {
  const random = options.random ?? (config.seed != null ? seededRandom(config.seed) : Math.random);
  const rules = config.rules.map((rule, i) => compileRule(`rules[${i}]`, rule));
  const cap = config.maxActiveFaults;
  if (cap !== null && !(Number.isInteger(cap) && cap >= 0)) {
    throw tracecarError('TRC_ERR_CONFIG_INVALID', `chaos.maxActiveFaults: must be a whole number of 0 or more (got ${String(cap)})`);
  }
  const stats = options.stats ?? createChaosStats();
  const release = (): void => {
    stats.active--;
  };

  const description =
    `Chaos{enabled=${config.enabled}, allowHeader=${config.allowHeader}, ` +
    `maxActiveFaults=${cap ?? 'unlimited'}, seed=${config.seed ?? (options.random ? 'custom' : 'none')}, ` +
    `rules=[${rules.map((r) => r.describe).join(', ')}]}`;

  function fromHeader(input: ChaosInput): FaultDraft | null {
    const value = input.headers[CHAOS_HEADER];
    if (value === undefined) return null;
    const h = parseChaosHeader(value);
    if (!hasHeaderFault(h) || (h.side !== 'both' && h.side !== input.side)) return null;
    const d: FaultDraft = { rule: 'header', side: input.side, source: 'header' };
    if (h.delayMs !== undefined) d.delay = { ms: h.delayMs, distribution: 'fixed' };
    if (h.abortStatus !== undefined) d.abort = { status: h.abortStatus, body: abortBody(h.abortStatus, 'header'), grpcStatus: h.abortGrpcStatus ?? DEFAULT_GRPC_ABORT };
    if (h.resetAfterBytes !== undefined) d.reset = { afterBytes: h.resetAfterBytes };
    if (h.throttleBytesPerSecond !== undefined) d.throttle = { bytesPerSecond: h.throttleBytesPerSecond };
    if (h.slowBodyChunkDelayMs !== undefined) d.slowBody = { chunkDelayMs: h.slowBodyChunkDelayMs };
    return d;
  }

  function fromRules(input: ChaosInput): FaultDraft | null {
    for (const rule of rules) {
      if (rule.side !== 'both' && rule.side !== input.side) continue;
      if (!rule.match(input)) continue;
      const d: FaultDraft = { rule: rule.name, side: input.side, source: 'rule' };
      if (rule.delay !== undefined && roll(rule.delay.percent)) {
        d.delay = { ms: rule.delay.sample(random), distribution: rule.delay.distribution };
      }
      if (rule.abort !== undefined && roll(rule.abort.percent)) d.abort = { status: rule.abort.status, body: rule.abort.body, grpcStatus: rule.abort.grpcStatus };
      if (rule.reset !== undefined && roll(rule.reset.percent)) d.reset = { afterBytes: rule.reset.afterBytes };
      if (rule.throttle !== undefined && roll(rule.throttle.percent)) d.throttle = { bytesPerSecond: rule.throttle.bytesPerSecond };
      if (rule.slowBody !== undefined && roll(rule.slowBody.percent)) d.slowBody = { chunkDelayMs: rule.slowBody.chunkDelayMs };
      return d;
    }
    return null;
  }

  function roll(percent: number): boolean {
    return random() * 100 < percent;
  }

  return {
    plan(input: ChaosInput): FaultPlan | null {
      if (!config.enabled) return null;
      const draft = (config.allowHeader ? fromHeader(input) : null) ?? fromRules(input);
      if (draft === null) return null;
      normalizeDraft(draft);
      if (isEmptyDraft(draft)) return null;
      if (cap !== null && stats.active >= cap) {
        stats.skippedCap++;
        return null;
      }
      stats.active++;
      if (draft.delay) stats.delaysInjected++;
      if (draft.abort) stats.abortsInjected++;
      if (draft.reset) stats.resetsInjected++;
      if (draft.throttle) stats.throttlesInjected++;
      if (draft.slowBody) stats.slowBodiesInjected++;
      return createPlan(draft, release);
    },
    activeFaults: () => stats.active,
    stats: () => ({ ...stats }),
    toString: () => description,
  };
}

/**
 * Zeroed counters. A reloaded chaos config gets the previous engine's counters (createChaos's
 * `stats`), so faults still in progress keep counting against the cap and /metrics totals go on.
 */
export function createChaosStats(): ChaosStats {
  return { active: 0, delaysInjected: 0, abortsInjected: 0, resetsInjected: 0, throttlesInjected: 0, slowBodiesInjected: 0, skippedCap: 0 };
}

/** What an abort answers a gRPC request when the rule does not say: 14 UNAVAILABLE. */
const DEFAULT_GRPC_ABORT = 14;

function abortBody(status: number, rule: string): string {
  return `fault injected by tracecar: abort ${status} (${rule})\n`;
}

function compileRule(name: string, rule: ChaosRule): CompiledRule {
  const where = `chaos.${name}`;
  const percent = (key: string, p: number): number => {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.${key}.percent: must be between 0 and 100 (got ${String(p)})`);
    }
    return p;
  };
  const side = rule.side ?? 'ingress';
  if (side !== 'ingress' && side !== 'egress' && side !== 'both') {
    throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.side: expected ingress, egress or both (got ${String(side)})`);
  }
  const c: CompiledRule = { name, side, match: compileMatch(rule.match ?? {}), describe: '' };
  const parts: string[] = [];
  if (rule.delay !== undefined) {
    const { sample, describe } = compileDelay(`${where}.delay`, rule.delay);
    c.delay = { percent: percent('delay', rule.delay.percent), sample, distribution: rule.delay.distribution, describe };
    parts.push(`delay=${describe}@${c.delay.percent}%`);
  }
  if (rule.abort !== undefined) {
    const status = rule.abort.status;
    if (!(Number.isInteger(status) && status >= 200 && status <= 599)) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.abort.status: expected an HTTP status 200-599 (got ${String(status)})`);
    }
    const grpcStatus = rule.abort.grpcStatus ?? DEFAULT_GRPC_ABORT;
    if (!(Number.isInteger(grpcStatus) && grpcStatus >= 0 && grpcStatus <= 16)) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.abort.grpcStatus: expected a gRPC status code 0-16 (got ${String(grpcStatus)})`);
    }
    c.abort = { percent: percent('abort', rule.abort.percent), status, body: rule.abort.body ?? abortBody(status, name), grpcStatus };
    parts.push(`abort=${status}${grpcStatus === DEFAULT_GRPC_ABORT ? '' : `/grpc=${grpcStatus}`}@${c.abort.percent}%`);
  }
  if (rule.reset !== undefined) {
    const afterBytes = rule.reset.afterBytes ?? 0;
    if (!(Number.isInteger(afterBytes) && afterBytes >= 0)) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.reset.afterBytes: must be a whole number of 0 or more (got ${String(afterBytes)})`);
    }
    c.reset = { percent: percent('reset', rule.reset.percent), afterBytes };
    parts.push(`reset${afterBytes === 0 ? '' : `=${formatSize(afterBytes)}`}@${c.reset.percent}%`);
  }
  if (rule.throttle !== undefined) {
    const bps = rule.throttle.bytesPerSecond;
    if (!(typeof bps === 'number' && bps > 0 && Number.isFinite(bps))) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.throttle.bytesPerSecond: must be more than 0 (got ${String(bps)})`);
    }
    c.throttle = { percent: percent('throttle', rule.throttle.percent), bytesPerSecond: bps };
    parts.push(`throttle=${formatSize(bps)}/s@${c.throttle.percent}%`);
  }
  if (rule.slowBody !== undefined) {
    const ms = rule.slowBody.chunkDelay;
    if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `${where}.slowBody.chunkDelay: must be a duration of 0 or more (got ${String(ms)})`);
    }
    c.slowBody = { percent: percent('slowBody', rule.slowBody.percent), chunkDelayMs: ms };
    parts.push(`slowbody=${ms}ms@${c.slowBody.percent}%`);
  }
  c.describe = `${name}${c.match.toString()} side=${side}: ${parts.join(', ') || 'no faults'}`;
  return c;
}
