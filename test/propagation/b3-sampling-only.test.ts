import { describe, expect, it } from 'vitest';
import { extractContext, injectContext } from '../../src/propagation/index.js';
import type { OutgoingContext } from '../../src/propagation/index.js';
import type { PropagationFormat } from '../../src/config/types.js';

/*
 * A B3 sampling state or debug flag that arrives without ids must survive the hop: extracted as
 * `samplingOnly`, put on the new trace tracecar starts, and injected again in the caller's style,
 * so the next hop extracts the same decision.
 */
const ALL: readonly PropagationFormat[] = ['w3c', 'b3', 'b3multi'];
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const TP = `00-${TRACE}-${SPAN}-00`;

/** What a sidecar does with a decision that came alone: a new trace carrying it. */
function newTraceFrom(alone: { sampled: boolean | undefined; debug: boolean }): OutgoingContext {
  return {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    // A debug flag forces sampling; a 0/1 is the parent decision (parent-based sampling).
    sampled: alone.debug || alone.sampled === true,
    debug: alone.debug,
    random: true,
    traceIdBits: 128,
  };
}

describe('a B3 decision that arrives alone is kept across the hop', () => {
  it.each<[string, Record<string, string>, 'b3' | 'b3multi', { sampled: boolean; debug: boolean }, Record<string, string | undefined>]>([
    ['b3: d', { b3: 'd' }, 'b3', { sampled: true, debug: true }, { b3: `${'a'.repeat(32)}-${'b'.repeat(16)}-d` }],
    ['b3: 0', { b3: '0' }, 'b3', { sampled: false, debug: false }, { b3: `${'a'.repeat(32)}-${'b'.repeat(16)}-0` }],
    ['b3: 1', { b3: '1' }, 'b3', { sampled: true, debug: false }, { b3: `${'a'.repeat(32)}-${'b'.repeat(16)}-1` }],
    ['X-B3-Flags: 1', { 'x-b3-flags': '1' }, 'b3multi', { sampled: true, debug: true }, { 'x-b3-flags': '1', 'x-b3-sampled': undefined }],
    ['X-B3-Sampled: 0', { 'x-b3-sampled': '0' }, 'b3multi', { sampled: false, debug: false }, { 'x-b3-sampled': '0', 'x-b3-flags': undefined }],
    ['X-B3-Sampled: 1', { 'x-b3-sampled': '1' }, 'b3multi', { sampled: true, debug: false }, { 'x-b3-sampled': '1', 'x-b3-flags': undefined }],
  ])('%s', (_name, headers, style, want, sent) => {
    const x = extractContext(headers, ALL);
    expect(x.context).toBeUndefined();
    expect(x.problems).toEqual([]);
    expect(x.incomingB3).toBe(style);
    expect(x.samplingOnly).toEqual({ ...want, format: style });

    const out: Record<string, string> = {};
    injectContext(out, newTraceFrom(x.samplingOnly!), ['w3c', style]);
    for (const [name, value] of Object.entries(sent)) expect(out[name], name).toBe(value);
    // W3C has no debug bit: debug goes out as sampled.
    expect(out.traceparent.slice(-2)).toBe(want.sampled ? '03' : '02');

    // The next hop reads the same decision (now with ids).
    const next = extractContext(out, [style]);
    expect(next.context).toMatchObject({ sampled: want.sampled, debug: want.debug, format: style });
  });

  it('a debug flag alone next to a W3C context is kept on that context', () => {
    for (const b3 of [{ b3: 'd' }, { 'x-b3-flags': '1' }]) {
      const x = extractContext({ traceparent: TP, ...b3 }, ALL);
      expect(x.context).toMatchObject({ traceId: TRACE, spanId: SPAN, format: 'w3c', sampled: false, debug: true });
      expect(x.samplingOnly).toBeUndefined();
    }
  });

  it('a plain 0/1 alone next to a W3C context defers to traceparent, which ranks first', () => {
    const x = extractContext({ traceparent: `00-${TRACE}-${SPAN}-01`, b3: '0' }, ALL);
    expect(x.context).toMatchObject({ sampled: true, debug: false, format: 'w3c' });
    expect(x.samplingOnly).toBeUndefined();
  });
});
