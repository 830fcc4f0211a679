/*
 * W3C Baggage (https://www.w3.org/TR/baggage/#header-content):
 *   baggage-string = list-member 0*179( OWS "," OWS list-member )
 *   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
 *   key            = token                      ; RFC 7230 §3.2.6
 *   value          = *baggage-octet             ; %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
 * Read-only: tracecar matches rules on baggage, it never rewrites the header.
 */
import { isOws } from './hex.js';

/** The grammar's bound: 1 + 179 list-members. */
export const BAGGAGE_MAX_MEMBERS = 180;
/** "A platform MUST propagate a baggage-string of at least 8192 bytes." tracecar reads that much. */
export const BAGGAGE_MAX_BYTES = 8192;

/**
 * Parse baggage header field(s) into key → decoded value. Invalid members are skipped ("it MAY
 * remove that entry"), properties are ignored (their semantics are "opaque to this
 * specification"), a repeated key keeps its last value, and members past 180 or past 8192 bytes
 * are dropped ("it MAY drop or truncate certain baggage entries"). Never throws.
 */
export function parseBaggage(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  // "Multiple baggage headers are allowed. Values can be combined in a single header according to RFC 7230."
  const s = typeof header === 'string' ? header : header.join(',');
  const n = s.length;
  let pos = 0;
  let members = 0;
  while (pos < n && members < BAGGAGE_MAX_MEMBERS) {
    let end = s.indexOf(',', pos);
    if (end === -1) end = n;
    // Only members that end within the byte budget are read. Valid baggage is ASCII, so the
    // string length is the byte length for everything that can pass validation.
    if (end > BAGGAGE_MAX_BYTES) break;
    const start = pos;
    pos = end + 1;

    // The value (and the member) stops at the first ";": what follows are properties.
    let stop = s.indexOf(';', start);
    if (stop === -1 || stop > end) stop = end;
    const eq = s.indexOf('=', start);
    if (eq === -1 || eq >= stop) continue; // no "=" before properties: not a list-member

    // "Leading and trailing whitespaces (OWS) are allowed but MUST be trimmed."
    let ks = start;
    let ke = eq;
    while (ks < ke && isOws(s.charCodeAt(ks))) ks++;
    while (ke > ks && isOws(s.charCodeAt(ke - 1))) ke--;
    let vs = eq + 1;
    let ve = stop;
    while (vs < ve && isOws(s.charCodeAt(vs))) vs++;
    while (ve > vs && isOws(s.charCodeAt(ve - 1))) ve--;
    if (ks === ke || !isToken(s, ks, ke) || !isBaggageValue(s, vs, ve)) continue;

    members++;
    out.set(s.slice(ks, ke), percentDecode(s, vs, ve));
  }
  return out;
}

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
function isToken(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
      c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
    if (!ok) return false;
  }
  return true;
}

/** baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E ("=" is allowed in values). */
function isBaggageValue(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x3b || c === 0x5c) return false;
  }
  return true;
}

/**
 * "A value contains a URL encoded UTF-8 string." %XX sequences become bytes, decoded as UTF-8 with
 * invalid sequences replaced by U+FFFD (decodeURIComponent would throw instead). A "%" not
 * followed by two hex digits stays as it is.
 */
function percentDecode(s: string, start: number, end: number): string {
  const pct = s.indexOf('%', start);
  if (pct === -1 || pct >= end) return s.slice(start, end);
  const bytes: number[] = [];
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < end) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi !== -1 && lo !== -1) {
        bytes.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    bytes.push(c); // validated ASCII
  }
  return Buffer.from(bytes).toString('utf8');
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
