import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTraceparent, formatTraceparent } from '../../src/propagation/traceparent.js';
import { parseTracestate, TRACESTATE_MAX_LENGTH, TRACESTATE_MAX_MEMBERS } from '../../src/propagation/tracestate.js';
import { parseB3Single, parseB3Multi, formatB3Single } from '../../src/propagation/b3.js';
import { BAGGAGE_MAX_MEMBERS, BAGGAGE_MAX_BYTES } from '../../src/propagation/baggage.js';
import { CORRELATION_ID_MAX_LENGTH } from '../../src/propagation/correlation.js';
import { excerpt } from '../../src/propagation/excerpt.js';
import { extractContext, injectContext, parseBaggage, resolveCorrelationId, type OutgoingContext } from '../../src/propagation/index.js';
import type { PropagationFormat } from '../../src/config/types.js';

/*
 * Property-based tests for every propagation parser: whatever a caller sends, nothing throws,
 * what comes out is valid, problem messages are bounded and log-safe, and what the specs say
 * round-trips does (format(parse(x)) = x, inject → extract = identity). Inputs mix arbitrary
 * strings (any UTF-16 unit, lone surrogates included) with near-valid ones (a valid header with
 * a few characters changed), where parser bugs live.
 */

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters that matter to these grammars, plus controls, NEL, LS and a lone surrogate. */
const SHARP = ['-', ',', '=', ';', '@', '%', ' ', '\t', '0', '1', 'a', 'd', 'f', 'A', 'F', 'z', '\r', '\n', '\u0000', '\u0085', '\u2028', '\ud800', 'é'];
const anyChar = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(...SHARP),
);
const anyString = fc.oneof(fc.string({ unit: anyChar, maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }));

/** A valid string with up to 3 characters replaced, inserted or deleted. */
function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), anyChar);
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
    for (const [at, op, c] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + (op === 'insert' ? 1 : 0));
      s = op === 'replace' ? s.slice(0, i) + c + s.slice(i + 1) : op === 'insert' ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + s.slice(i + 1);
    }
    return s;
  });
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const nonZeroHex = (n: number) => hex(n).filter((s) => !/^0+$/.test(s));
const traceId = nonZeroHex(32);
const spanId = nonZeroHex(16);
const OWS = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });

const validTraceparent = fc
  .tuple(traceId, spanId, fc.constantFrom('00', '01', '02', '03'))
  .map(([t, s, f]) => `00-${t}-${s}-${f}`);

// W3C editor's draft tracestate grammar, written independently of the parser as the oracle.
const TS_KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
const TS_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const tsKey = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/@]{0,12}$/), fc.constantFrom('rojo', 'congo', 'foo', 'foo@bar', 'a'));
const tsValue = fc.oneof(fc.stringMatching(/^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,20}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/), fc.constantFrom('1', 't61rcWkgMzE', ' x'));
const tsMember = fc.tuple(tsKey, tsValue).map(([k, v]) => `${k}=${v}`);

const b3State = fc.constantFrom('0', '1', 'd');
const validB3 = fc
  .tuple(fc.oneof(nonZeroHex(16), traceId), spanId, fc.option(b3State, { nil: undefined }), fc.option(spanId, { nil: undefined }))
  .map(([t, s, state, p]) => [t, s, ...(state === undefined ? [] : [state, ...(p === undefined ? [] : [p])])].join('-'));

/** A log-safe string: no C0/C1 control, DEL, line/paragraph separator or lone surrogate. */
function assertLogSafe(s: string, maxLength: number): void {
  expect(s.length).toBeLessThanOrEqual(maxLength);
  // eslint-disable-next-line no-control-regex
  expect(s).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
  expect(s.isWellFormed()).toBe(true);
}

/** FC_RUNS=20000 for a longer hunt; the suite runs 300 per property (well under a second). */
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 300) };

// ---------------------------------------------------------------------------------------------

describe('excerpt: the one quoting function for header input', () => {
  it('is log-safe and bounded for any input; printable text within the bound comes back unchanged', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 1, max: 64 }), (s, max) => {
        const out = excerpt(s, max);
        // Each kept unit becomes at most 6 characters (\uXXXX), plus the "…(N chars)" note.
        assertLogSafe(out, max * 6 + 20);
        if (s.length <= max && /^[\x20-\x5b\x5d-\x7e]*$/.test(s)) expect(out).toBe(s);
      }),
      RUNS,
    );
  });
});

