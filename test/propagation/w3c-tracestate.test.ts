import { describe, expect, it } from 'vitest';
import { extractContext } from '../../src/propagation/index.js';
import { parseTracestate } from '../../src/propagation/tracestate.js';

const TP = '00-12345678901234567890123456789012-1234567890123456-00';

function state(tracestate: string | string[]) {
  const r = extractContext({ traceparent: TP, tracestate }, ['w3c']);
  // failure to parse tracestate MUST NOT affect the parsing of traceparent
  expect(r.context?.traceId).toBe('12345678901234567890123456789012');
  return { value: r.context?.traceState, problems: r.problems };
}

const members = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => `bar${String(i + from).padStart(2, '0')}=${String(i + from).padStart(2, '0')}`);

describe('tracestate: valid lists are kept (normalised)', () => {
  it.each([
    ['single', 'rojo=00f067aa0ba902b7', 'rojo=00f067aa0ba902b7'],
    ['two vendors', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'],
    ['OWS around members removed', 'foo=1 \t , \t bar=2, \t baz=3', 'foo=1,bar=2,baz=3'],
    ['leading/trailing OWS', '\t foo=1 \t', 'foo=1'],
    ['empty members allowed', 'foo=1,,  ,bar=2,', 'foo=1,bar=2'],
    ['leading space in value is part of the value', 'foo= bar', 'foo= bar'],
    ['inner spaces in value', 'foo=a b c', 'foo=a b c'],
    ['multi-tenant key', 'tenant@vendor=x', 'tenant@vendor=x'],
    ['digit-first tenant', '1tenant@vendor=x', '1tenant@vendor=x'],
    ['key chars _-*/', 'a_-*/9=v', 'a_-*/9=v'],
    // Editor's draft key grammar: ( lcalpha / DIGIT ) 0*255 ( keychar ), "@" a keychar.
    ['draft: digit-first key without "@"', '1foo=1', '1foo=1'],
    ['draft: "@" at the end', 'foo@=1,bar=2', 'foo@=1,bar=2'],
    ['draft: "@@"', 'foo@@bar=1,bar=2', 'foo@@bar=1,bar=2'],
    ['draft: two "@"', 'foo@bar@baz=1,bar=2', 'foo@bar@baz=1,bar=2'],
    ['draft: system id starting with a digit', 'foo@1bar=1', 'foo@1bar=1'],
  ])('%s', (_name, header, expected) => {
    const r = state(header);
    expect(r.problems).toEqual([]);
    expect(r.value).toBe(expected);
  });

  it('all allowed characters (w3c test suite)', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    let value = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    expect(state(`${key}=${value}`).value).toBe(`${key}=${value}`);
    expect(state(`${key}@a-z0-9_-*/=${value}`).value).toBe(`${key}@a-z0-9_-*/=${value}`);
  });

  it('combines multiple header lines with "," in order', () => {
    const r = state(['foo=1,bar=2', 'rojo=1,congo=2', 'baz=3']);
    expect(r.value).toBe('foo=1,bar=2,rojo=1,congo=2,baz=3');
  });

  it('empty header lines are fine', () => {
    expect(state(['', 'foo=1']).value).toBe('foo=1');
    expect(state(['foo=1', '']).value).toBe('foo=1');
    expect(state('').value).toBeUndefined();
    expect(state('').problems).toEqual([]);
  });

  it('32 list-members across lines are kept', () => {
    const r = state([members(10).join(','), members(10, 11).join(','), members(10, 21).join(','), members(2, 31).join(',')]);
    expect(r.value?.split(',')).toHaveLength(32);
    expect(r.problems).toEqual([]);
  });

  it('key length limit: 256 characters, wherever the "@" is (editor\'s draft)', () => {
    expect(state(['foo=1', `${'z'.repeat(256)}=1`]).value).toBe(`foo=1,${'z'.repeat(256)}=1`);
    for (const key of [`${'t'.repeat(241)}@${'v'.repeat(14)}`, `${'t'.repeat(242)}@v`, `t@${'v'.repeat(15)}`, `t@${'v'.repeat(254)}`]) {
      const r = state(['foo=1', `${key}=1`]);
      expect(r.problems).toEqual([]);
      expect(r.value).toBe(`foo=1,${key}=1`);
    }
  });

  it('value of 256 characters is valid', () => {
    expect(state(`k=${'v'.repeat(256)}`).value).toBe(`k=${'v'.repeat(256)}`);
  });
});

describe('tracestate: invalid lists are discarded entirely (traceparent kept)', () => {
  it.each([
    ['33 list-members', [members(32).join(','), 'bar33=33'], 'more than 32 list-members'],
    ['space inside key', 'foo =1', 'invalid key'],
    ['uppercase key', 'FOO=1', 'invalid key'],
    ['dot in key', 'foo.bar=1', 'invalid key'],
    ['key starting with "@"', '@foo=1,bar=2', 'invalid key'],
    ['key starting with "_"', '_foo=1', 'invalid key'],
    ['key 257 chars', ['foo=1', `${'z'.repeat(257)}=1`], 'invalid key'],
    ['key 257 chars with "@"', ['foo=1', `t@${'v'.repeat(255)}=1`], 'invalid key'],
    ['"=" in value', 'foo=bar=baz', 'invalid value'],
    ['empty value', 'foo=,bar=3', 'invalid value'],
    ['value 257 chars', `k=${'v'.repeat(257)}`, 'invalid value'],
    ['tab inside value', 'foo=a\tb', 'invalid value'],
    ['non-ASCII value', 'foo=é', 'invalid value'],
    ['member without "="', 'foo', 'has no "="'],
    ['empty key', '=1', 'invalid key'],
  ])('%s', (_name, header, reason) => {
    const r = state(header);
    expect(r.value).toBeUndefined();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^tracestate: /);
    expect(r.problems[0]).toContain(reason);
  });
});

