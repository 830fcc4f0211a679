import type { ChaosSide } from './types.js';
import { durationMs, sizeBytes } from '../config/units.js';

/** Request header that triggers faults per request; honoured only when `chaos.allowHeader: true`. */
export const CHAOS_HEADER = 'x-tracecar-chaos';

/**
 * Grammar (directive names case-insensitive, whitespace ignored, `;` or `,` between directives):
 *
 *   x-tracecar-chaos: directive *( ( ";" / "," ) directive )
 *   directive = "delay=" duration        hold the request this long before forwarding
 *             / "abort=" status          answer with status 200–599, upstream never called
 *             / "grpc=" code             a gRPC request's abort answers this gRPC status 0–16
 *                                        instead (default 14 UNAVAILABLE), in Trailers-Only form
 *             / "reset" [ "=" size ]     reset the connection: bare = before any response,
 *                                        with a size = after that many response body bytes
 *             / "throttle=" size         limit the response body to size per second
 *             / "slowbody=" duration     hold each response body chunk this long
 *             / "side=" ( "ingress" / "egress" / "both" )   where it applies; default ingress
 *             / "rule=" anything         ignored (so a response's x-tracecar-chaos value replays)
 *   duration  = the config file's: 300ms, 1.5s, 1m, bare number = milliseconds
 *   size      = the config file's: 512b, 10kb (10000 bytes), 64kib (65536), 1mb, 1mib,
 *               bare number = bytes (kb/mb/gb powers of 1000, kib/mib/gib of 1024; see src/config/units.ts)
 *
 * Example: `x-tracecar-chaos: delay=300ms; throttle=10kb`. Header faults always fire (no
 * percent), take precedence over rules and still count against maxActiveFaults. Malformed or
 * unknown directives are skipped and reported in `problems`; a header with no valid fault is
 * as if absent.
 */
export interface HeaderFaults {
  delayMs?: number;
  abortStatus?: number;
  /** gRPC status of an abort on a gRPC request. */
  abortGrpcStatus?: number;
  resetAfterBytes?: number;
  throttleBytesPerSecond?: number;
  slowBodyChunkDelayMs?: number;
  side: ChaosSide | 'both';
  problems: string[];
}

export function parseChaosHeader(value: string | string[]): HeaderFaults {
  const out: HeaderFaults = { side: 'ingress', problems: [] };
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const raw of text.split(/[;,]/)) {
    const directive = raw.trim();
    if (directive === '') continue;
    const eq = directive.indexOf('=');
    const name = (eq === -1 ? directive : directive.slice(0, eq)).trim().toLowerCase();
    const arg = eq === -1 ? null : directive.slice(eq + 1).trim();
    const bad = (why: string): void => {
      out.problems.push(`${directive}: ${why}`);
    };
    switch (name) {
      case 'delay': {
        const ms = arg === null ? undefined : durationMs(arg);
        if (ms === undefined) bad('expected a duration like 300ms or 1.5s');
        else out.delayMs = ms;
        break;
      }
      case 'abort': {
        const status = arg !== null && /^\d{3}$/.test(arg) ? Number(arg) : NaN;
        if (!(status >= 200 && status <= 599)) bad('expected an HTTP status 200-599');
        else out.abortStatus = status;
        break;
      }
      case 'grpc': {
        const code = arg !== null && /^\d{1,2}$/.test(arg) ? Number(arg) : NaN;
        if (!(code >= 0 && code <= 16)) bad('expected a gRPC status code 0-16');
        else out.abortGrpcStatus = code;
        break;
      }
      case 'reset': {
        const bytes = arg === null ? 0 : sizeBytes(arg);
        if (bytes === undefined) bad('expected nothing or a size like 4kb');
        else out.resetAfterBytes = bytes;
        break;
      }
      case 'throttle': {
        const bps = arg === null ? undefined : sizeBytes(arg);
        if (bps === undefined || bps <= 0) bad('expected a positive size per second like 10kb');
        else out.throttleBytesPerSecond = bps;
        break;
      }
      case 'slowbody': {
        const ms = arg === null ? undefined : durationMs(arg);
        if (ms === undefined) bad('expected a duration like 50ms');
        else out.slowBodyChunkDelayMs = ms;
        break;
      }
      case 'side': {
        const side = arg?.toLowerCase();
        if (side === 'ingress' || side === 'egress' || side === 'both') out.side = side;
        else bad('expected ingress, egress or both');
        break;
      }
      case 'rule':
        break;
      default:
        bad('unknown directive (delay, abort, grpc, reset, throttle, slowbody, side)');
    }
  }
  return out;
}

export function hasHeaderFault(h: HeaderFaults): boolean {
  return (
    h.delayMs !== undefined ||
    h.abortStatus !== undefined ||
    h.resetAfterBytes !== undefined ||
    h.throttleBytesPerSecond !== undefined ||
    h.slowBodyChunkDelayMs !== undefined
  );
}
