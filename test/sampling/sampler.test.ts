import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SamplingConfig } from '../../src/config/types.js';
import { TracecarError } from '../../src/errors.js';
import { seededRandom } from '../../src/chaos/random.js';
import { createSampler, meetsThreshold, ratioThreshold, traceRandomness } from '../../src/sampling/index.js';
import type { SamplingInput } from '../../src/sampling/index.js';

function config(over: Partial<SamplingConfig> = {}): SamplingConfig {
  return {
    default: { ratio: 1 },
    parentBased: true,
    rules: [],
    keep: { errors: true, slowerThan: null },
    forceHeader: 'x-tracecar-force',
    ...over,
  };
}

const SOME_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function input(over: Partial<SamplingInput> = {}): SamplingInput {
  return { method: 'GET', path: '/', host: 'svc', headers: {}, traceId: SOME_TRACE, ...over };
}

/** 32 hex: 18 leading hex digits (ignored by the sampler) + the 14 that are R. */
const id = (r: string, head = '0'.repeat(18)): string => head + r;

/** Trace ids from a seeded PRNG, so the statistical tests are reproducible. */
function traceIds(n: number, seed: number): string[] {
  const random = seededRandom(seed);
  const word = (): string => Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return Array.from({ length: n }, () => word() + word() + word() + word());
}

describe('ratio → threshold (OTel consistent probability sampling, 4-digit precision)', () => {
  // Expected values: the precision-4 column of the table in the OTel spec
  // "TraceState: Probability Sampling" → "Converting floating-point probability to threshold value".
  it.each([
    [1, '0'],
    [0.5, '8'],
    [1 / 3, 'aaab'],
    [0.25, 'c'],
    [0.2, 'cccd'],
    [0.125, 'e'],
    [0.1, 'e666'],
    [0.0625, 'f'],
    [0.01, 'fd70a'],
    [0.001, 'ffbe77'],
    [0.0001, 'fff9724'],
    [0.00001, 'ffff583a'],
    [0.000001, 'ffffef39'],
  ])('ratio %d → th:%s', (ratio, th) => {
    expect(ratioThreshold(ratio).th).toBe(th);
    expect(ratioThreshold(ratio).hex).toBe(th.padEnd(14, '0'));
  });

  it('ratio 0 has no threshold and samples nothing', () => {
    expect(ratioThreshold(0)).toEqual({ ratio: 0, hex: null, th: null });
    expect(meetsThreshold('ffffffffffffff', ratioThreshold(0))).toBe(false);
  });
});

describe('consistent ratio decisions on the trace id', () => {
  const sampler = createSampler(config({ default: { ratio: 0.25 } }));
  // T for 0.25 is 0xc0000000000000: sampled ⇔ the id's lower 56 bits ≥ T.
  it.each([
    [id('c0000000000000'), true], // R = T exactly
    [id('bfffffffffffff'), false], // R = T - 1
    [id('ffffffffffffff'), true],
    [id('00000000000000'), false],
    [id('d3ce929d0e0e47'), true],
    [id('3ce929d0e0e473'), false],
    [id('00000000000000', 'ffffffffffffffffff'), false], // only the lower 56 bits count
    [id('c0000000000000', '000000000000000000'), true],
    ['4bf92f3577b34da6a3ce929d0e0e4736', true], // R = ce929d0e0e4736
    ['0af7651916cd43dd8448eb211c80319c', false], // R = 48eb211c80319c
    ['5b8aa5a2d2c872e8321cf37308d69df2', false], // R = 1cf37308d69df2
    ['80f198ee56343ba864fe8b2a57d3eff7', true], // R = fe8b2a57d3eff7
  ])('%s → sampled=%s', (traceId, sampled) => {
    expect(sampler.decide(input({ traceId }))).toEqual({ sampled, rule: 'default', reason: 'ratio', ratio: 0.25, ...(sampled ? { threshold: 'c' } : {}) });
  });

  it('an explicit ot=rv in tracestate replaces the trace id randomness', () => {
    const notByTraceId = id('00000000000000');
    expect(sampler.decide(input({ traceId: notByTraceId, traceState: 'vendor=x,ot=th:c;rv:c0000000000001' })).sampled).toBe(true);
    expect(sampler.decide(input({ traceId: id('ffffffffffffff'), traceState: 'ot=rv:00000000000001' })).sampled).toBe(false);
    // malformed rv → fall back to the trace id
    expect(sampler.decide(input({ traceId: id('ffffffffffffff'), traceState: 'ot=rv:zz' })).sampled).toBe(true);
    expect(traceRandomness('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('ce929d0e0e4736');
    expect(traceRandomness('not-a-trace-id')).toBeNull();
  });

  it('traceRandomness takes a trace id as /^[0-9a-f]{32}$/i does, whatever the string (property)', () => {
    const reference = (id: string): string | null => (/^[0-9a-f]{32}$/i.test(id) ? id.toLowerCase().slice(18) : null);
    const hexChar = fc.constantFrom(...'0123456789abcdefABCDEFgG/:@`'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: hexChar, minLength: 30, maxLength: 34 }), fc.string({ minLength: 32, maxLength: 32 })), (id) => traceRandomness(id) === reference(id)),
      { numRuns: 20_000, seed: 3 },
    );
    for (const id of ['0'.repeat(32), 'f'.repeat(32), 'F'.repeat(32), `${'a'.repeat(31)}g`, `${'a'.repeat(31)}/`, `${'a'.repeat(31)}:`, `${'a'.repeat(31)}@`, `${'a'.repeat(31)}\``, 'a'.repeat(33), '']) {
      expect(traceRandomness(id)).toBe(reference(id));
    }
  });

  it('ratio 1 samples even an unusable trace id; ratio 0 samples none', () => {
    expect(createSampler(config({ default: { ratio: 1 } })).decide(input({ traceId: 'garbage' })).sampled).toBe(true);
    expect(createSampler(config({ default: { ratio: 0 } })).decide(input({ traceId: id('ffffffffffffff') })).sampled).toBe(false);
  });

  it('is monotone: every trace sampled at 0.1 is sampled at 0.5 (sidecars with different ratios agree)', () => {
    const low = createSampler(config({ default: { ratio: 0.1 } }));
    const high = createSampler(config({ default: { ratio: 0.5 } }));
    for (const traceId of traceIds(10_000, 7)) {
      if (low.decide(input({ traceId })).sampled) expect(high.decide(input({ traceId })).sampled).toBe(true);
    }
  });

  // Binomial: n = 20,000, p = 0.25 → mean 5,000, σ = √(n·p·(1−p)) ≈ 61.2; tolerance 5σ ≈ 306.
  it('ratio 0.25 over 20,000 random trace ids samples 5,000 ± 306 (5σ, binomial)', () => {
    const n = 20_000;
    const sigma = Math.sqrt(n * 0.25 * 0.75);
    let sampled = 0;
    for (const traceId of traceIds(n, 20240601)) if (sampler.decide(input({ traceId })).sampled) sampled++;
    expect(Math.abs(sampled - n * 0.25)).toBeLessThanOrEqual(5 * sigma);
  });
});

