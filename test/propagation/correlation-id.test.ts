import { describe, expect, it } from 'vitest';
import { resolveCorrelationId } from '../../src/propagation/index.js';

const NAMES = ['x-request-id', 'x-correlation-id'] as const;
const gen = () => 'generated-id';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('resolveCorrelationId', () => {
  it.each([
    ['plain', 'abc-123'],
    ['case and spaces kept exactly', '  Mixed Case Id  '],
    ['UUID', 'F47AC10B-58CC-4372-A567-0E02B2C3D479'],
    ['punctuation', 'req:1/2?x=y&z'],
    ['exactly 256 chars', 'a'.repeat(256)],
    ['latin1 bytes from node', 'caf\u00c3\u00a9'],
  ])('keeps an incoming id exactly (%s)', (_name, value) => {
    expect(resolveCorrelationId({ 'x-request-id': value }, NAMES, gen)).toEqual({
      id: value,
      source: 'incoming',
      header: 'x-request-id',
    });
  });

  it('first present header in configured order wins', () => {
    const both = { 'x-request-id': 'one', 'x-correlation-id': 'two' };
    expect(resolveCorrelationId(both, NAMES, gen).id).toBe('one');
    expect(resolveCorrelationId(both, ['x-correlation-id', 'x-request-id'], gen).id).toBe('two');
    expect(resolveCorrelationId({ 'x-correlation-id': 'two' }, NAMES, gen)).toEqual({
      id: 'two',
      source: 'incoming',
      header: 'x-correlation-id',
    });
  });

  it('configured names are matched case-insensitively (headers are lowercase)', () => {
    expect(resolveCorrelationId({ 'x-request-id': 'r' }, ['X-Request-ID'], gen).id).toBe('r');
  });

  it('nothing present → generated (UUID v4 by default)', () => {
    expect(resolveCorrelationId({}, NAMES, gen)).toEqual({ id: 'generated-id', source: 'generated' });
    const r = resolveCorrelationId({}, NAMES);
    expect(r.id).toMatch(UUID_V4);
    expect(resolveCorrelationId({}, NAMES).id).not.toBe(r.id);
  });

  it('empty value counts as absent', () => {
    expect(resolveCorrelationId({ 'x-request-id': '' }, NAMES, gen).source).toBe('generated');
    expect(resolveCorrelationId({ 'x-request-id': '', 'x-correlation-id': 'c' }, NAMES, gen).id).toBe('c');
    expect(resolveCorrelationId({ 'x-request-id': [] }, NAMES, gen).source).toBe('generated');
  });

  it('over 256 characters → replaced, original recorded truncated', () => {
    const long = 'x'.repeat(300);
    const r = resolveCorrelationId({ 'x-request-id': long }, NAMES, gen);
    expect(r).toEqual({
      id: 'generated-id',
      source: 'replaced',
      header: 'x-request-id',
      rejected: `${'x'.repeat(128)}…(300 chars)`,
    });
  });

  it.each([
    ['newline (log injection)', 'abc\nFAKE LOG LINE', 'abc\\x0aFAKE LOG LINE'],
    ['carriage return', 'a\rb', 'a\\x0db'],
    ['tab', 'a\tb', 'a\\x09b'],
    ['NUL', 'a\u0000b', 'a\\x00b'],
    ['DEL', 'a\u007fb', 'a\\x7fb'],
    ['escape sequence', '\u001b[31mred', '\\x1b[31mred'],
  ])('control character (%s) → replaced, escaped in rejected', (_name, value, rejected) => {
    expect(resolveCorrelationId({ 'x-request-id': value }, NAMES, gen)).toEqual({
      id: 'generated-id',
      source: 'replaced',
      header: 'x-request-id',
      rejected,
    });
  });

  it('backslashes in a rejected value are escaped so the record is unambiguous', () => {
    expect(resolveCorrelationId({ 'x-request-id': 'a\\x0a\n' }, NAMES, gen).rejected).toBe('a\\\\x0a\\x0a');
  });

  it('truncation never splits a surrogate pair', () => {
    const value = 'a'.repeat(127) + '😀' + 'b'.repeat(200);
    const r = resolveCorrelationId({ 'x-request-id': value }, NAMES, gen);
    expect(r.rejected).toBe(`${'a'.repeat(127)}…(${value.length} chars)`);
  });

  it('repeated header: same values are fine, distinct values are replaced', () => {
    expect(resolveCorrelationId({ 'x-request-id': ['same', 'same'] }, NAMES, gen)).toEqual({
      id: 'same',
      source: 'incoming',
      header: 'x-request-id',
    });
    expect(resolveCorrelationId({ 'x-request-id': ['one', 'two'] }, NAMES, gen)).toEqual({
      id: 'generated-id',
      source: 'replaced',
      header: 'x-request-id',
      rejected: 'one, two',
    });
  });

  it('an unusable first header is replaced, not skipped in favour of the second', () => {
    const r = resolveCorrelationId({ 'x-request-id': 'bad\n', 'x-correlation-id': 'good' }, NAMES, gen);
    expect(r.source).toBe('replaced');
    expect(r.header).toBe('x-request-id');
  });
});
