import { describe, expect, it } from 'vitest';
import { newSpanId, newTraceId, newUuid } from '../../src/telemetry/ids.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('random ids', () => {
  it('trace and span ids are lowercase hex of 32 and 16 digits, distinct across pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    // Far more than one pool holds, so ids come from many refills.
    for (let i = 0; i < 20_000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(20_000);
    expect(spans.size).toBe(20_000);
  });

  it('UUIDs have crypto.randomUUID\'s form: version 4, RFC 9562 variant, lowercase, distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const u = newUuid();
      expect(u).toMatch(UUID_V4);
      seen.add(u);
    }
    expect(seen.size).toBe(20_000);
  });

  it('the random digits of UUIDs are uniform (chi-square per digit over 32,000 UUIDs)', () => {
    // Each digit but the version's takes its 16 values (the variant digit its 4) equally often.
    // Tolerance: chi-square < 50 for 15 degrees of freedom (P ≈ 1e-5 per digit by chance), the
    // variant digit's 3 degrees of freedom scaled to the same tail (its bound ≈ 21.6).
    const n = 32_000;
    const counts = Array.from({ length: 32 }, () => new Array<number>(16).fill(0));
    for (let i = 0; i < n; i++) {
      const digits = newUuid().replaceAll('-', '');
      for (let p = 0; p < 32; p++) counts[p][parseInt(digits[p], 16)]++;
    }
    expect(counts[12][4]).toBe(n);
    let worst = 0;
    for (let p = 0; p < 32; p++) {
      if (p === 12) continue;
      const values = p === 16 ? counts[p].slice(8, 12) : counts[p];
      const expected = n / values.length;
      const chi = values.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      worst = Math.max(worst, p === 16 ? (chi * 37.7) / 16.3 : chi);
    }
    expect(worst).toBeLessThan(50);
  });

  it('ids and UUIDs never reuse each other\'s random bytes (one 16 KiB draw feeds both)', () => {
    // Every 12-digit window (at byte boundaries) of 20,000 trace ids against the first 12 digits of
    // 20,000 UUIDs drawn in between: a byte range handed out twice would show as a match. By
    // chance: ~2.2e5 windows × 2e4 UUIDs / 2^48 ≈ 2e-5.
    const windows = new Set<string>();
    const prefixes: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const t = newTraceId();
      for (let at = 0; at + 12 <= 32; at += 2) windows.add(t.slice(at, at + 12));
      prefixes.push(newUuid().replaceAll('-', '').slice(0, 12));
    }
    expect(prefixes.filter((p) => windows.has(p))).toEqual([]);
  });
});