describe('decision order: force → parent → rules → default', () => {
  const sampler = createSampler(
    config({
      default: { ratio: 0 },
      rules: [
        { match: { path: '/healthz' }, ratio: 0 },
        { match: { path: '/checkout/**', method: 'POST' }, ratio: 1 },
        { match: { path: '/checkout/**' }, ratio: 0 },
      ],
    }),
  );

  it('force header (any value, even empty) samples', () => {
    expect(sampler.decide(input({ headers: { 'x-tracecar-force': '' } }))).toEqual({ sampled: true, rule: 'force', reason: 'force-header' });
  });
  it('force header beats a parent that said no', () => {
    expect(sampler.decide(input({ headers: { 'x-tracecar-force': '1' }, parent: { sampled: false, debug: false } })).sampled).toBe(true);
  });
  it('force header name is case-insensitive in config; null turns it off', () => {
    expect(createSampler(config({ default: { ratio: 0 }, forceHeader: 'X-Force' })).decide(input({ headers: { 'x-force': 'y' } })).reason).toBe('force-header');
    expect(createSampler(config({ default: { ratio: 0 }, forceHeader: null })).decide(input({ headers: { 'x-tracecar-force': 'y' } })).sampled).toBe(false);
  });
  it('B3 debug samples, even with sampled=0 and parentBased off', () => {
    expect(sampler.decide(input({ parent: { sampled: false, debug: true } }))).toEqual({ sampled: true, rule: 'force', reason: 'b3-debug' });
    const notParentBased = createSampler(config({ default: { ratio: 0 }, parentBased: false }));
    expect(notParentBased.decide(input({ parent: { sampled: undefined, debug: true } })).reason).toBe('b3-debug');
  });
  it('parent sampled=1 is obeyed over a ratio-0 rule', () => {
    expect(sampler.decide(input({ path: '/healthz', parent: { sampled: true, debug: false } }))).toEqual({ sampled: true, rule: 'parent', reason: 'parent-sampled' });
  });
  it('parent sampled=0 is obeyed over a ratio-1 rule', () => {
    expect(sampler.decide(input({ method: 'POST', path: '/checkout/pay', parent: { sampled: false, debug: false } }))).toEqual({
      sampled: false,
      rule: 'parent',
      reason: 'parent-not-sampled',
    });
  });
  it('a deferred parent (B3 without a flag) falls through to the rules', () => {
    expect(sampler.decide(input({ method: 'POST', path: '/checkout/pay', parent: { sampled: undefined, debug: false } })).rule).toBe('rules[1]');
  });
  it('parentBased: false ignores the caller flag', () => {
    const s = createSampler(config({ default: { ratio: 0 }, parentBased: false }));
    expect(s.decide(input({ parent: { sampled: true, debug: false } }))).toEqual({ sampled: false, rule: 'default', reason: 'ratio', ratio: 0 });
  });
  it.each([
    ['GET', '/healthz', 'rules[0]', false],
    ['POST', '/checkout/pay', 'rules[1]', true],
    ['GET', '/checkout/pay', 'rules[2]', false],
    ['GET', '/orders/1', 'default', false],
  ])('%s %s → %s (first matching rule wins)', (method, path, rule, sampled) => {
    const d = sampler.decide(input({ method, path }));
    expect(d.rule).toBe(rule);
    expect(d.sampled).toBe(sampled);
  });
});

