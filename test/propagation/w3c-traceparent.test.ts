import { describe, expect, it } from 'vitest';
import { extractContext } from '../../src/propagation/index.js';
import type { PropagationFormat } from '../../src/config/types.js';

const W3C: readonly PropagationFormat[] = ['w3c'];
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

function extract(traceparent: string | string[], tracestate?: string | string[]) {
  return extractContext({ traceparent, tracestate }, W3C);
}

describe('W3C traceparent: accepted', () => {
  it.each([
    ['version 00, sampled', `00-${T}-${S}-01`, { sampled: true, random: false }],
    ['version 00, not sampled', `00-${T}-${S}-00`, { sampled: false, random: false }],
    ['Level 2 random flag only', `00-${T}-${S}-02`, { sampled: false, random: true }],
    ['sampled + random', `00-${T}-${S}-03`, { sampled: true, random: true }],
    ['unknown flag bits are masked, sampled kept', `00-${T}-${S}-09`, { sampled: true, random: false }],
    ['all flags set', `00-${T}-${S}-ff`, { sampled: true, random: true }],
    ['future version, exactly 55 chars', `cc-${T}-${S}-01`, { sampled: true, random: false }],
    ['future version with extra fields', `cc-${T}-${S}-01-what-the-future-will-be-like`, { sampled: true, random: false }],
    ['future version, flags + extra field', `01-${T}-${S}-03-xyz`, { sampled: true, random: true }],
    ['leading OWS', ` \t00-${T}-${S}-01`, { sampled: true, random: false }],
    ['trailing OWS', `00-${T}-${S}-01 \t`, { sampled: true, random: false }],
  ])('%s', (_name, header, flags) => {
    const r = extract(header);
    expect(r.problems).toEqual([]);
    expect(r.context).toEqual({
      traceId: T,
      spanId: S,
      sampled: flags.sampled,
      debug: false,
      random: flags.random,
      traceIdBits: 128,
      format: 'w3c',
    });
  });

  it('accepts a one-element array', () => {
    expect(extract([`00-${T}-${S}-01`]).context?.traceId).toBe(T);
  });
});

describe('W3C traceparent: rejected (new trace, problem recorded)', () => {
  it.each([
    ['empty', '', 'empty value'],
    ['version ff', `ff-${T}-${S}-01`, 'version ff is forbidden'],
    ['version uppercase', `CC-${T}-${S}-01`, 'version is not lowercase hex'],
    ['version illegal char', `.0-${T}-${S}-01`, 'version is not 2 hex digits'],
    ['version too long', `000-${T}-${S}-01`, 'version is not 2 hex digits'],
    ['version too short', `0-${T}-${S}-01`, 'version is not 2 hex digits'],
    ['version 00 with trailing char', `00-${T}-${S}-01.`, 'exactly 55 characters'],
    ['version 00 with extra field', `00-${T}-${S}-01-what-the-future-will-be-like`, 'exactly 55 characters'],
    ['future version, flags not followed by dash', `cc-${T}-${S}-01.what-the-future-will-be-like`, 'followed by "-"'],
    ['future version shorter than 55', `cc-${T}-${S}-1`, 'shorter than 55'],
    ['trace-id all zeros', `00-${'0'.repeat(32)}-${S}-01`, 'trace-id is all zeros'],
    ['parent-id all zeros', `00-${T}-${'0'.repeat(16)}-01`, 'parent-id is all zeros'],
    ['trace-id uppercase', `00-${T.toUpperCase()}-${S}-01`, 'trace-id is not lowercase hex'],
    ['parent-id uppercase', `00-${T}-00F067AA0BA902B7-01`, 'parent-id is not lowercase hex'],
    ['flags uppercase', `00-${T}-${S}-0A`, 'trace-flags is not lowercase hex'],
    ['trace-id illegal char', `00-.${T.slice(1)}-${S}-01`, 'trace-id'],
    ['trace-id too long', `00-${T}1-${S}-01`, 'exactly 55'],
    ['trace-id too short', `00-${T.slice(1)}-${S}-01`, 'exactly 55'],
    ['trace-id too long, future version', `cc-${T}1-${S}-01`, 'trace-id'],
    ['parent-id illegal char', `00-${T}-${S.slice(0, 15)}.-01`, 'parent-id'],
    ['parent-id too short', `00-${T}-${S.slice(1)}-01`, 'exactly 55'],
    ['flags illegal char', `00-${T}-${S}-.0`, 'trace-flags'],
    ['flags too long', `00-${T}-${S}-001`, 'exactly 55'],
    ['flags too short', `00-${T}-${S}-1`, 'exactly 55'],
    ['wrong separators', `00_${T}_${S}_01`, 'version'],
    ['two values joined by node', `00-${T}-${S}-01, 00-${T}-${S}-01`, 'multiple traceparent values'],
  ])('%s', (_name, header, reason) => {
    const r = extract(header);
    expect(r.context).toBeUndefined();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^traceparent: /);
    expect(r.problems[0]).toContain(reason);
  });

  it('multiple traceparent headers (array) → invalid, even when both are valid', () => {
    const r = extract([`00-${T}-${S}-01`, `00-${T.replace('4', '5')}-${S}-01`]);
    expect(r.context).toBeUndefined();
    expect(r.problems).toEqual(['traceparent: multiple traceparent headers']);
  });

  it('an invalid traceparent means tracestate is not parsed at all', () => {
    const r = extract(`00-${'0'.repeat(32)}-${S}-01`, 'congo=t61rcWkgMzE');
    expect(r.context).toBeUndefined();
    expect(r.problems).toEqual([
      'traceparent: trace-id is all zeros',
      'tracestate: ignored because traceparent is invalid',
    ]);
  });

  it('tracestate without traceparent is ignored', () => {
    const r = extractContext({ tracestate: 'foo=1' }, W3C);
    expect(r.context).toBeUndefined();
    expect(r.problems).toEqual(['tracestate: ignored without a traceparent']);
  });

  it('no headers → no context, no problems', () => {
    expect(extractContext({}, W3C)).toEqual({ problems: [] });
  });

  it('never throws on hostile input', () => {
    const inputs = ['-', '--', '00-', '\u0000'.repeat(60), 'é'.repeat(55), '0'.repeat(10_000), `00-${T}-${S}-0\u0661`];
    for (const v of inputs) expect(() => extract(v)).not.toThrow();
  });
});
