/*
 * Hand-rolled character checks for the header parsers. They run on every request, so they walk
 * the string with charCodeAt instead of building regular expressions or substrings.
 */

/** True when s[start, start+length) is lowercase hex (W3C HEXDIGLC; B3 "lower-hex"). */
export function isLowerHex(s: string, start: number, length: number): boolean {
  const end = start + length;
  if (end > s.length) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    // 0-9 or a-f
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** True when s[start, start+length) has a hex letter A-F (to name the problem precisely). */
export function hasUpperHex(s: string, start: number, length: number): boolean {
  const end = Math.min(start + length, s.length);
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x46) return true;
  }
  return false;
}

/** True when s[start, start+length) is all '0'. */
export function isAllZeros(s: string, start: number, length: number): boolean {
  const end = start + length;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) !== 0x30) return false;
  }
  return true;
}

/** Value of one lowercase hex digit, or -1. */
export function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

const ZERO_PAD = '0000000000000000';

/** A 64-bit (16 hex) trace id left-padded to the 32 hex every W3C field and span record uses. */
export function padTraceId(traceId: string): string {
  return traceId.length === 16 ? ZERO_PAD + traceId : traceId;
}

/** Strip HTTP optional whitespace (SP / HTAB, RFC 9110 §5.6.3) from both ends; no other trimming. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
