import { describe, expect, it } from 'vitest';
import { extractContext } from '../../src/propagation/index.js';
import type { PropagationFormat } from '../../src/config/types.js';

const B3: readonly PropagationFormat[] = ['b3', 'b3multi'];
const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';
const PAD = '0000000000000000';

interface Want {
  traceId: string;
  bits: number;
  sampled: boolean | undefined;
  debug: boolean;
  parent?: string;
}

describe('B3 single header: accepted', () => {
  it.each<[string, string, Want]>([
    ['ids only (defer)', `${T128}-${S}`, { traceId: T128, bits: 128, sampled: undefined, debug: false }],
    ['accept', `${T128}-${S}-1`, { traceId: T128, bits: 128, sampled: true, debug: false }],
    ['deny', `${T128}-${S}-0`, { traceId: T128, bits: 128, sampled: false, debug: false }],
    ['debug', `${T128}-${S}-d`, { traceId: T128, bits: 128, sampled: true, debug: true }],
    ['with parent', `${T128}-${S}-1-${P}`, { traceId: T128, bits: 128, sampled: true, debug: false, parent: P }],
    ['64-bit trace id', `${T64}-${S}-1`, { traceId: PAD + T64, bits: 64, sampled: true, debug: false }],
    ['64-bit with parent', `${T64}-${S}-0-${P}`, { traceId: PAD + T64, bits: 64, sampled: false, debug: false, parent: P }],
    ['OWS around value', ` ${T128}-${S}-1 `, { traceId: T128, bits: 128, sampled: true, debug: false }],
  ])('%s', (_name, b3, want) => {
    const r = extractContext({ b3 }, B3);
    expect(r.problems).toEqual([]);
    expect(r.incomingB3).toBe('b3');
    expect(r.samplingOnly).toBeUndefined();
    expect(r.context).toEqual({
      traceId: want.traceId,
      spanId: S,
      sampled: want.sampled,
      debug: want.debug,
      random: false,
      traceIdBits: want.bits,
      format: 'b3',
      ...(want.parent ? { parentSpanId: want.parent } : {}),
    });
  });

  it.each([
    ['0', { sampled: false, debug: false }],
    ['1', { sampled: true, debug: false }],
    ['d', { sampled: true, debug: true }],
  ])('sampling-only b3: %s', (b3, want) => {
    const r = extractContext({ b3 }, B3);
    expect(r.context).toBeUndefined();
    expect(r.samplingOnly).toEqual({ ...want, format: 'b3' });
    expect(r.incomingB3).toBe('b3');
    expect(r.problems).toEqual([]);
  });
});

describe('B3 single header: rejected', () => {
  it.each([
    ['empty', '', 'empty value'],
    ['unknown sampling-only state', '2', 'unknown sampling state'],
    ['uppercase trace id', `${T128.toUpperCase()}-${S}-1`, 'TraceId'],
    ['uppercase span id', `${T128}-${S.toUpperCase()}-1`, 'SpanId'],
    ['trace id 24 hex', `${T128.slice(8)}-${S}-1`, 'TraceId'],
    ['trace id all zeros', `${'0'.repeat(32)}-${S}-1`, 'TraceId is all zeros'],
    ['64-bit trace id all zeros', `${'0'.repeat(16)}-${S}-1`, 'TraceId is all zeros'],
    ['span id all zeros', `${T128}-${'0'.repeat(16)}-1`, 'SpanId is all zeros'],
    ['span id short', `${T128}-${S.slice(1)}-1`, 'SpanId'],
    ['sampling state "true"', `${T128}-${S}-true`, 'SamplingState is not 0, 1 or d'],
    ['sampling state 2', `${T128}-${S}-2`, 'SamplingState'],
    ['parent without sampling state', `${T128}-${S}-${P}`, 'unexpected characters after SamplingState'],
    ['parent all zeros', `${T128}-${S}-1-${'0'.repeat(16)}`, 'ParentSpanId is all zeros'],
    ['parent short', `${T128}-${S}-1-${P.slice(1)}`, 'ParentSpanId'],
    ['junk after parent', `${T128}-${S}-1-${P}-x`, 'ParentSpanId'],
    ['junk before', `x${T128}-${S}-1`, 'TraceId'],
    ['junk after span', `${T128}-${S}x`, 'unexpected characters after SpanId'],
    ['two values joined', `${T128}-${S}-1, ${T128}-${S}-1`, 'unexpected characters after SamplingState'],
  ])('%s', (_name, b3, reason) => {
    const r = extractContext({ b3 }, ['b3']);
    expect(r.context).toBeUndefined();
    expect(r.samplingOnly).toBeUndefined();
    expect(r.incomingB3).toBe('b3');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^b3: /);
    expect(r.problems[0]).toContain(reason);
  });

  it('multiple b3 headers (array) are rejected', () => {
    const r = extractContext({ b3: [`${T128}-${S}-1`, `${T128}-${S}-1`] }, ['b3']);
    expect(r.context).toBeUndefined();
    expect(r.problems).toEqual(['b3: multiple b3 headers']);
  });
});