describe('tracestate: a repeated key keeps the list (editor\'s draft), first entry wins', () => {
  it.each([
    ['same value, one line', 'foo=1,foo=1', 'foo=1', 'foo'],
    ['different values, one line', 'foo=1,bar=2,foo=2', 'foo=1,bar=2', 'foo'],
    ['across lines', ['foo=1', 'foo=2'], 'foo=1', 'foo'],
    ['several keys', 'a=1,b=2,a=3,b=4,c=5', 'a=1,b=2,c=5', 'a, b'],
  ])('%s', (_name, header, value, keys) => {
    const r = state(header);
    expect(r.value).toBe(value);
    expect(r.problems).toEqual([`tracestate: repeated key${keys.includes(',') ? 's' : ''} ${keys}: kept the first entry`]);
  });

  it('repeats count against the 32 list-members the grammar allows', () => {
    const r = state([members(32).join(','), 'bar01=again']);
    expect(r.value).toBeUndefined();
    expect(r.problems).toEqual(['tracestate: more than 32 list-members']);
  });

  it('a repeat and truncation are both reported', () => {
    const big = `big=${'x'.repeat(250)}`;
    // a=1 (3) + big (254) + c (252) + d=1 (3) + 3 commas = 515 once the repeated a=2 is gone.
    const r = parseTracestate(`a=1,${big},a=2,c=${'y'.repeat(250)},d=1`);
    expect(r.value).toBe(`a=1,${big},d=1`);
    expect(r.problem).toBe('repeated key a: kept the first entry; 515 characters exceed 512; dropped c');
  });
});

describe('tracestate: problem messages stay short and log-safe', () => {
  it('an invalid key is quoted clipped, with controls escaped', () => {
    const r = parseTracestate(`${'K'.repeat(5000)}=1`);
    expect(r.problem).toBe(`invalid key "${'K'.repeat(40)}…(5000 chars)"`);
    expect(parseTracestate('a\u0085b=1').problem).toBe('invalid key "a\\x85b"');
  });

  it('a truncation names at most 8 dropped keys, each clipped', () => {
    const list = Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(0x61 + i)}${'k'.repeat(99)}=${'v'.repeat(100)}`);
    const r = parseTracestate(list.join(','));
    expect(r.value!.length).toBeLessThanOrEqual(512);
    expect(r.problem).toMatch(/dropped (l|k|j|i)k{39}…\(100 chars\)(, [a-l]k{39}…\(100 chars\)){7} and 2 more$/);
    expect(r.problem!.length).toBeLessThan(600);
  });
});

describe('tracestate: over 512 characters, truncated by whole entries as the spec orders', () => {
  const entry = (key: string, length: number) => `${key}=${'x'.repeat(length - key.length - 1)}`;

  it('exactly 512 characters is kept whole', () => {
    // 4 × 127 + 3 commas = 511; one more char makes 512
    const list = [entry('a', 127), entry('b', 127), entry('c', 127), entry('d', 128)].join(',');
    expect(list.length).toBe(512);
    expect(parseTracestate(list)).toEqual({ value: list });
  });

  it('entries larger than 128 characters go first, even when they are not at the end', () => {
    const big = entry('big', 200);
    const list = [entry('a', 100), big, entry('b', 100), entry('c', 100), entry('d', 100)];
    // 200 + 4×100 + 4 = 604 > 512; dropping "big" (201 with its comma) gives 403.
    const r = parseTracestate(list.join(','));
    expect(r.value).toBe([list[0], list[2], list[3], list[4]].join(','));
    expect(r.problem).toBe('604 characters exceed 512; dropped big');
  });

  it('only as many large entries as needed, right-most first', () => {
    const list = [entry('big1', 200), entry('big2', 200), entry('a', 100), entry('b', 100)];
    // 600 + 3 = 603 → drop big2 (right-most large) → 402
    const r = parseTracestate(list.join(','));
    expect(r.value).toBe([list[0], list[2], list[3]].join(','));
    expect(r.problem).toContain('dropped big2');
  });

  it('then entries are removed from the end', () => {
    const list = Array.from({ length: 6 }, (_, i) => entry(`k${i}`, 100)); // 600 + 5 = 605
    const r = parseTracestate(list.join(','));
    expect(r.value).toBe(list.slice(0, 5).join(',')); // 504
    expect(r.problem).toContain('dropped k5');
  });

  it('large entries first, then from the end, until it fits', () => {
    // 32 members of 4 × 130 + 28 × 10 = 520 + 280 + 31 = 831
    const list = [
      ...Array.from({ length: 14 }, (_, i) => entry(`s${i}`, 10)),
      entry('l0', 130), entry('l1', 130),
      ...Array.from({ length: 14 }, (_, i) => entry(`t${i}`, 10)),
      entry('l2', 130), entry('l3', 130),
    ];
    const r = parseTracestate(list.join(','));
    // dropping l3, l2 (262) → 569; l1 (131) → 438 ≤ 512: stop; l0 stays.
    expect(r.value).toBe(list.filter((m) => !/^l[123]=/.test(m)).join(','));
    expect(r.value!.length).toBeLessThanOrEqual(512);
    expect(r.problem).toContain('dropped l3, l2, l1');
  });

  it('extracted context carries the truncated list and a problem', () => {
    const list = Array.from({ length: 6 }, (_, i) => entry(`k${i}`, 100));
    const r = state(list.join(','));
    expect(r.value).toBe(list.slice(0, 5).join(','));
    expect(r.problems[0]).toMatch(/^tracestate: 605 characters exceed 512/);
  });
});