describe('traceparent', () => {
  it('never throws; anything accepted is a valid version 00 context', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, mutated(validTraceparent)), (raw) => {
        const r = parseTraceparent(raw);
        if (typeof r === 'string') {
          assertLogSafe(r, 200);
          return;
        }
        expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(r.traceId).not.toMatch(/^0+$/);
        expect(r.parentId).toMatch(/^[0-9a-f]{16}$/);
        expect(r.parentId).not.toMatch(/^0+$/);
        expect([0, 1, 2, 3]).toContain(r.flags);
        expect(r.version).not.toBe(0xff);
      }),
      RUNS,
    );
  });

  it('format(parse(x)) = x for every valid version 00 value, OWS around it ignored', () => {
    fc.assert(
      fc.property(validTraceparent, OWS, OWS, (tp, before, after) => {
        const r = parseTraceparent(before + tp + after);
        if (typeof r === 'string') throw new Error(r);
        expect(formatTraceparent(r.traceId, r.parentId, (r.flags & 1) === 1, (r.flags & 2) === 2)).toBe(tp);
      }),
      RUNS,
    );
  });

  it('a higher version is read for its first four fields and re-emitted as 00', () => {
    fc.assert(
      fc.property(validTraceparent, hex(2).filter((v) => v !== '00' && v !== 'ff'), fc.stringMatching(/^(-[a-z0-9]{0,20})?$/), (tp, version, rest) => {
        const r = parseTraceparent(version + tp.slice(2) + rest);
        if (typeof r === 'string') throw new Error(r);
        expect(formatTraceparent(r.traceId, r.parentId, (r.flags & 1) === 1, (r.flags & 2) === 2)).toBe(tp);
      }),
      RUNS,
    );
  });
});

describe('tracestate (editor\'s draft grammar as the oracle)', () => {
  /** What the draft says the kept list is, computed the simple way. */
  function expected(members: string[]): { valid: boolean; unique: string[] } {
    const trimmed = members.map((m) => m.replace(/^[ \t]+|[ \t]+$/g, '')).filter((m) => m !== '');
    const valid =
      trimmed.length <= TRACESTATE_MAX_MEMBERS &&
      trimmed.every((m) => {
        const eq = m.indexOf('=');
        return eq > 0 && TS_KEY.test(m.slice(0, eq)) && TS_VALUE.test(m.slice(eq + 1));
      });
    const seen = new Set<string>();
    const unique = trimmed.filter((m) => {
      const key = m.slice(0, m.indexOf('='));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return { valid, unique };
  }

  const memberLike = fc.oneof(
    { weight: 6, arbitrary: tsMember },
    { weight: 2, arbitrary: fc.tuple(OWS, tsMember, OWS).map((p) => p.join('')) },
    { weight: 1, arbitrary: OWS },
    { weight: 1, arbitrary: mutated(tsMember) },
    { weight: 1, arbitrary: fc.constantFrom('foo=1', 'foo=2', 'rojo=x') },
  );

  it('never throws; the kept list is valid, unique, ≤ 32 members and ≤ 512 characters, and matches the oracle', () => {
    fc.assert(
      fc.property(fc.array(memberLike, { maxLength: 40 }), (members) => {
        const header = members.join(',');
        const r = parseTracestate(header);
        if (r.problem !== undefined) assertLogSafe(r.problem, 700);
        // A mutated member may hold a "," of its own: the oracle splits the header as sent.
        const want = expected(header.split(','));
        if (!want.valid) {
          expect(r.value).toBeUndefined();
          return;
        }
        if (want.unique.join(',').length <= TRACESTATE_MAX_LENGTH) {
          expect(r.value).toBe(want.unique.length > 0 ? want.unique.join(',') : undefined);
        } else {
          // Truncated by whole entries: a subsequence of the unique list, in order, that fits.
          const kept = r.value?.split(',') ?? [];
          expect(r.value?.length ?? 0).toBeLessThanOrEqual(TRACESTATE_MAX_LENGTH);
          let from = 0;
          for (const m of kept) {
            const at = want.unique.indexOf(m, from);
            expect(at).toBeGreaterThanOrEqual(from);
            from = at + 1;
          }
        }
      }),
      RUNS,
    );
  });

  it('arbitrary input: never throws, never keeps anything outside the grammar', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.array(anyString, { maxLength: 4 })), (raw) => {
        const r = parseTracestate(raw);
        if (r.problem !== undefined) assertLogSafe(r.problem, 700);
        if (r.value === undefined) return;
        const members = r.value.split(',');
        expect(members.length).toBeLessThanOrEqual(TRACESTATE_MAX_MEMBERS);
        for (const m of members) {
          const eq = m.indexOf('=');
          expect(TS_KEY.test(m.slice(0, eq)) && TS_VALUE.test(m.slice(eq + 1)), m).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('is idempotent, and splitting a list over several header fields changes nothing', () => {
    fc.assert(
      fc.property(fc.array(memberLike, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 4 }), (members, cuts) => {
        const once = parseTracestate(members.join(','));
        if (once.value !== undefined) expect(parseTracestate(once.value)).toEqual({ value: once.value });
        const points = [...new Set(cuts.map((c) => c % (members.length + 1)))].sort((a, b) => a - b);
        const fields: string[] = [];
        let from = 0;
        for (const p of [...points, members.length]) {
          fields.push(members.slice(from, p).join(','));
          from = p;
        }
        expect(parseTracestate(fields).value).toBe(once.value);
      }),
      RUNS,
    );
  });
});

describe('B3 single', () => {
  it('never throws; ids accepted are valid lower-hex, non-zero', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, mutated(validB3), fc.array(anyString, { maxLength: 3 })), (raw) => {
        const r = parseB3Single(raw);
        if (typeof r === 'string') {
          assertLogSafe(r, 200);
          return;
        }
        if (r.debug) expect(r.sampled).toBe(true);
        if (r.ids === undefined) return;
        expect(r.ids.traceId).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32})$/);
        expect(r.ids.traceId).not.toMatch(/^0+$/);
        expect(r.ids.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(r.ids.spanId).not.toMatch(/^0+$/);
        if (r.ids.parentSpanId !== undefined) expect(r.ids.parentSpanId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
      }),
      RUNS,
    );
  });

  it('format(parse(x)) = x for every valid value that carries a sampling state', () => {
    fc.assert(
      fc.property(validB3.filter((v) => v.split('-').length >= 3), OWS, OWS, (b3, before, after) => {
        const r = parseB3Single(before + b3 + after);
        if (typeof r === 'string' || r.ids === undefined) throw new Error(String(r));
        expect(formatB3Single(r.ids.traceId, r.ids.spanId, r.sampled === true, r.debug, r.ids.parentSpanId)).toBe(b3);
      }),
      RUNS,
    );
  });
});

