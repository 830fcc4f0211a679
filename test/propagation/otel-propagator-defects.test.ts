/*
 * Known defects in OpenTelemetry's JS propagators that tracecar must not repeat (issue 2).
 * One test each, named after the defect.
 */
import { describe, expect, it } from 'vitest';
import { extractContext, injectContext, type OutgoingContext, type TraceContext } from '../../src/propagation/index.js';

const T = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';
const CHILD = '1111111111111111';

/** What the proxy does: our span becomes a child of the caller's span, with the caller's trace. */
function child(ctx: TraceContext): OutgoingContext {
  return {
    traceId: ctx.traceId,
    spanId: CHILD,
    sampled: ctx.sampled ?? true,
    debug: ctx.debug,
    random: ctx.random,
    traceState: ctx.traceState,
    traceIdBits: ctx.traceIdBits,
    parentSpanId: ctx.spanId,
  };
}

describe('OpenTelemetry propagator defects, done right', () => {
  it('unanchored b3 parser: junk around a valid value is rejected', () => {
    for (const b3 of [`junk${T}-${S}-1`, `${T}-${S}-1junk`, `${T}-${S}-1-${P}-junk`, `xx ${T}-${S}-1`, `${T}${T}-${S}-1`]) {
      const r = extractContext({ b3 }, ['b3']);
      expect(r.context, b3).toBeUndefined();
      expect(r.problems[0], b3).toMatch(/^b3: /);
    }
  });

  it('sampling-only B3 keeps the deny decision (b3: 0 and X-B3-Sampled: 0 without ids)', () => {
    expect(extractContext({ b3: '0' }, ['b3', 'b3multi']).samplingOnly).toEqual({
      sampled: false,
      debug: false,
      format: 'b3',
    });
    expect(extractContext({ 'x-b3-sampled': '0' }, ['b3', 'b3multi']).samplingOnly).toEqual({
      sampled: false,
      debug: false,
      format: 'b3multi',
    });
  });

  it('an unparsable b3 falls back to X-B3-*', () => {
    const r = extractContext(
      { b3: `${T}-${S}-x`, 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' },
      ['b3', 'b3multi'],
    );
    expect(r.context).toMatchObject({ traceId: T, spanId: S, sampled: true, format: 'b3multi' });
    expect(r.incomingB3).toBe('b3multi');
    expect(r.problems).toEqual(['b3: SamplingState is not 0, 1 or d; trying X-B3-* headers']);
  });

  it('injection keeps ParentSpanId (single and multi)', () => {
    const incoming = extractContext({ b3: `${T}-${S}-1` }, ['b3']).context!;
    const out: Record<string, string> = {};
    injectContext(out, child(incoming), ['b3', 'b3multi']);
    expect(out.b3).toBe(`${T}-${CHILD}-1-${S}`);
    expect(out['x-b3-parentspanid']).toBe(S);
  });

  it('a 64-bit trace id goes back out as 16 hex, not padded to 128', () => {
    for (const [headers, format] of [
      [{ b3: `${T64}-${S}-1` }, 'b3'],
      [{ 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '1' }, 'b3multi'],
    ] as const) {
      const incoming = extractContext(headers, [format]).context!;
      expect(incoming.traceIdBits).toBe(64);
      const out: Record<string, string> = {};
      injectContext(out, child(incoming), [format]);
      if (format === 'b3') expect(out.b3).toBe(`${T64}-${CHILD}-1-${S}`);
      else expect(out['x-b3-traceid']).toBe(T64);
    }
  });

  it('the W3C random flag (0x02) survives onto child spans', () => {
    const incoming = extractContext({ traceparent: `00-${T}-${S}-03` }, ['w3c']).context!;
    expect(incoming.random).toBe(true);
    const out: Record<string, string> = {};
    injectContext(out, child(incoming), ['w3c']);
    expect(out.traceparent).toBe(`00-${T}-${CHILD}-03`);

    const unsampled = extractContext({ traceparent: `00-${T}-${S}-02` }, ['w3c']).context!;
    const out2: Record<string, string> = {};
    injectContext(out2, { ...child(unsampled), sampled: false }, ['w3c']);
    expect(out2.traceparent).toBe(`00-${T}-${CHILD}-02`);
  });

  it('an over-long tracestate is cut per spec (>128-char entries first, then from the end), not by size-skipping', () => {
    const e = (k: string, n: number) => `${k}=${'x'.repeat(n - k.length - 1)}`;
    // A size-based reader keeps a, big, b, c and skips d (the first member that no longer fits).
    const list = [e('a', 100), e('big', 200), e('b', 100), e('c', 100), e('d', 100)];
    const r = extractContext({ traceparent: `00-${T}-${S}-01`, tracestate: list.join(',') }, ['w3c']);
    expect(r.context?.traceState).toBe([list[0], list[2], list[3], list[4]].join(','));
    // And a valid list within limits is never silently shortened.
    const ok = Array.from({ length: 32 }, (_, i) => e(`k${i}`, 14)).join(',');
    expect(ok.length).toBe(32 * 14 + 31);
    expect(extractContext({ traceparent: `00-${T}-${S}-01`, tracestate: ok }, ['w3c']).context?.traceState).toBe(ok);
  });
});
