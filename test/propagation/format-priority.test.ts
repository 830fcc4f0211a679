import { describe, expect, it } from 'vitest';
import { extractContext } from '../../src/propagation/index.js';

const TW = '4bf92f3577b34da6a3ce929d0e0e4736';
const SW = '00f067aa0ba902b7';
const TB = '80f198ee56343ba864fe8b2a57d3eff7';
const SB = 'e457b5a2e4d86bd1';
const SM = 'a2fb4a1d1a96d312';

const traceparent = `00-${TW}-${SW}-01`;
const b3 = `${TB}-${SB}-1`;
const multi = { 'x-b3-traceid': TB, 'x-b3-spanid': SM, 'x-b3-sampled': '1' };

describe('extract: format priority', () => {
  it('both W3C and B3 valid: the first format in the list wins', () => {
    expect(extractContext({ traceparent, b3 }, ['w3c', 'b3', 'b3multi']).context?.format).toBe('w3c');
    expect(extractContext({ traceparent, b3 }, ['b3', 'w3c']).context?.format).toBe('b3');
    expect(extractContext({ traceparent, ...multi }, ['b3multi', 'w3c']).context?.format).toBe('b3multi');
  });

  it('the B3 style is reported even when W3C won, so injection can answer in kind', () => {
    const r = extractContext({ traceparent, b3 }, ['w3c', 'b3', 'b3multi']);
    expect(r.context?.spanId).toBe(SW);
    expect(r.incomingB3).toBe('b3');
    expect(extractContext({ traceparent, ...multi }, ['w3c', 'b3', 'b3multi']).incomingB3).toBe('b3multi');
  });

  it('an invalid higher-priority format falls through to the next', () => {
    const r = extractContext({ traceparent: `00-${'0'.repeat(32)}-${SW}-01`, b3 }, ['w3c', 'b3']);
    expect(r.context?.format).toBe('b3');
    expect(r.problems).toEqual(['traceparent: trace-id is all zeros']);
  });

  it('a B3 decision without ids does not hide a valid traceparent', () => {
    const r = extractContext({ traceparent, b3: '0' }, ['b3', 'w3c']);
    expect(r.context?.format).toBe('w3c');
    expect(r.samplingOnly).toBeUndefined();
    expect(r.incomingB3).toBe('b3');
  });

  it('a valid single b3 wins over X-B3-*, whatever the list order', () => {
    for (const formats of [['b3', 'b3multi'], ['b3multi', 'b3']] as const) {
      const r = extractContext({ b3, ...multi }, formats);
      expect(r.context).toMatchObject({ format: 'b3', spanId: SB });
      expect(r.incomingB3).toBe('b3');
    }
  });

  it('a disabled format is not read', () => {
    expect(extractContext({ traceparent }, ['b3', 'b3multi'])).toEqual({ problems: [] });
    expect(extractContext({ b3, ...multi }, ['w3c'])).toEqual({ problems: [] });
    const onlyMulti = extractContext({ b3, ...multi }, ['b3multi']);
    expect(onlyMulti.context?.format).toBe('b3multi');
    const onlySingle = extractContext({ b3: 'junk', ...multi }, ['b3']);
    expect(onlySingle.context).toBeUndefined();
    expect(onlySingle.problems).toEqual(['b3: TraceId is not 16 or 32 lower-hex characters']);
  });

  it('accepts node IncomingHttpHeaders-shaped input with unrelated headers', () => {
    const r = extractContext({ host: 'x', 'user-agent': 'curl', traceparent, 'set-cookie': ['a=1'] }, ['w3c']);
    expect(r.context?.traceId).toBe(TW);
  });
});
