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
  if (isObj(raw.ingress)) problems.push(...targetProblems(raw.ingress, ['ingress']));
  const egress = raw.egress;
  if (isObj(egress) && Array.isArray(egress.routes)) {
    const seen = new Set<string>();
    egress.routes.forEach((route, i) => {
      if (isObj(route)) problems.push(...targetProblems(route, ['egress', 'routes', i]));
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
  const limits = raw.limits;
  if (isObj(limits)) {
    // Node reads 0 as "no timeout": a limit that must exist cannot be switched off that way.
    for (const key of ['headersTimeout', 'keepAliveTimeout'] as const) {
      const v = limits[key];
      if (v !== undefined && parseDuration(v as string | number) === 0) {
        problems.push({ path: ['limits', key], at: 'value', message: `${key} must be longer than 0 (expected a duration like "10s")` });
      }
    }
  }
  return problems;
}

/**
 * A target's scheme, protocol and TLS settings must agree: h2c is cleartext HTTP/2 (http:// or
 * h2c://), h2 needs TLS (https://), targetTls only applies to https://, and a client certificate
 * needs its key.
 */
function targetProblems(owner: Obj, path: Array<string | number>): RawProblem[] {
  const problems: RawProblem[] = [];
  const target = typeof owner.target === 'string' ? owner.target : '';
  const scheme = /^([a-z0-9]+):\/\//i.exec(target)?.[1]?.toLowerCase();
  const protocol = owner.protocol;
  if (scheme && typeof protocol === 'string' && protocol !== 'auto') {
    const fits = scheme === 'https' ? protocol === 'h2' || protocol === 'http1' : scheme === 'h2c' ? protocol === 'h2c' : protocol === 'h2c' || protocol === 'http1';
    if (!fits) {
      const expected = scheme === 'https' ? 'h2 or http1 for an https:// target (h2c is HTTP/2 without TLS)' : scheme === 'h2c' ? 'h2c or auto for an h2c:// target' : 'h2c or http1 for an http:// target (h2 needs https://)';
      problems.push({ path: [...path, 'protocol'], at: 'value', message: `protocol ${protocol} does not fit ${target} (expected ${expected})` });
    }
  }
  const tls = owner.targetTls;
  if (isObj(tls) && Object.keys(tls).length > 0) {
    if (scheme && scheme !== 'https') {
      problems.push({ path: [...path, 'targetTls'], at: 'key', message: `targetTls applies to https:// targets only (the target is ${target})` });
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      const missing = tls.cert === undefined ? 'cert' : 'key';
      problems.push({ path: [...path, 'targetTls'], at: 'key', message: `a client certificate needs both cert and key (missing ${missing})` });
    }
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
