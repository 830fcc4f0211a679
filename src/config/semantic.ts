import type { RawProblem } from './explain.js';
import { parseDuration } from './units.js';

/**
 * Checks the schema cannot say clearly, run on a layer that already passed the schema
 * (file shape, human units). Each returns problems at the key concerned.
 */
type Obj = Record<string, unknown>;

const FAULTS = ['delay', 'abort', 'reset', 'throttle', 'slowBody'] as const;

export function semanticProblems(raw: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  if (!isObj(raw)) return problems;
  const propagation = raw.propagation;
  if (isObj(propagation) && propagation.correlationHeader !== undefined && propagation.correlationHeaders !== undefined) {
    problems.push({
      path: ['propagation', 'correlationHeader'],
      at: 'key',
      message: 'use either correlationHeader or correlationHeaders, not both (expected correlationHeaders: [a, b] for several)',
    });
  }
  const egress = raw.egress;
  if (isObj(egress) && Array.isArray(egress.routes)) {
    const seen = new Set<string>();
    egress.routes.forEach((route, i) => {
      if (!isObj(route) || typeof route.name !== 'string') return;
      if (seen.has(route.name)) {
        problems.push({ path: ['egress', 'routes', i, 'name'], at: 'value', message: `route name "${route.name}" is used twice (expected unique names)` });
      }
      seen.add(route.name);
    });
  }
  const chaos = raw.chaos;
  if (isObj(chaos) && Array.isArray(chaos.rules)) {
    chaos.rules.forEach((rule, i) => {
      if (!isObj(rule)) return;
      if (!FAULTS.some((f) => rule[f] !== undefined)) {
        problems.push({ path: ['chaos', 'rules', i], at: 'value', message: `no fault given (expected at least one of: ${FAULTS.join(', ')})` });
      }
      if (isObj(rule.delay)) problems.push(...delayProblems(rule.delay, ['chaos', 'rules', i, 'delay']));
    });
  }
  return problems;
}

const DELAY_KEYS = { fixed: ['value'], uniform: ['min', 'max'], normal: ['mean', 'stddev'] } as const;
type Distribution = keyof typeof DELAY_KEYS;

/** The distribution a delay block means: explicit, or inferred from which keys it has. */
export function delayDistribution(delay: Obj): Distribution | undefined {
  if (typeof delay.distribution === 'string') return delay.distribution as Distribution;
  const present = (Object.keys(DELAY_KEYS) as Distribution[]).filter((d) => DELAY_KEYS[d].some((k) => delay[k] !== undefined));
  return present.length === 1 ? present[0] : undefined;
}

function delayProblems(delay: Obj, path: Array<string | number>): RawProblem[] {
  const distribution = delayDistribution(delay);
  if (!distribution) {
    const given = Object.values(DELAY_KEYS).flat().filter((k) => delay[k] !== undefined);
    return [
      {
        path,
        at: 'value',
        message: given.length
          ? `cannot tell the distribution from ${given.map((k) => `"${k}"`).join(', ')} (expected distribution: fixed, uniform or normal)`
          : 'no delay given (expected value for fixed, min and max for uniform, or mean and stddev for normal)',
      },
    ];
  }
  const problems: RawProblem[] = [];
  const needed = DELAY_KEYS[distribution];
  const missing = needed.filter((k) => delay[k] === undefined);
  if (missing.length) {
    problems.push({
      path,
      at: 'value',
      message: `a ${distribution} delay needs ${needed.map((k) => `"${k}"`).join(' and ')} (missing ${missing.map((k) => `"${k}"`).join(', ')})`,
    });
  }
  for (const [other, keys] of Object.entries(DELAY_KEYS)) {
    if (other === distribution) continue;
    for (const k of keys) {
      if (delay[k] !== undefined) {
        problems.push({ path: [...path, k], at: 'key', message: `"${k}" does not apply to a ${distribution} delay (expected ${needed.join(', ')})` });
      }
    }
  }
  if (distribution === 'uniform' && delay.min !== undefined && delay.max !== undefined) {
    if (parseDuration(delay.min as string | number) > parseDuration(delay.max as string | number)) {
      problems.push({ path: [...path, 'max'], at: 'value', message: `max ${JSON.stringify(delay.max)} is below min ${JSON.stringify(delay.min)} (expected min <= max)` });
    }
  }
  return problems;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
