import { TracecarError } from '../errors.js';

/**
 * Human units used by the config file, CLI flags and the x-tracecar-chaos header.
 * Each parser accepts what the schema accepts and throws TRC_ERR_CONFIG_VALUE otherwise.
 */

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const PLAIN_NUMBER = /^[0-9]+(?:\.[0-9]+)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function bad(what: string, value: unknown, expected: string): TracecarError {
  return new TracecarError('TRC_ERR_CONFIG_VALUE', `invalid ${what} ${JSON.stringify(value)} (expected ${expected})`);
}

/** "250ms", "2s", "1m", "1h", "1m30s", "1.5s", "250" or 250 → milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw bad('duration', value, 'a duration like "250ms", "2s", "1m" or a number of milliseconds');
  }
  const text = value.trim();
  if (PLAIN_NUMBER.test(text)) return Number(text);
  if (!DURATION.test(text)) {
    throw bad('duration', value, 'a duration like "250ms", "2s", "1m" or a number of milliseconds');
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * UNIT_MS[unit!]!;
  // Round away float noise ("0.1s" → 100, not 100.00000000000001) but keep sub-millisecond values.
  return Math.round(total * 1000) / 1000;
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

const SIZE = /^([0-9]+(?:\.[0-9]+)?)(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3 };

/** 65536, "64KiB", "10MB" → bytes (integer). */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
  } else {
    const m = SIZE.exec(value.trim());
    if (m) return Math.round(Number(m[1]) * SIZE_UNITS[m[2] ?? 'B']!);
  }
  throw bad('size', value, 'a byte count or a size like "512KiB", "64MiB"');
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
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s/?#]+/i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
