import { tracecarError, type TracecarError } from '../errors.js';

/**
 * Human units used by the config file, CLI flags and the x-tracecar-chaos header.
 * Each parse* function accepts what the schema accepts and throws TRC_ERR_CONFIG_VALUE otherwise.
 *
 * Durations and sizes have one grammar wherever a user writes them: the config file, environment
 * variables, CLI flags, the x-tracecar-chaos header and the admin API's query parameters. Units are
 * case-insensitive. config/schema.json's "duration" and "size" patterns say the same (a test checks
 * they agree).
 *
 *   duration = 1*( number ( "ms" / "s" / "m" / "h" ) ) / number      bare number = milliseconds
 *   size     = number [ "b" / "kb" / "mb" / "gb" / "kib" / "mib" / "gib" ]      bare number = bytes
 *
 * Sizes follow SI and IEC as the schema documents: kb/mb/gb are powers of 1000, kib/mib/gib powers
 * of 1024 (so "10kb" is 10000 bytes and "64KiB" 65536). durationMs/sizeBytes answer undefined
 * instead of throwing, for callers with their own error (a 400, a header problem).
 */

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gi;
const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/i;
const PLAIN_NUMBER = /^[0-9]+(?:\.[0-9]+)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_EXPECTED = 'a duration like "250ms", "2s", "1m" or a number of milliseconds';

function bad(what: string, value: unknown, expected: string): TracecarError {
  return tracecarError('TRC_ERR_CONFIG_VALUE', { what, value: JSON.stringify(value), expected });
}

/** "250ms", "2s", "1m", "1h", "1m30s", "1.5s", "250" or 250 → milliseconds; undefined if not a duration. */
export function durationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (PLAIN_NUMBER.test(text)) return Number(text);
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * UNIT_MS[unit!.toLowerCase()]!;
  // Round away float noise ("0.1s" → 100, not 100.00000000000001) but keep sub-millisecond values.
  return Math.round(total * 1000) / 1000;
}

/** durationMs, throwing TRC_ERR_CONFIG_VALUE for anything that is not a duration. */
export function parseDuration(value: string | number): number {
  const ms = durationMs(value);
  if (ms === undefined) throw bad('duration', value, DURATION_EXPECTED);
  return ms;
}

/** 0..100 as a number, or "10%" → 10. */
export function parsePercent(value: string | number): number {
  const n = typeof value === 'number' ? value : percentString(value);
  if (n === undefined || !Number.isFinite(n) || n < 0 || n > 100) {
    throw bad('percent', value, 'a percentage from 0 to 100, e.g. 10 or "10%"');
  }
  return n;
}

/** 0..1 as a number, or "10%" → 0.1. */
export function parseRatio(value: string | number): number {
  if (typeof value === 'string') {
    const p = percentString(value);
    if (p !== undefined && p >= 0 && p <= 100) return Math.round(p * 1e9) / 1e11;
  } else if (Number.isFinite(value) && value >= 0 && value <= 1) {
    return value;
  }
  throw bad('ratio', value, 'a ratio from 0 to 1, or a percentage like "10%"');
}

function percentString(value: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

const SIZE = /^([0-9]+(?:\.[0-9]+)?)(b|kb|kib|mb|mib|gb|gib)?$/i;
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
/** Largest first: formatSize picks the first that divides exactly. */
const FORMAT_UNITS = Object.entries(SIZE_UNITS).sort(([, a], [, b]) => b - a);

/** 65536, "65536", "64KiB", "10MB", "10kb" → bytes (integer); undefined if not a size. */
export function sizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE.exec(value.trim());
  return m ? Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!) : undefined;
}

/** sizeBytes, throwing TRC_ERR_CONFIG_VALUE for anything that is not a size. */
export function parseSize(value: string | number): number {
  const bytes = sizeBytes(value);
  if (bytes === undefined) throw bad('size', value, 'a byte count or a size like "512KiB", "64MiB"');
  return bytes;
}

/** Bytes in the largest unit that states them exactly, as sizeBytes reads them back: 4096 → "4kib", 10000 → "10kb". */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of FORMAT_UNITS) if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  return `${bytes}b`;
}

export interface ListenAddress {
  host: string;
  port: number;
}

const LISTEN = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)?:)?([0-9]{1,5})$/;

/**
 * 8080, "8080", ":8080", "127.0.0.1:8080", "[::1]:8080" → { host, port }. A port alone binds
 * `defaultHost`: "0.0.0.0" for ingress/egress (callers must reach a sidecar), "127.0.0.1" for admin.
 * IPv6 hosts come back without brackets ("::1"), as net.Server.listen wants them.
 */
export function parseListen(value: string | number, defaultHost = '0.0.0.0'): ListenAddress {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = LISTEN.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw bad('listen address', value, 'a port 0-65535 or "host:port", e.g. 8080 or 127.0.0.1:8080');
  }
  let host = m[1] || defaultHost;
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port };
}

/** { host, port } → "host:port" ("[::1]:8080" for IPv6). */
export function formatListen(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True for an absolute http:// or https:// URL with a host. */
/** An upstream target: http://, https:// or h2c:// (HTTP/2 with prior knowledge) with a host. */
export function isTargetUrl(value: string): boolean {
  if (!/^(https?|h2c):\/\/[^\s/?#]+/i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'h2c:') && url.hostname !== '';
  } catch {
    return false;
  }
}
