import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileHostGlob, compileMatch, compilePathGlob } from '../../src/match/index.js';
import type { MatchInput } from '../../src/match/index.js';

/*
 * Property-based tests for the request matchers sampling and chaos share: globs compiled from any
 * pattern never throw and agree with a small reference matcher written the obvious (recursive,
 * slow) way; header, method and baggage conditions hold exactly when the request carries what
 * the rule names.
 */
/** FC_RUNS=20000 for a longer hunt; the suite runs 300 per property. */
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 300) };

const anyString = fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('/', '*', '?', '#', '.', ':', '[', ']')), maxLength: 40 });

// ---------------------------------------------------------------------------------------------
// Reference matchers

/** `*` inside a segment or label: any run of characters (the caller keeps it within one). */
function wildcard(pattern: string, s: string, star: (c: string) => boolean): boolean {
  if (pattern === '') return s === '';
  if (pattern[0] === '*') {
    for (let k = 0; k <= s.length; k++) {
      if (wildcard(pattern.slice(1), s.slice(k), star)) return true;
      if (k < s.length && !star(s[k])) return false;
    }
    return false;
  }
  return s !== '' && s[0] === pattern[0] && wildcard(pattern.slice(1), s.slice(1), star);
}

function refPath(pattern: string, path: string): boolean {
  const cut = path.search(/[?#]/);
  const p = cut === -1 ? path : path.slice(0, cut);
  if (!pattern.includes('*')) return p === pattern;
  const ps = pattern.split('/');
  const xs = p.split('/');
  const go = (i: number, j: number): boolean => {
    if (i === ps.length) return j === xs.length;
    if (ps[i] === '**') {
      for (let k = j; k <= xs.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    if (j === xs.length) return false;
    const ok = ps[i] === '*' ? xs[j] !== '' : wildcard(ps[i], xs[j], () => true);
    return ok && go(i + 1, j + 1);
  };
  return go(0, 0);
}

function refHost(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const portOf = (h: string) => /:\d*$/.test(h) && !h.endsWith(']');
  const h = (portOf(p) ? host : host.replace(/:\d*$/, '')).toLowerCase();
  if (p === '*') return true;
  if (p[0] === '*') {
    // A leading "*" is any non-empty prefix (dots included); later ones stay within a label.
    for (let k = 1; k <= h.length; k++) if (wildcard(p.slice(1), h.slice(k), (c) => c !== '.')) return true;
    return false;
  }
  return wildcard(p, h, (c) => c !== '.');
}

// ---------------------------------------------------------------------------------------------

describe('path glob', () => {
  const seg = fc.constantFrom('a', 'b', 'ab', '', '*', '**', 'a*', '*b', 'a*b', '.', 'v1.0', '(x)');
  const pattern = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => '/' + s.join('/'));
  const pathSeg = fc.constantFrom('a', 'b', 'ab', 'aab', '', '.', 'v1.0', 'v1x0', '(x)', 'a?x=/b', 'a#f');
  const path = fc.array(pathSeg, { minLength: 1, maxLength: 6 }).map((s) => '/' + s.join('/'));

  /** A path shaped by the pattern: each "*" / "**" filled with zero, one or more segments (empty ones too). */
  const near = (pat: string) =>
    fc
      .array(fc.array(pathSeg, { maxLength: 2 }), { minLength: pat.split('/').length, maxLength: pat.split('/').length })
      .map((fills) => pat.split('/').map((seg, i) => (seg.includes('*') ? fills[i].join('/') : seg)).join('/'));
  const pair = fc.oneof(fc.tuple(pattern, path), pattern.chain((pat) => fc.tuple(fc.constant(pat), near(pat))));

  it('agrees with the reference matcher', () => {
    fc.assert(
      fc.property(pair, ([pat, p]) => {
        expect(compilePathGlob(pat)(p), `${pat} ~ ${p}`).toBe(refPath(pat, p));
      }),
      RUNS,
    );
  });

  it('a pattern without wildcards matches itself, with any query', () => {
    fc.assert(
      fc.property(path.filter((p) => !/[*?#]/.test(p)), fc.string({ maxLength: 10 }), (p, q) => {
        expect(compilePathGlob(p)(p)).toBe(true);
        expect(compilePathGlob(p)(`${p}?${q}`)).toBe(true);
      }),
      RUNS,
    );
  });

  it('any pattern compiles and any path is tested without throwing', () => {
    fc.assert(
      fc.property(anyString, anyString, (pat, p) => {
        expect(typeof compilePathGlob(pat)(p)).toBe('boolean');
      }),
      RUNS,
    );
  });
});

describe('host glob', () => {
  const label = fc.constantFrom('api', 'eu', 'example', 'com', 'local', 'a-b', 'API');
  const pattern = fc
    .tuple(fc.constantFrom('', '*', '*.', 'api-*.'), fc.array(fc.oneof(label, fc.constantFrom('*', 'a*')), { minLength: 1, maxLength: 3 }), fc.constantFrom('', ':8080'))
    .map(([head, labels, port]) => head + labels.join('.') + port);
  const host = fc
    .tuple(fc.array(fc.oneof(label, fc.constantFrom('api-eu', 'x')), { minLength: 1, maxLength: 4 }), fc.constantFrom('', ':8080', ':9090'))
    .map(([labels, port]) => labels.join('.') + port);

  it('agrees with the reference matcher (case-insensitive, port ignored unless the pattern has one)', () => {
    fc.assert(
      fc.property(pattern, host, (pat, h) => {
        expect(compileHostGlob(pat)(h), `${pat} ~ ${h}`).toBe(refHost(pat, h));
      }),
      RUNS,
    );
  });

  it('any pattern compiles and any host is tested without throwing', () => {
    fc.assert(
      fc.property(anyString, anyString, (pat, h) => {
        expect(typeof compileHostGlob(pat)(h)).toBe('boolean');
      }),
      RUNS,
    );
  });
});

describe('compileMatch: headers, method, baggage', () => {
  const req = (over: Partial<MatchInput>): MatchInput => ({ method: 'GET', path: '/', host: 'h', headers: {}, ...over });
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/);
  const value = fc.string({ unit: 'grapheme-ascii', maxLength: 12 });
  const randomCase = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');

  it('a header condition holds exactly when the request carries that value (name case-insensitive)', () => {
    fc.assert(
      fc.property(name, value, value, fc.boolean(), (n, expected, other, asArray) => {
        const m = compileMatch({ headers: { [n]: expected } });
        const carried = (v: string) => ({ [n.toLowerCase()]: asArray ? ['x', v] : v });
        expect(m(req({ headers: carried(expected) }))).toBe(true);
        expect(m(req({ headers: carried(other) }))).toBe(expected === '*' || other === expected || (asArray && expected === 'x'));
        expect(m(req({ headers: {} }))).toBe(false);
      }),
      RUNS,
    );
  });

  it('"*" means present with any value', () => {
    fc.assert(
      fc.property(name, value, (n, v) => {
        expect(compileMatch({ headers: { [n]: '*' } })(req({ headers: { [n.toLowerCase()]: v } }))).toBe(true);
      }),
      RUNS,
    );
  });

  it('methods match whatever their case', () => {
    fc.assert(
      fc.property(fc.constantFrom('get', 'post', 'put', 'delete', 'patch'), fc.array(fc.boolean(), { minLength: 1 }), fc.array(fc.boolean(), { minLength: 1 }), (m, a, b) => {
        expect(compileMatch({ method: randomCase(m, a) })(req({ method: randomCase(m, b) }))).toBe(true);
        expect(compileMatch({ method: randomCase(m, a) })(req({ method: 'OPTIONS' }))).toBe(false);
      }),
      RUNS,
    );
  });

  const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 8 });
  const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => s.isWellFormed());

  it('a baggage condition holds when the baggage header carries those entries (percent-encoded), and fails when one differs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(token, text), { minLength: 1, maxLength: 6, selector: ([k]) => k }),
        fc.nat(),
        text,
        (entries, pick, changed) => {
          const rule = Object.fromEntries(entries);
          const header = entries.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(', ');
          const m = compileMatch({ baggage: rule });
          expect(m(req({ headers: { baggage: header } }))).toBe(true);
          expect(m(req({ baggage: new Map(entries) }))).toBe(true);
          const [key, was] = entries[pick % entries.length];
          const other = entries.map(([k, v]) => `${k}=${encodeURIComponent(k === key ? changed : v)}`).join(',');
          expect(m(req({ headers: { baggage: other } }))).toBe(changed === was);
        },
      ),
      RUNS,
    );
  });

  it('any header bag or baggage header is tested without throwing', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('baggage', 'x-a', 'host'), fc.oneof(anyString, fc.array(anyString, { maxLength: 3 }))), (headers) => {
        const m = compileMatch({ headers: { 'x-a': 'v' }, baggage: { k: 'v' } });
        expect(typeof m(req({ headers }))).toBe('boolean');
      }),
      RUNS,
    );
  });
});
