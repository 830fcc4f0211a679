/**
 * The access line's duration_ms is formatted from integers (telemetry/access-log.ts durationJson)
 * instead of String(Math.round(ms * 1000) / 1000), the value pino writes: the two must agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationJson } from '../../src/telemetry/access-log.js';

const reference = (ms: number): string => {
  const v = Math.round(ms * 1000) / 1000;
  return Number.isFinite(v) ? String(v) : 'null';
};

describe('durationJson: the same text as String(Math.round(ms * 1000) / 1000)', () => {
  it.each([0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.5, 1, 1.2, 1.25, 1.2345, 9.999, 9.9995, 10, 100.1, 999.999, 1000, 123456.789123, 86_400_000.5, 2 ** 40 + 0.125])('%s', (ms) => {
    expect(durationJson(ms)).toBe(reference(ms));
  });

  it('negative, huge and non-finite values take the slow way and still agree', () => {
    for (const ms of [-0.0004, -1.5, -0, 2 ** 60, Number.MAX_VALUE, Infinity, -Infinity, NaN]) expect(durationJson(ms)).toBe(reference(ms));
  });

  it('any double the clock can give (property)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e12, noNaN: true }), (ms) => durationJson(ms) === reference(ms)), { numRuns: 20_000, seed: 9 });
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (micros) => durationJson(micros / 1000) === reference(micros / 1000)), { numRuns: 20_000, seed: 10 });
  });
});
