import { describe, expect, test } from 'vitest';
import { TracecarError } from '../../src/errors.js';
import { formatListen, parseDuration, parseListen, parsePercent, parseRatio, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['0.1s', 100],
    ['250', 250],
    [250, 250],
    [0, 0],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each(['2 sec', '-1s', 's', '', '1d', 'fast'])('rejects %j with a TRC_ERR_CONFIG_VALUE', (input) => {
    expect(() => parseDuration(input)).toThrow(TracecarError);
    expect(() => parseDuration(input)).toThrow(/invalid duration .* \(expected a duration like "250ms", "2s", "1m"/);
  });

  test('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-5)).toThrow(/invalid duration -5/);
    expect(() => parseDuration(Number.NaN)).toThrow(/invalid duration/);
  });
});

describe('parseListen', () => {
  test('a bare port binds all interfaces by default (ingress, egress)', () => {
    expect(parseListen(8080)).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  test('a bare port binds the given default host (admin: 127.0.0.1)', () => {
    expect(parseListen(9901, '127.0.0.1')).toEqual({ host: '127.0.0.1', port: 9901 });
  });

  test('host:port, names and bracketed IPv6', () => {
    expect(parseListen('127.0.0.1:9901')).toEqual({ host: '127.0.0.1', port: 9901 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(formatListen(parseListen('[::1]:8080'))).toBe('[::1]:8080');
    expect(formatListen(parseListen(8080))).toBe('0.0.0.0:8080');
  });

  test.each(['abc', '70000', 'host:', 'http://x:80', '1.2.3.4:99999', ''])('rejects %j', (input) => {
    expect(() => parseListen(input)).toThrow(/invalid listen address/);
  });
});

describe('percent, ratio, size', () => {
  test('percent: number 0..100 or "N%"', () => {
    expect(parsePercent(10)).toBe(10);
    expect(parsePercent('12.5%')).toBe(12.5);
    expect(() => parsePercent(101)).toThrow(/invalid percent/);
    expect(() => parsePercent('150%')).toThrow(/invalid percent/);
  });

  test('ratio: number 0..1 or "N%"', () => {
    expect(parseRatio(0.25)).toBe(0.25);
    expect(parseRatio('10%')).toBe(0.1);
    expect(parseRatio('33.3%')).toBe(0.333);
    expect(() => parseRatio(1.5)).toThrow(/invalid ratio/);
  });

  test('size: bytes or with a unit', () => {
    expect(parseSize(65536)).toBe(65536);
    expect(parseSize('64KiB')).toBe(65536);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(() => parseSize('lots')).toThrow(/invalid size/);
  });
});
