import { describe, expect, it } from 'vitest';
import { tailKeep } from '../../src/sampling/index.js';

describe('tailKeep', () => {
  it.each([
    [{ errors: true, slowerThan: 1000 }, { error: true, durationMs: 5 }, 'error'],
    [{ errors: true, slowerThan: 1000 }, { error: true, durationMs: 5000 }, 'error'], // error wins over slow
    [{ errors: true, slowerThan: 1000 }, { error: false, durationMs: 1001 }, 'slow'],
    [{ errors: true, slowerThan: 1000 }, { error: false, durationMs: 1000 }, null], // strictly slower
    [{ errors: true, slowerThan: 1000 }, { error: false, durationMs: 10 }, null],
    [{ errors: false, slowerThan: 1000 }, { error: true, durationMs: 10 }, null],
    [{ errors: false, slowerThan: 1000 }, { error: true, durationMs: 2000 }, 'slow'],
    [{ errors: true, slowerThan: null }, { error: false, durationMs: 1e9 }, null],
    [{ errors: false, slowerThan: null }, { error: true, durationMs: 1e9 }, null],
    [{ errors: false, slowerThan: 0 }, { error: false, durationMs: 0.5 }, 'slow'],
  ] as const)('keep=%j outcome=%j → %s', (keep, outcome, expected) => {
    expect(tailKeep(keep, outcome)).toBe(expected);
  });
});