describe('B3 multi', () => {
  const field = fc.oneof(anyString, hex(16), hex(32), fc.constantFrom('0', '1', 'd', 'true', 'false', 'True'), mutated(hex(16)));
  const bag = fc.record(
    {
      'x-b3-traceid': fc.oneof(field, fc.array(field, { maxLength: 3 })),
      'x-b3-spanid': fc.oneof(field, fc.array(field, { maxLength: 3 })),
      'x-b3-parentspanid': field,
      'x-b3-sampled': field,
      'x-b3-flags': field,
    },
    { requiredKeys: [] },
  );

  it('never throws; ids are valid; every problem is bounded and log-safe', () => {
    fc.assert(
      fc.property(bag, (headers) => {
        const r = parseB3Multi(headers);
        if (r === undefined) return;
        for (const p of r.problems ?? []) assertLogSafe(p, 200);
        expect((r.problems ?? []).length).toBeLessThanOrEqual(5);
        if (r.debug) expect(r.sampled).toBe(true);
        if (r.ids) {
          expect(r.ids.traceId).toMatch(/^(?!0+$)([0-9a-f]{16}|[0-9a-f]{32})$/);
          expect(r.ids.spanId).toMatch(/^(?!0+$)[0-9a-f]{16}$/);
        }
      }),
      RUNS,
    );
  });
});

