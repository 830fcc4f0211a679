import { describe, expect, it } from 'vitest';
import { parseBaggage } from '../../src/propagation/index.js';

const entries = (header: string | string[] | undefined) => Object.fromEntries(parseBaggage(header));

describe('parseBaggage', () => {
  it.each([
    ['absent', undefined, {}],
    ['empty', '', {}],
    ['spec example', 'userId=alice,serverNode=DF%2028,isProduction=false', { userId: 'alice', serverNode: 'DF 28', isProduction: 'false' }],
    ['OWS around keys, values and members', ' userId =   alice , serverNode = DF%2028 ', { userId: 'alice', serverNode: 'DF 28' }],
    ['properties ignored', 'key1=value1;property1;property2, key3=value3; propertyKey=propertyValue', { key1: 'value1', key3: 'value3' }],
    ['"=" allowed in values', 'k=a=b==', { k: 'a=b==' }],
    ['empty value', 'k=', { k: '' }],
    ['UTF-8 percent-decoding', 'city=M%C3%BCnchen,emoji=%F0%9F%98%80', { city: 'München', emoji: '😀' }],
    ['uppercase and lowercase hex escapes', 'a=%2f%2F', { a: '//' }],
    ['invalid UTF-8 → U+FFFD', 'bad=%FF%FE,ok=1', { bad: '\ufffd\ufffd', ok: '1' }],
    ['lone "%" kept', 'p=100%,q=%zz,r=%4', { p: '100%', q: '%zz', r: '%4' }],
    ['token keys', "a!#$%&'*+-.^_`|~9=v", { "a!#$%&'*+-.^_`|~9": 'v' }],
    ['duplicate key keeps the last', 'k=1,k=2', { k: '2' }],
    ['empty members skipped', ',,k=1, ,', { k: '1' }],
  ])('%s', (_name, header, expected) => {
    expect(entries(header)).toEqual(expected);
  });

  it.each([
    ['no "="', 'novalue,k=1'],
    ['empty key', '=v,k=1'],
    ['space inside key', 'a b=v,k=1'],
    ['space inside value', 'a=b c,k=1'],
    ['quote in value', 'a="x",k=1'],
    ['backslash in value', 'a=x\\y,k=1'],
    ['separator in key', 'a/b=1,k=1'],
    ['non-ASCII value', 'a=é,k=1'],
    ['"=" only in property', 'a;p=1,k=1'],
  ])('invalid member skipped, others kept: %s', (_name, header) => {
    expect(entries(header)).toEqual({ k: '1' });
  });

  it('combines multiple header lines', () => {
    expect(entries(['userId=alice', 'serverNode=DF%2028,isProduction=false'])).toEqual({
      userId: 'alice',
      serverNode: 'DF 28',
      isProduction: 'false',
    });
  });

  it('keeps at most 180 list-members', () => {
    const header = Array.from({ length: 200 }, (_, i) => `k${i}=${i}`).join(',');
    const m = parseBaggage(header);
    expect(m.size).toBe(180);
    expect(m.get('k179')).toBe('179');
    expect(m.has('k180')).toBe(false);
  });

  it('reads at most 8192 bytes (whole members only)', () => {
    const member = (i: number) => `k${String(i).padStart(3, '0')}=${'v'.repeat(95)}`; // 100 chars
    const header = Array.from({ length: 100 }, (_, i) => member(i)).join(','); // 10099 chars
    const m = parseBaggage(header);
    // member i ends at 101 * i + 100; the last one ending within 8192 is i = 80 (8180)
    expect(m.size).toBe(81);
    expect(m.has('k080')).toBe(true);
    expect(m.has('k081')).toBe(false);
  });

  it('never throws', () => {
    for (const h of ['%', '=%', 'k=%E0%A4%A', '\u0000=\u0000', ';;;', '=,=,=', 'k=' + '%'.repeat(10_000)]) {
      expect(() => parseBaggage(h)).not.toThrow();
    }
  });
});