describe('B3 multi headers', () => {
  const ids = { 'x-b3-traceid': T128, 'x-b3-spanid': S };

  it.each([
    ['ids only (defer)', {}, { sampled: undefined, debug: false }],
    ['sampled 1', { 'x-b3-sampled': '1' }, { sampled: true, debug: false }],
    ['sampled 0', { 'x-b3-sampled': '0' }, { sampled: false, debug: false }],
    ['legacy sampled true', { 'x-b3-sampled': 'true' }, { sampled: true, debug: false }],
    ['legacy sampled false', { 'x-b3-sampled': 'false' }, { sampled: false, debug: false }],
    ['legacy sampled True (case)', { 'x-b3-sampled': 'True' }, { sampled: true, debug: false }],
    ['debug flag', { 'x-b3-flags': '1' }, { sampled: true, debug: true }],
    ['debug wins over sampled 0', { 'x-b3-flags': '1', 'x-b3-sampled': '0' }, { sampled: true, debug: true }],
    ['flags 0 is not debug', { 'x-b3-flags': '0', 'x-b3-sampled': '1' }, { sampled: true, debug: false }],
  ])('%s', (_name, extra, want) => {
    const r = extractContext({ ...ids, ...extra }, B3);
    expect(r.problems).toEqual([]);
    expect(r.incomingB3).toBe('b3multi');
    expect(r.context).toEqual({
      traceId: T128,
      spanId: S,
      sampled: want.sampled,
      debug: want.debug,
      random: false,
      traceIdBits: 128,
      format: 'b3multi',
    });
  });

  it('keeps a valid ParentSpanId', () => {
    const r = extractContext({ ...ids, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' }, B3);
    expect(r.context?.parentSpanId).toBe(P);
  });

  it('64-bit trace id is padded for the context and marked 64', () => {
    const r = extractContext({ 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '1' }, B3);
    expect(r.context?.traceId).toBe(PAD + T64);
    expect(r.context?.traceIdBits).toBe(64);
  });

  it('"the first value wins" for repeated headers (array or node-joined)', () => {
    const r = extractContext({ 'x-b3-traceid': [T128, T64], 'x-b3-spanid': `${S}, ${P}`, 'x-b3-sampled': '0, 1' }, B3);
    expect(r.context).toMatchObject({ traceId: T128, spanId: S, sampled: false });
    expect(r.problems).toEqual([]);
  });

  it.each([
    ['X-B3-Sampled: 0', { 'x-b3-sampled': '0' }, { sampled: false, debug: false }],
    ['X-B3-Sampled: 1', { 'x-b3-sampled': '1' }, { sampled: true, debug: false }],
    ['X-B3-Flags: 1', { 'x-b3-flags': '1' }, { sampled: true, debug: true }],
  ])('sampling-only %s', (_name, headers, want) => {
    const r = extractContext(headers, B3);
    expect(r.context).toBeUndefined();
    expect(r.samplingOnly).toEqual({ ...want, format: 'b3multi' });
    expect(r.incomingB3).toBe('b3multi');
    expect(r.problems).toEqual([]);
  });

  it.each([
    ['trace id missing', { 'x-b3-spanid': S, 'x-b3-sampled': '0' }, 'without X-B3-TraceId'],
    ['span id missing', { 'x-b3-traceid': T128, 'x-b3-sampled': '0' }, 'without X-B3-SpanId'],
    ['trace id uppercase', { ...ids, 'x-b3-traceid': T128.toUpperCase(), 'x-b3-sampled': '0' }, 'X-B3-TraceId'],
    ['trace id all zeros', { ...ids, 'x-b3-traceid': '0'.repeat(32), 'x-b3-sampled': '0' }, 'X-B3-TraceId'],
    ['span id all zeros', { ...ids, 'x-b3-spanid': '0'.repeat(16), 'x-b3-sampled': '0' }, 'X-B3-SpanId'],
    ['trace id 20 hex', { ...ids, 'x-b3-traceid': T128.slice(12), 'x-b3-sampled': '0' }, 'X-B3-TraceId'],
  ])('bad ids (%s): no context, but the deny decision survives', (_name, headers, reason) => {
    const r = extractContext(headers, B3);
    expect(r.context).toBeUndefined();
    expect(r.samplingOnly).toEqual({ sampled: false, debug: false, format: 'b3multi' });
    expect(r.problems.join('\n')).toContain(reason);
  });

  it('bad ParentSpanId is dropped, the rest is kept', () => {
    const r = extractContext({ ...ids, 'x-b3-parentspanid': 'nope', 'x-b3-sampled': '1' }, B3);
    expect(r.context).toMatchObject({ traceId: T128, spanId: S, sampled: true });
    expect(r.context?.parentSpanId).toBeUndefined();
    expect(r.problems).toEqual(['x-b3-*: X-B3-ParentSpanId is not 16 lower-hex characters (non-zero)']);
  });

  it('unknown X-B3-Sampled / X-B3-Flags values are reported and ignored', () => {
    const r = extractContext({ ...ids, 'x-b3-sampled': 'yes', 'x-b3-flags': '2' }, B3);
    expect(r.context).toMatchObject({ sampled: undefined, debug: false });
    expect(r.problems).toHaveLength(2);
  });

  it('nothing usable at all: no context, no decision, but the B3 style is still reported', () => {
    const r = extractContext({ 'x-b3-sampled': 'maybe' }, B3);
    expect(r.context).toBeUndefined();
    expect(r.samplingOnly).toBeUndefined();
    expect(r.incomingB3).toBe('b3multi');
  });
});