describe('extract over every format at once', () => {
  const headerBag = fc.dictionary(
    fc.constantFrom('traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags', 'x-b3-parentspanid'),
    fc.oneof(anyString, mutated(validTraceparent), mutated(validB3), fc.array(anyString, { maxLength: 3 })),
  );
  const formats = fc.shuffledSubarray<PropagationFormat>(['w3c', 'b3', 'b3multi'], { minLength: 1 });

  it('never throws; the context is always valid; problems are few, bounded and log-safe', () => {
    fc.assert(
      fc.property(headerBag, formats, (headers, order) => {
        const x = extractContext(headers, order);
        expect(x.problems.length).toBeLessThanOrEqual(8);
        for (const p of x.problems) assertLogSafe(p, 800);
        if (x.context) {
          expect(x.context.traceId).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
          expect(x.context.spanId).toMatch(/^(?!0+$)[0-9a-f]{16}$/);
          expect(x.samplingOnly).toBeUndefined();
          if (x.context.traceState !== undefined) expect(parseTracestate(x.context.traceState)).toEqual({ value: x.context.traceState });
        }
      }),
      RUNS,
    );
  });

  const outgoing: fc.Arbitrary<OutgoingContext> = fc
    .record({
      bits: fc.constantFrom<64 | 128>(64, 128),
      traceId,
      short: nonZeroHex(16),
      spanId,
      sampled: fc.boolean(),
      debug: fc.boolean(),
      random: fc.boolean(),
      traceState: fc.option(fc.uniqueArray(tsMember, { maxLength: 5, selector: (m) => m.slice(0, m.indexOf('=')) }).map((m) => m.join(',')), { nil: undefined }),
      parentSpanId: fc.option(spanId, { nil: undefined }),
    })
    .map((r) => ({
      traceId: r.bits === 64 ? '0000000000000000' + r.short : r.traceId,
      spanId: r.spanId,
      sampled: r.sampled,
      debug: r.debug,
      random: r.random,
      traceIdBits: r.bits,
      ...(r.traceState ? { traceState: r.traceState } : {}),
      ...(r.parentSpanId ? { parentSpanId: r.parentSpanId } : {}),
    }));

  it('inject → extract is the identity for what each format carries', () => {
    fc.assert(
      fc.property(outgoing, fc.constantFrom<PropagationFormat>('w3c', 'b3', 'b3multi'), (ctx, format) => {
        const headers: Record<string, string> = {};
        injectContext(headers, ctx, [format]);
        // Nothing injected can start a new header line.
        for (const v of Object.values(headers)) expect(v).toMatch(/^[\x20-\x7e]*$/);
        const x = extractContext(headers, [format]);
        expect(x.problems).toEqual([]);
        const c = x.context!;
        expect(c.traceId).toBe(ctx.traceId);
        expect(c.spanId).toBe(ctx.spanId);
        expect(c.format).toBe(format);
        if (format === 'w3c') {
          // W3C has no debug bit: debug goes out as sampled.
          expect(c.sampled).toBe(ctx.sampled || ctx.debug);
          expect(c.random).toBe(ctx.random);
          expect(c.traceState).toBe(ctx.traceState || undefined);
        } else {
          expect(c.sampled).toBe(ctx.sampled || ctx.debug);
          expect(c.debug).toBe(ctx.debug);
          expect(c.traceIdBits).toBe(ctx.traceIdBits === 64 && ctx.traceId.startsWith('0000000000000000') ? 64 : 128);
          expect(c.parentSpanId).toBe(ctx.parentSpanId);
        }
      }),
      RUNS,
    );
  });
});

describe('baggage', () => {
  const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
  const text = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => s.isWellFormed());

  it('never throws; at most 180 entries, keys are tokens, all read from the first 8192 characters', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.array(anyString, { maxLength: 3 }), fc.array(mutated(fc.tuple(token, token).map(([k, v]) => `${k}=${v}`))).map((m) => m.join(','))), (raw) => {
        const m = parseBaggage(raw);
        expect(m.size).toBeLessThanOrEqual(BAGGAGE_MAX_MEMBERS);
        for (const key of m.keys()) expect(key).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
        const joined = typeof raw === 'string' ? raw : raw.join(',');
        for (const key of m.keys()) expect(joined.indexOf(key)).toBeLessThan(BAGGAGE_MAX_BYTES);
      }),
      RUNS,
    );
  });

  it('encode → parse is the identity (percent-encoded UTF-8 values, OWS and properties ignored)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(token, text), { maxLength: 20, selector: ([k]) => k }), OWS, fc.boolean(), (entries, ows, props) => {
        const header = entries.map(([k, v]) => `${ows}${k}${ows}=${ows}${encodeURIComponent(v)}${props ? ';p=1' : ''}${ows}`).join(',');
        expect(Object.fromEntries(parseBaggage(header))).toEqual(Object.fromEntries(entries));
      }),
      RUNS,
    );
  });
});

describe('correlation id', () => {
  const NAMES = ['x-request-id', 'x-correlation-id'];
  const value = fc.oneof(anyString, fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), fc.array(anyString, { maxLength: 3 }));

  it('never throws; an id kept is exactly what was sent, ≤ 256 and free of controls; a rejected one is quoted log-safe', () => {
    fc.assert(
      fc.property(fc.record({ 'x-request-id': value, 'x-correlation-id': value }, { requiredKeys: [] }), (headers) => {
        const c = resolveCorrelationId(headers, NAMES, () => 'generated');
        if (c.source === 'incoming') {
          const raw = headers[c.header as 'x-request-id']!;
          expect(c.id).toBe(typeof raw === 'string' ? raw : raw[0]);
          expect(c.id.length).toBeGreaterThan(0);
          expect(c.id.length).toBeLessThanOrEqual(CORRELATION_ID_MAX_LENGTH);
          // eslint-disable-next-line no-control-regex
          expect(c.id).not.toMatch(/[\x00-\x1f\x7f]/);
        } else {
          expect(c.id).toBe('generated');
          if (c.source === 'replaced') assertLogSafe(c.rejected!, 128 * 6 + 20);
          else expect(c.rejected).toBeUndefined();
        }
      }),
      RUNS,
    );
  });
});
