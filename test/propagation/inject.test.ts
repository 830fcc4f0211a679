import { describe, expect, it } from 'vitest';
import {
  extractContext,
  formatTraceresponse,
  injectContext,
  TRACE_HEADERS,
  type OutgoingContext,
} from '../../src/propagation/index.js';
import type { PropagationFormat } from '../../src/config/types.js';

const T = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const PAD = '0000000000000000';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';

const base: OutgoingContext = { traceId: T, spanId: S, sampled: true, debug: false, random: false, traceIdBits: 128 };

function inject(ctx: Partial<OutgoingContext>, formats: readonly PropagationFormat[]) {
  const target: Record<string, string> = {};
  injectContext(target, { ...base, ...ctx }, formats);
  return target;
}

describe('inject: W3C', () => {
  it.each([
    [{ sampled: true }, '01'],
    [{ sampled: false }, '00'],
    [{ sampled: true, random: true }, '03'],
    [{ sampled: false, random: true }, '02'],
    [{ sampled: false, debug: true }, '01'],
  ])('%o → flags %s', (ctx, flags) => {
    expect(inject(ctx, ['w3c'])).toEqual({ traceparent: `00-${T}-${S}-${flags}` });
  });

  it('writes tracestate when there is one', () => {
    expect(inject({ traceState: 'rojo=1,congo=2' }, ['w3c'])).toEqual({
      traceparent: `00-${T}-${S}-01`,
      tracestate: 'rojo=1,congo=2',
    });
  });

  it('a 64-bit trace id goes out as 32 hex in W3C', () => {
    expect(inject({ traceId: PAD + T64, traceIdBits: 64 }, ['w3c']).traceparent).toBe(`00-${PAD}${T64}-${S}-01`);
    expect(inject({ traceId: T64, traceIdBits: 64 }, ['w3c']).traceparent).toBe(`00-${PAD}${T64}-${S}-01`);
  });
});

describe('inject: B3', () => {
  it.each([
    [{ sampled: true }, `${T}-${S}-1`],
    [{ sampled: false }, `${T}-${S}-0`],
    [{ sampled: true, debug: true }, `${T}-${S}-d`],
    [{ sampled: true, parentSpanId: P }, `${T}-${S}-1-${P}`],
    [{ sampled: false, parentSpanId: P }, `${T}-${S}-0-${P}`],
    [{ traceId: PAD + T64, traceIdBits: 64 as const }, `${T64}-${S}-1`],
  ])('single %o → %s', (ctx, value) => {
    expect(inject(ctx, ['b3'])).toEqual({ b3: value });
  });

  it('multi: ids, parent when known, sampled', () => {
    expect(inject({ parentSpanId: P }, ['b3multi'])).toEqual({
      'x-b3-traceid': T,
      'x-b3-spanid': S,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
    });
    expect(inject({ sampled: false }, ['b3multi'])).toEqual({
      'x-b3-traceid': T,
      'x-b3-spanid': S,
      'x-b3-sampled': '0',
    });
  });

  it('multi: debug sends X-B3-Flags: 1 and not X-B3-Sampled', () => {
    const h = inject({ debug: true }, ['b3multi']);
    expect(h['x-b3-flags']).toBe('1');
    expect(h).not.toHaveProperty('x-b3-sampled');
  });

  it('multi: a 64-bit id goes out as 16 hex', () => {
    expect(inject({ traceId: PAD + T64, traceIdBits: 64 }, ['b3multi'])['x-b3-traceid']).toBe(T64);
  });

  it('traceIdBits 64 with a non-zero high half is sent whole (never loses bits)', () => {
    expect(inject({ traceIdBits: 64 }, ['b3']).b3).toBe(`${T}-${S}-1`);
  });

  it('all formats at once, lowercase names only', () => {
    const h = inject({ parentSpanId: P, random: true }, ['w3c', 'b3', 'b3multi']);
    expect(Object.keys(h).sort()).toEqual(
      ['b3', 'traceparent', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid'],
    );
    for (const k of Object.keys(h)) expect(TRACE_HEADERS).toContain(k);
  });
});

describe('inject → extract round trips', () => {
  const cases: Array<[string, Partial<OutgoingContext>, PropagationFormat]> = [
    ['w3c sampled+random with tracestate', { random: true, traceState: 'a=1' }, 'w3c'],
    ['w3c unsampled', { sampled: false }, 'w3c'],
    ['b3 debug with parent', { debug: true, parentSpanId: P }, 'b3'],
    ['b3 deny 64-bit', { sampled: false, traceId: PAD + T64, traceIdBits: 64 }, 'b3'],
    ['b3multi accept with parent', { parentSpanId: P }, 'b3multi'],
    ['b3multi debug 64-bit', { debug: true, traceId: PAD + T64, traceIdBits: 64 }, 'b3multi'],
  ];
  it.each(cases)('%s', (_name, ctx, format) => {
    const full = { ...base, ...ctx };
    const headers = inject(ctx, [format]);
    const r = extractContext(headers, [format]);
    expect(r.problems).toEqual([]);
    expect(r.context).toMatchObject({
      traceId: full.traceId,
      spanId: full.spanId,
      sampled: full.sampled || full.debug,
      debug: format === 'w3c' ? false : full.debug,
      random: format === 'w3c' ? full.random : false,
      traceIdBits: full.traceIdBits,
      format,
    });
    if (format !== 'w3c') expect(r.context?.parentSpanId).toBe(full.parentSpanId);
    if (format === 'w3c') expect(r.context?.traceState).toBe(full.traceState);
  });
});

describe('TRACE_HEADERS', () => {
  it('lists every header read or written', () => {
    expect([...TRACE_HEADERS].sort()).toEqual(
      ['b3', 'traceparent', 'tracestate', 'x-b3-flags', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid'],
    );
  });
});

describe('formatTraceresponse', () => {
  it('version 00, trace id, child id, flags', () => {
    expect(formatTraceresponse(T, S, true)).toBe(`00-${T}-${S}-01`);
    expect(formatTraceresponse(T, S, false)).toBe(`00-${T}-${S}-00`);
    expect(formatTraceresponse(T, S, true, true)).toBe(`00-${T}-${S}-03`);
  });

  it('pads a 64-bit trace id and parses back as a traceparent-shaped value', () => {
    const v = formatTraceresponse(T64, S, true);
    expect(v).toBe(`00-${PAD}${T64}-${S}-01`);
    expect(extractContext({ traceparent: v }, ['w3c']).problems).toEqual([]);
  });
});