describe('per-rule rate limit (token bucket on options.now)', () => {
  it('admits ratePerSecond per second with a one-second burst, then says rate-limited', () => {
    let t = 1_000_000;
    const s = createSampler(config({ rules: [{ match: { path: '/api/**' }, ratio: 1, ratePerSecond: 2 }] }), { now: () => t });
    const api = (): string => {
      const d = s.decide(input({ path: '/api/x' }));
      return d.sampled ? 'yes' : d.reason;
    };
    expect([api(), api(), api()]).toEqual(['yes', 'yes', 'rate-limited']);
    t += 499; // 0.998 tokens
    expect(api()).toBe('rate-limited');
    t += 1; // 1 token
    expect([api(), api()]).toEqual(['yes', 'rate-limited']);
    t += 60_000; // a long idle refills only up to the burst
    expect([api(), api(), api()]).toEqual(['yes', 'yes', 'rate-limited']);
    // other routes are not limited by this rule
    expect(s.decide(input({ path: '/other' })).sampled).toBe(true);
    expect(s.decide(input({ path: '/api/x' }))).toEqual({ sampled: false, rule: 'rules[0]', reason: 'rate-limited', ratio: 1 });
  });

  it('fractional rates: 0.5/s admits one every two seconds', () => {
    let t = 0;
    const s = createSampler(config({ default: { ratio: 1, ratePerSecond: 0.5 } }), { now: () => t });
    expect(s.decide(input()).sampled).toBe(true);
    t += 1999;
    expect(s.decide(input()).reason).toBe('rate-limited');
    t += 1;
    expect(s.decide(input()).sampled).toBe(true);
  });

  it('only traces the ratio kept spend tokens', () => {
    let t = 0;
    const s = createSampler(config({ default: { ratio: 0.25, ratePerSecond: 1 } }), { now: () => t });
    expect(s.decide(input({ traceId: id('00000000000000') })).reason).toBe('ratio');
    expect(s.decide(input({ traceId: id('ffffffffffffff') })).sampled).toBe(true);
    expect(s.decide(input({ traceId: id('ffffffffffffff') })).reason).toBe('rate-limited');
  });

  it('ratePerSecond: 0 admits nothing', () => {
    expect(createSampler(config({ default: { ratio: 1, ratePerSecond: 0 } })).decide(input()).reason).toBe('rate-limited');
  });
});

describe('sampler description and validation', () => {
  it('describes itself like OTel samplers do', () => {
    const s = createSampler(
      config({
        default: { ratio: 0.1 },
        rules: [
          { match: { path: '/healthz' }, ratio: 0 },
          { match: { method: 'POST', path: '/checkout/**' }, ratio: 1, ratePerSecond: 10 },
        ],
      }),
    );
    expect(s.toString()).toBe(
      'TracecarSampler{force=[header:x-tracecar-force, b3-debug], parentBased=true, rules=[' +
        'rules[0]{path=/healthz} → ConsistentRatio{0}, ' +
        'rules[1]{method=POST, path=/checkout/**} → ConsistentRatio{1, th=0, rate=10/s}], ' +
        'default=ConsistentRatio{0.1, th=e666}}',
    );
    expect(String(createSampler(config({ forceHeader: null, parentBased: false })))).toBe(
      'TracecarSampler{force=[b3-debug], parentBased=false, rules=[], default=ConsistentRatio{1, th=0}}',
    );
  });

  it.each([
    [{ default: { ratio: 1.5 } }, 'sampling.default.ratio'],
    [{ default: { ratio: Number.NaN } }, 'sampling.default.ratio'],
    [{ rules: [{ match: {}, ratio: -0.1 }] }, 'sampling.rules[0].ratio'],
    [{ rules: [{ match: {}, ratio: 1, ratePerSecond: -1 }] }, 'sampling.rules[0].ratePerSecond'],
  ] as Array<[Partial<SamplingConfig>, string]>)('rejects %j with TRC_ERR_CONFIG_INVALID at %s', (over, where) => {
    try {
      createSampler(config(over));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TracecarError);
      expect((err as TracecarError).code).toBe('TRC_ERR_CONFIG_INVALID');
      expect((err as TracecarError).message).toContain(where);
    }
  });
});
