import { describe, expect, test } from 'vitest';
import { TracecarError } from '../../src/errors.js';
import { configSchema } from '../../src/config/schema.js';
import {
  durationMs,
  formatListen,
  formatSize,
  parseDuration,
  parseListen,
  parsePercent,
  parseRatio,
  parseSize,
  sizeBytes,
} from '../../src/config/units.js';

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['0.1s', 100],
    ['0.5ms', 0.5],
    ['250', 250],
    [' 2s ', 2000],
    ['2S', 2000],
    ['1M30S', 90_000],
    ['300MS', 300],
    [250, 250],
    [0, 0],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
    expect(durationMs(input)).toBe(ms);
  });

  test.each(['2 sec', '250 ms', '-1s', 's', '', '1d', 'fast', '1.s', '1e3'])('rejects %j with a TRC_ERR_CONFIG_VALUE', (input) => {
    expect(() => parseDuration(input)).toThrow(TracecarError);
    expect(() => parseDuration(input)).toThrow(/invalid duration .* \(expected a duration like "250ms", "2s", "1m"/);
  });

  test('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-5)).toThrow(/invalid duration -5/);
    expect(() => parseDuration(Number.NaN)).toThrow(/invalid duration/);
    expect(durationMs(-5)).toBeUndefined();
    expect(durationMs(Number.POSITIVE_INFINITY)).toBeUndefined();
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

describe('sizes: KB/MB/GB are SI (1000), KiB/MiB/GiB IEC (1024), units in any case', () => {
  test.each([
    ['512', 512],
    ['512b', 512],
    ['512B', 512],
    ['10kb', 10_000],
    ['10KB', 10_000],
    ['10kB', 10_000],
    ['10kib', 10_240],
    ['64KiB', 65_536],
    ['1mb', 1_000_000],
    ['1MiB', 1_048_576],
    ['1.5KiB', 1536],
    ['1gb', 1_000_000_000],
    ['1GiB', 1_073_741_824],
    [4096, 4096],
  ])('%j → %d bytes', (input, bytes) => {
    expect(sizeBytes(input)).toBe(bytes);
    expect(parseSize(input)).toBe(bytes);
  });

  test.each(['10 kb', '-1', '1e3', '10kbit', '10k', 'KiB', '', 1.5, -1])('rejects %j', (input) => {
    expect(sizeBytes(input)).toBeUndefined();
    expect(() => parseSize(input)).toThrow(/invalid size .* \(expected a byte count or a size like "512KiB", "64MiB"\)/);
  });

  test('formatSize names the largest exact unit, and reads back to the same bytes', () => {
    expect([0, 512, 1000, 1024, 4096, 10_000, 10_240, 2 * 1024 ** 2, 1e6, 1024 ** 3, 1e9, 1500].map(formatSize)).toEqual([
      '0b', '512b', '1kb', '1kib', '4kib', '10kb', '10kib', '2mib', '1mb', '1gib', '1gb', '1500b',
    ]);
    for (const n of [0, 1, 999, 1000, 1023, 1024, 2_048_000, 3 * 1024 ** 2, 5e9, 123_456_789]) expect(sizeBytes(formatSize(n))).toBe(n);
  });
});

describe('config/schema.json states the same grammar as the parsers', () => {
  const definitions = configSchema().definitions!;
  const pattern = (name: string): RegExp => new RegExp(definitions[name]!.pattern!, 'u');
  const durations = ['250ms', '2S', '1m30s', '1M30S', '0.5ms', '250', '1.5', '2 sec', '-1s', 's', '', '1d', '1.s', 'ms5', '1h1m1s1ms'];
  const sizes = ['512', '512b', '10kb', '10KB', '10kib', '64KiB', '1MiB', '1gb', '1GiB', '1.5KiB', '10 kb', '-1', '1e3', '10kbit', '10k', 'KiB', ''];

  test.each(durations)('duration %j', (text) => {
    expect(pattern('duration').test(text)).toBe(durationMs(text) !== undefined);
    expect(pattern('durationOrOff').test(text)).toBe(durationMs(text) !== undefined);
  });

  test.each(sizes)('size %j', (text) => {
    expect(pattern('size').test(text)).toBe(sizeBytes(text) !== undefined);
  });
});
