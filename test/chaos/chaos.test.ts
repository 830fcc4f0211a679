import { describe, expect, it } from 'vitest';
import type { ChaosConfig, ChaosRule } from '../../src/config/types.js';
import { TracecarError } from '../../src/errors.js';
import { createChaos, parseChaosHeader, seededRandom } from '../../src/chaos/index.js';
import type { ChaosInput } from '../../src/chaos/index.js';

function config(rules: ChaosRule[], over: Partial<ChaosConfig> = {}): ChaosConfig {
  return { enabled: true, allowHeader: false, maxActiveFaults: null, seed: null, rules, ...over };
}

function req(over: Partial<ChaosInput> = {}): ChaosInput {
  return { method: 'GET', path: '/', host: 'svc', headers: {}, side: 'ingress', ...over };
}

/** A random source that returns the given values in order and fails loudly when they run out. */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`scripted random exhausted after ${values.length} draws`);
    return values[i++]!;
  };
}

const always = (): number => 0; // every percent > 0 hits

describe('seeded PRNG (mulberry32)', () => {
  it('matches the reference C implementation for seed 42', () => {
    const r = seededRandom(42);
    // Printed by the canonical C mulberry32 (state 42, uint32 / 2^32).
    expect([r(), r(), r()]).toEqual([0.60110375192016363, 0.44829055899754167, 0.85246579349040985]);
  });
  it('same seed → same sequence; another seed → another', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const seqA = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(seqA);
    expect(Array.from({ length: 100 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('rule selection', () => {
  it('is off unless enabled', () => {
    const chaos = createChaos(config([{ match: {}, side: 'ingress', abort: { status: 503, percent: 100 } }], { enabled: false, allowHeader: true }), { random: always });
    expect(chaos.plan(req({ headers: { 'x-tracecar-chaos': 'abort=500' } }))).toBeNull();
  });

  it('the first matching rule decides, even when none of its dice hit', () => {
    const chaos = createChaos(
      config([
        { match: { path: '/inventory/**' }, side: 'ingress', abort: { status: 500, percent: 0 } },
        { match: {}, side: 'ingress', abort: { status: 503, percent: 100 } },
      ]),
      { random: always },
    );
    expect(chaos.plan(req({ path: '/inventory/1' }))).toBeNull();
    expect(chaos.plan(req({ path: '/orders/1' }))?.abort).toEqual({ status: 503, body: 'fault injected by tracecar: abort 503 (rules[1])\n', grpcStatus: 14 });
  });

  it.each([
    ['ingress', 'ingress', true],
    ['ingress', 'egress', false],
    ['egress', 'egress', true],
    ['egress', 'ingress', false],
    ['both', 'ingress', true],
    ['both', 'egress', true],
  ] as const)('a %s rule applies on the %s side: %s', (ruleSide, side, applies) => {
    const chaos = createChaos(config([{ match: {}, side: ruleSide, abort: { status: 503, percent: 100 } }]), { random: always });
    const plan = chaos.plan(req({ side }));
    expect(plan !== null).toBe(applies);
    if (plan) expect(plan.side).toBe(side);
  });

  it('a rule for the other side is skipped, the next one is used', () => {
    const chaos = createChaos(
      config([
        { match: {}, side: 'egress', abort: { status: 500, percent: 100 } },
        { match: {}, side: 'ingress', abort: { status: 503, percent: 100 } },
      ]),
      { random: always },
    );
    expect(chaos.plan(req({ side: 'ingress' }))?.rule).toBe('rules[1]');
    expect(chaos.plan(req({ side: 'egress' }))?.rule).toBe('rules[0]');
  });

  it('trace-aware targeting: a baggage entry set at the edge selects the rule', () => {
    const chaos = createChaos(config([{ match: { baggage: { chaos: 'checkout-slow' } }, side: 'both', delay: { distribution: 'fixed', value: 300, percent: 100 } }]), {
      random: always,
    });
    expect(chaos.plan(req({ side: 'egress', headers: { baggage: 'user=1,chaos=checkout-slow' } }))?.delayMs).toBe(300);
    expect(chaos.plan(req({ side: 'egress', baggage: new Map([['chaos', 'checkout-slow']]) }))?.delayMs).toBe(300);
    expect(chaos.plan(req({ side: 'egress', headers: { baggage: 'chaos=other' } }))).toBeNull();
  });
});

describe('dice: each fault rolls its own percent, in order delay, abort, reset, throttle, slowBody', () => {
  const rule: ChaosRule = {
    match: {},
    side: 'ingress',
    delay: { distribution: 'normal', mean: 200, stddev: 50, percent: 50 },
    abort: { status: 503, percent: 10 },
    throttle: { bytesPerSecond: 10 * 1024, percent: 30 },
    slowBody: { chunkDelay: 20, percent: 40 },
  };

  it('draws: delay roll, Box–Muller (2), abort roll, throttle roll, slowBody roll', () => {
    // u1 = 1 − e^−2 → √(−2 ln(1−u1)) = 2; u2 = 0 → cos 0 = 1 → Z = 2 → 200 + 2·50 = 300 ms
    const chaos = createChaos(config([rule]), { random: scripted([0.49, 1 - Math.exp(-2), 0, 0.1, 0.29, 0.4]) });
    const plan = chaos.plan(req())!;
    expect(plan.delayMs).toBe(300);
    expect(plan.abort).toBeUndefined(); // 0.1·100 = 10, not < 10
    expect(plan.throttle).toEqual({ bytesPerSecond: 10240 });
    expect(plan.slowBody).toBeUndefined();
    expect(plan.describe()).toBe('delay=300ms;throttle=10kib;rule=rules[0]');
  });

  it('a miss on the delay roll does not draw a delay', () => {
    const chaos = createChaos(config([rule]), { random: scripted([0.5, 0.09, 0.9, 0.9]) });
    const plan = chaos.plan(req())!;
    expect(plan.delayMs).toBeUndefined();
    expect(plan.abort?.status).toBe(503);
    expect(plan.describe()).toBe('abort=503;rule=rules[0]');
  });

  it('abort excludes reset, throttle and slow body; a reset before the response excludes body faults', () => {
    const all: ChaosRule = {
      match: {},
      side: 'ingress',
      delay: { distribution: 'fixed', value: 5, percent: 100 },
      abort: { status: 502, body: 'nope', percent: 100 },
      reset: { percent: 100 },
      throttle: { bytesPerSecond: 100, percent: 100 },
      slowBody: { chunkDelay: 5, percent: 100 },
    };
    const withAbort = createChaos(config([all]), { random: always }).plan(req())!;
    expect({ ...withAbort }).toMatchObject({ delayMs: 5, abort: { status: 502, body: 'nope' } });
    expect([withAbort.reset, withAbort.throttle, withAbort.slowBody]).toEqual([undefined, undefined, undefined]);
    const { abort: _a, ...noAbort } = all;
    const withReset = createChaos(config([noAbort]), { random: always }).plan(req())!;
    expect(withReset.reset).toEqual({ afterBytes: 0 });
    expect([withReset.throttle, withReset.slowBody]).toEqual([undefined, undefined]);
    const later = createChaos(config([{ ...noAbort, reset: { percent: 100, afterBytes: 1000 } }]), { random: always }).plan(req())!;
    expect(later.describe()).toBe('delay=5ms;reset=1kb;throttle=100b;slowbody=5ms;rule=rules[0]');
  });

  it('exact plans for seed 42 (same config + same seed → same run)', () => {
    const seeded: ChaosRule = {
      match: {},
      side: 'ingress',
      delay: { distribution: 'uniform', min: 100, max: 300, percent: 50 },
      abort: { status: 503, percent: 20 },
      throttle: { bytesPerSecond: 10240, percent: 30 },
    };
    const run = (): Array<string | null> => {
      const chaos = createChaos(config([seeded], { seed: 42 }));
      return Array.from({ length: 10 }, () => {
        const plan = chaos.plan(req());
        plan?.release();
        return plan?.describe() ?? null;
      });
    };
    const expected = [
      null,
      'abort=503;rule=rules[0]',
      'delay=225ms;rule=rules[0]',
      'delay=276ms;rule=rules[0]',
      'delay=200ms;rule=rules[0]',
      'delay=194ms;throttle=10kib;rule=rules[0]',
      'abort=503;rule=rules[0]',
      'delay=137ms;rule=rules[0]',
      'delay=135ms;rule=rules[0]',
      null,
    ];
    expect(run()).toEqual(expected);
    expect(run()).toEqual(expected);
    const other = createChaos(config([seeded], { seed: 43 }));
    expect(Array.from({ length: 10 }, () => other.plan(req())?.describe() ?? null)).not.toEqual(expected);
  });
});

describe('describe() and events()', () => {
  it('name every fault with its parameters', () => {
    const chaos = createChaos(
      config([
        { match: {}, side: 'egress', delay: { distribution: 'fixed', value: 212, percent: 100 }, reset: { percent: 100, afterBytes: 4096 }, throttle: { bytesPerSecond: 2 * 1024 * 1024, percent: 100 }, slowBody: { chunkDelay: 25, percent: 100 } },
      ]),
      { random: always },
    );
    const plan = chaos.plan(req({ side: 'egress' }))!;
    expect(plan.describe()).toBe('delay=212ms;reset=4kib;throttle=2mib;slowbody=25ms;side=egress;rule=rules[0]');
    const common = { 'tracecar.chaos.rule': 'rules[0]', 'tracecar.chaos.side': 'egress', 'tracecar.chaos.source': 'rule' };
    expect(plan.events()).toEqual([
      { name: 'tracecar.chaos.delay', attributes: { ...common, 'tracecar.chaos.delay.ms': 212, 'tracecar.chaos.delay.distribution': 'fixed' } },
      { name: 'tracecar.chaos.reset', attributes: { ...common, 'tracecar.chaos.reset.after_bytes': 4096 } },
      { name: 'tracecar.chaos.throttle', attributes: { ...common, 'tracecar.chaos.throttle.bytes_per_second': 2097152 } },
      { name: 'tracecar.chaos.slow_body', attributes: { ...common, 'tracecar.chaos.slow_body.chunk_delay_ms': 25 } },
    ]);
    // callers get copies: mutating one does not change the plan
    plan.events()[0]!.attributes['tracecar.chaos.delay.ms'] = 1;
    expect(plan.events()[0]!.attributes['tracecar.chaos.delay.ms']).toBe(212);
  });

  it('the chaos engine describes itself', () => {
    const chaos = createChaos(
      config(
        [
          { match: { path: '/inventory/**' }, side: 'egress', delay: { distribution: 'normal', mean: 200, stddev: 50, percent: 10 } },
          { match: { method: 'POST' }, side: 'ingress', abort: { status: 503, percent: 1 }, reset: { percent: 0.5, afterBytes: 1024 } },
        ],
        { maxActiveFaults: 5, seed: 42 },
      ),
    );
    expect(chaos.toString()).toBe(
      'Chaos{enabled=true, allowHeader=false, maxActiveFaults=5, seed=42, rules=[' +
        'rules[0]{path=/inventory/**} side=egress: delay=normal(200ms±50ms)@10%, ' +
        'rules[1]{method=POST} side=ingress: abort=503@1%, reset=1kib@0.5%]}',
    );
  });
});

describe('x-tracecar-chaos header trigger', () => {
  const rules: ChaosRule[] = [{ match: {}, side: 'ingress', abort: { status: 500, percent: 100 } }];

  it('is ignored entirely when allowHeader is false', () => {
    const chaos = createChaos(config(rules), { random: always });
    expect(chaos.plan(req({ headers: { 'x-tracecar-chaos': 'delay=300ms' } }))?.describe()).toBe('abort=500;rule=rules[0]');
    const noRules = createChaos(config([]), { random: always });
    expect(noRules.plan(req({ headers: { 'x-tracecar-chaos': 'abort=503' } }))).toBeNull();
  });

  it('wins over the rules when allowHeader is true, without rolling dice', () => {
    const chaos = createChaos(config(rules, { allowHeader: true }), { random: scripted([]) });
    const plan = chaos.plan(req({ headers: { 'x-tracecar-chaos': 'delay=300ms' } }))!;
    expect(plan.rule).toBe('header');
    expect(plan.delayMs).toBe(300);
    expect(plan.describe()).toBe('delay=300ms;rule=header');
    expect(plan.events()[0]).toEqual({
      name: 'tracecar.chaos.delay',
      attributes: { 'tracecar.chaos.rule': 'header', 'tracecar.chaos.side': 'ingress', 'tracecar.chaos.source': 'header', 'tracecar.chaos.delay.ms': 300, 'tracecar.chaos.delay.distribution': 'fixed' },
    });
  });

  it.each([
    ['abort=503', { abort: { status: 503, body: 'fault injected by tracecar: abort 503 (header)\n' } }],
    ['reset', { reset: { afterBytes: 0 } }],
    ['reset=2kb', { reset: { afterBytes: 2000 } }],
    ['reset=2KiB', { reset: { afterBytes: 2048 } }],
    ['throttle=10kb', { throttle: { bytesPerSecond: 10_000 } }],
    ['throttle=10kib', { throttle: { bytesPerSecond: 10_240 } }],
    ['throttle=1MB', { throttle: { bytesPerSecond: 1_000_000 } }],
    ['slowbody=50ms', { slowBody: { chunkDelayMs: 50 } }],
    ['Delay=1.5s; THROTTLE=512b', { delayMs: 1500, throttle: { bytesPerSecond: 512 } }],
    ['delay=1m30s', { delayMs: 90_000 }],
    ['slowbody=0.5ms', { slowBody: { chunkDelayMs: 0.5 } }],
    ['delay=250, abort=429', { delayMs: 250, abort: { status: 429, body: 'fault injected by tracecar: abort 429 (header)\n' } }],
  ])('%s', (value, expected) => {
    const plan = createChaos(config([], { allowHeader: true })).plan(req({ headers: { 'x-tracecar-chaos': value } }));
    expect({ ...plan }).toMatchObject(expected);
  });

  it('a response header value replays as a request header', () => {
    const chaos = createChaos(config([], { allowHeader: true }));
    const value = 'delay=212ms;reset=4kb;throttle=10kib;slowbody=25ms;rule=rules[3]';
    expect(chaos.plan(req({ headers: { 'x-tracecar-chaos': value } }))!.describe()).toBe('delay=212ms;reset=4kb;throttle=10kib;slowbody=25ms;rule=header');
  });

  it('applies on ingress by default; side=egress|both moves it', () => {
    const chaos = createChaos(config([], { allowHeader: true }));
    expect(chaos.plan(req({ side: 'egress', headers: { 'x-tracecar-chaos': 'abort=503' } }))).toBeNull();
    expect(chaos.plan(req({ side: 'egress', headers: { 'x-tracecar-chaos': 'abort=503;side=egress' } }))?.describe()).toBe('abort=503;side=egress;rule=header');
    expect(chaos.plan(req({ side: 'ingress', headers: { 'x-tracecar-chaos': 'abort=503;side=egress' } }))).toBeNull();
    expect(chaos.plan(req({ side: 'egress', headers: { 'x-tracecar-chaos': 'abort=503;side=both' } }))).not.toBeNull();
  });

  it.each(['abort=99', 'abort=600', 'abort=5xx', 'delay=soon', 'delay=1 s', 'throttle=0', 'throttle', 'throttle=10kbit', 'explode=1', ''])(
    'invalid header %j is as if absent (the rules decide)',
    (value) => {
      const chaos = createChaos(config(rules, { allowHeader: true }), { random: always });
      expect(chaos.plan(req({ headers: { 'x-tracecar-chaos': value } }))?.rule).toBe('rules[0]');
    },
  );
});

describe('parseChaosHeader', () => {
  it('keeps the valid directives and reports the rest', () => {
    expect(parseChaosHeader(['delay=soon; abort=503', 'explode, reset=1mib, rule=rules[0]'])).toEqual({
      abortStatus: 503,
      resetAfterBytes: 1024 * 1024,
      side: 'ingress',
      problems: ['delay=soon: expected a duration like 300ms or 1.5s', 'explode: unknown directive (delay, abort, grpc, reset, throttle, slowbody, side)'],
    });
  });
});

describe('maxActiveFaults (Envoy max_active_faults)', () => {
  it('no new fault while the cap is reached; counted as skipped; release frees a slot, once', () => {
    const chaos = createChaos(config([{ match: {}, side: 'ingress', delay: { distribution: 'fixed', value: 10, percent: 100 } }], { maxActiveFaults: 2 }), { random: always });
    const a = chaos.plan(req())!;
    const b = chaos.plan(req())!;
    expect(chaos.activeFaults()).toBe(2);
    expect(chaos.plan(req())).toBeNull();
    expect(chaos.stats()).toMatchObject({ active: 2, delaysInjected: 2, skippedCap: 1 });
    a.release();
    a.release(); // idempotent
    expect(chaos.activeFaults()).toBe(1);
    const c = chaos.plan(req())!;
    expect(c).not.toBeNull();
    expect(chaos.plan(req())).toBeNull();
    b.release();
    c.release();
    expect(chaos.stats()).toEqual({ active: 0, delaysInjected: 3, abortsInjected: 0, resetsInjected: 0, throttlesInjected: 0, slowBodiesInjected: 0, skippedCap: 2 });
  });

  it('a capped request consumes the same randomness, so a seeded run stays in step', () => {
    const rule: ChaosRule = { match: {}, side: 'ingress', delay: { distribution: 'uniform', min: 0, max: 1000, percent: 50 } };
    const free = createChaos(config([rule], { seed: 9 }));
    const capped = createChaos(config([rule], { seed: 9, maxActiveFaults: 1 }));
    const seqFree: Array<string | null> = [];
    const seqCapped: Array<string | null> = [];
    let held: { release(): void } | null = null;
    for (let i = 0; i < 30; i++) {
      const p = free.plan(req());
      seqFree.push(p?.describe() ?? null);
      p?.release();
      const q = capped.plan(req());
      seqCapped.push(q?.describe() ?? null);
      if (q) held = q; // never released during the loop: only the first fault gets the slot
    }
    const first = seqFree.findIndex((x) => x !== null);
    expect(seqCapped).toEqual(seqFree.map((x, i) => (i === first ? x : null)));
    expect(capped.stats().skippedCap).toBe(seqFree.filter((x) => x !== null).length - 1);
    held!.release();
    // both engines have drawn the same numbers, so they agree again once the slot is free
    for (let i = 0; i < 10; i++) {
      const p = free.plan(req());
      const q = capped.plan(req());
      expect(q?.describe() ?? null).toBe(p?.describe() ?? null);
      p?.release();
      q?.release();
    }
  });
});

describe('validation', () => {
  it.each([
    [{ match: {}, side: 'ingress', abort: { status: 503, percent: 101 } }, 'chaos.rules[0].abort.percent'],
    [{ match: {}, side: 'ingress', abort: { status: 99, percent: 1 } }, 'chaos.rules[0].abort.status'],
    [{ match: {}, side: 'ingress', delay: { distribution: 'uniform', min: 300, max: 100, percent: 1 } }, 'chaos.rules[0].delay.max'],
    [{ match: {}, side: 'ingress', delay: { distribution: 'normal', mean: 100, percent: 1 } }, 'chaos.rules[0].delay.stddev'],
    [{ match: {}, side: 'ingress', throttle: { bytesPerSecond: 0, percent: 1 } }, 'chaos.rules[0].throttle.bytesPerSecond'],
    [{ match: {}, side: 'sideways', abort: { status: 503, percent: 1 } }, 'chaos.rules[0].side'],
  ] as Array<[ChaosRule, string]>)('rejects %j at %s', (rule, where) => {
    try {
      createChaos(config([rule]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TracecarError);
      expect((err as TracecarError).code).toBe('TRC_ERR_CONFIG_INVALID');
      expect((err as TracecarError).message).toContain(where);
    }
  });
});

describe('statistics over ≥ 10,000 seeded decisions', () => {
  // Binomial: n = 20,000, p = 0.10 → mean 2,000, σ = √(n·p·(1−p)) ≈ 42.4; tolerance 5σ ≈ 212.
  it('abort percent 10 over 20,000 requests fires 2,000 ± 212 times (5σ, binomial)', () => {
    const n = 20_000;
    const chaos = createChaos(config([{ match: {}, side: 'ingress', abort: { status: 503, percent: 10 } }], { seed: 1 }));
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const plan = chaos.plan(req());
      if (plan) {
        hits++;
        plan.release();
      }
    }
    expect(Math.abs(hits - 2000)).toBeLessThanOrEqual(5 * Math.sqrt(n * 0.1 * 0.9));
    expect(chaos.stats().abortsInjected).toBe(hits);
  });

  function delays(rule: ChaosRule['delay'], n: number, seed: number): number[] {
    const chaos = createChaos(config([{ match: {}, side: 'ingress', delay: rule! }], { seed }));
    return Array.from({ length: n }, () => {
      const plan = chaos.plan(req())!;
      plan.release();
      return plan.delayMs!;
    });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs: number[]): number => {
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };

  it('fixed 250ms is always exactly 250ms', () => {
    expect(new Set(delays({ distribution: 'fixed', value: 250, percent: 100 }, 10_000, 2))).toEqual(new Set([250]));
  });

  // Uniform 100..300: σ = 200/√12 ≈ 57.7; mean of 10,000 has SE 0.577 → tolerance 5·SE ≈ 2.9 ms.
  it('uniform 100–300ms over 10,000 draws: all in range, mean 200 ± 2.9ms (5 standard errors)', () => {
    const xs = delays({ distribution: 'uniform', min: 100, max: 300, percent: 100 }, 10_000, 3);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...xs)).toBeLessThanOrEqual(300);
    expect(Math.abs(mean(xs) - 200)).toBeLessThanOrEqual((5 * (200 / Math.sqrt(12))) / Math.sqrt(10_000));
  });

  // Normal 200±50: mean SE = 50/√n = 0.5 → ±2.5 ms; SD SE ≈ σ/√(2n) ≈ 0.354 → ±1.77 ms (5 SE each).
  it('normal mean 200ms stddev 50ms over 10,000 draws: mean 200 ± 2.5ms, stddev 50 ± 1.77ms (5 standard errors)', () => {
    const n = 10_000;
    const xs = delays({ distribution: 'normal', mean: 200, stddev: 50, percent: 100 }, n, 4);
    expect(Math.abs(mean(xs) - 200)).toBeLessThanOrEqual((5 * 50) / Math.sqrt(n));
    expect(Math.abs(sd(xs) - 50)).toBeLessThanOrEqual((5 * 50) / Math.sqrt(2 * n));
    // ~68.3% within one σ: binomial SE √(0.683·0.317/n) ≈ 0.0047 → ±0.023 (5 SE)
    const within = xs.filter((x) => Math.abs(x - 200) <= 50).length / n;
    expect(Math.abs(within - 0.6827)).toBeLessThanOrEqual(5 * Math.sqrt((0.6827 * 0.3173) / n));
  });

  it('normal delays are clamped at 0', () => {
    const xs = delays({ distribution: 'normal', mean: 10, stddev: 50, percent: 100 }, 10_000, 5);
    expect(Math.min(...xs)).toBe(0);
    expect(xs.filter((x) => x === 0).length).toBeGreaterThan(3000); // P(Z < −0.2) ≈ 0.42
  });
});
