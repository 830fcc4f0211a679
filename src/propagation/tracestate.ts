/*
 * W3C Trace Context `tracestate` (https://www.w3.org/TR/trace-context-1/#tracestate-header):
 *   list        = list-member 0*31( OWS "," OWS list-member )
 *   list-member = key "=" value / OWS
 * Validation is all-or-nothing, as the W3C conformance suite (w3c/trace-context test/test.py,
 * STRICT_LEVEL 2) requires: an invalid key or value, a duplicate key, or more than 32 members
 * discards the whole header ("expects the tracestate to be discarded"). Size is different: an
 * over-long but valid list is truncated by whole entries in the order the spec gives.
 */
import { isOws } from './hex.js';

/** "There can be a maximum of 32 list-members in a list." */
export const TRACESTATE_MAX_MEMBERS = 32;
/**
 * "Vendors SHOULD propagate at least 512 characters of a combined header." tracecar propagates
 * exactly that much (documented limit), measured on the normalised value (no OWS).
 */
export const TRACESTATE_MAX_LENGTH = 512;
/** "Entries larger than 128 characters long SHOULD be removed first." */
export const TRACESTATE_LARGE_ENTRY = 128;

export interface TracestateResult {
  /** Normalised header value (members joined by ",", OWS removed); undefined when empty or discarded. */
  value?: string;
  /** Why (part of) the header was not kept. */
  problem?: string;
}

const EMPTY: TracestateResult = Object.freeze({});

/**
 * Validate, combine and limit incoming tracestate field(s). "When receiving multiple tracestate
 * header fields, they MUST be combined into a single header according to RFC7230" (joined with
 * ",", order kept).
 */
export function parseTracestate(raw: string | string[] | undefined): TracestateResult {
  if (raw === undefined) return EMPTY;
  const combined = typeof raw === 'string' ? raw : raw.join(',');
  if (combined.length === 0) return EMPTY; // "Vendors MUST accept empty tracestate headers"

  const members: string[] = [];
  const keys: string[] = [];
  // True while the input is already in normalised form (no OWS, no empty members): then the
  // header value itself is the result and nothing needs re-joining.
  let normalised = true;
  let pos = 0;
  const n = combined.length;
  while (pos <= n) {
    let end = combined.indexOf(',', pos);
    if (end === -1) end = n;
    // "Spaces and horizontal tabs surrounding list-members are ignored."
    let s = pos;
    let e = end;
    while (s < e && isOws(combined.charCodeAt(s))) s++;
    while (e > s && isOws(combined.charCodeAt(e - 1))) e--;
    if (s !== pos || e !== end) normalised = false;
    pos = end + 1;
    // "Empty and whitespace-only list members are allowed." They are dropped, and not counted
    // against the 32: they appear merely from how a list was split over fields.
    if (s === e) {
      normalised = false;
      continue;
    }

    const eq = combined.indexOf('=', s);
    if (eq === -1 || eq >= e) return { problem: `list-member "${clip(combined, s, e)}" has no "="` };
    if (!validKey(combined, s, eq)) return { problem: `invalid key "${clip(combined, s, eq)}"` };
    if (!validValue(combined, eq + 1, e)) return { problem: `invalid value for key "${clip(combined, s, eq)}"` };

    if (members.length === TRACESTATE_MAX_MEMBERS) {
      return { problem: `more than ${TRACESTATE_MAX_MEMBERS} list-members` };
    }
    const key = combined.slice(s, eq);
    // "Only one entry per key is allowed" (w3c test suite: duplicated keys → discarded).
    // At most 32 keys, so a linear scan beats building a Set.
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) return { problem: `duplicate key "${clip(key, 0, key.length)}"` };
    }
    members.push(combined.slice(s, e));
    keys.push(key);
  }

  if (members.length === 0) return EMPTY;
  if (normalised && n <= TRACESTATE_MAX_LENGTH) return { value: combined };
  return limitLength(members);
}

/**
 * "In a situation where tracestate needs to be truncated due to size limitations, the vendor MUST
 * truncate whole entries. Entries larger than 128 characters long SHOULD be removed first. Then
 * entries SHOULD be removed starting from the end of tracestate."
 * Entries are removed only until the list fits; large ones right-most first, then from the end.
 */
function limitLength(members: string[]): TracestateResult {
  let total = members.length - 1; // commas
  for (const m of members) total += m.length;
  if (total <= TRACESTATE_MAX_LENGTH) return { value: members.join(',') };

  const original = total;
  const kept = members.slice();
  const dropped: string[] = [];
  const remove = (i: number): void => {
    const m = kept[i];
    total -= m.length + (kept.length > 1 ? 1 : 0);
    dropped.push(m.slice(0, m.indexOf('=')));
    kept.splice(i, 1);
  };
  for (let i = kept.length - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) {
    if (kept[i].length > TRACESTATE_LARGE_ENTRY) remove(i);
  }
  for (let i = kept.length - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) remove(i);

  return {
    value: kept.length > 0 ? kept.join(',') : undefined,
    problem: `${original} characters exceed ${TRACESTATE_MAX_LENGTH}; dropped ${dropped.join(', ')}`,
  };
}

/*
 * Level 1 key grammar (the Recommendation, and what the conformance suite tests):
 *   key              = simple-key / multi-tenant-key
 *   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
 *   multi-tenant-key = tenant-id "@" system-id
 *   tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
 *   system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
 * (The Level 2 editor's draft relaxes this to one production with "@" anywhere; Level 1 is kept
 * because it is the published Recommendation and every Level 1 key is still valid there.)
 */
function validKey(s: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 256) return false;
  let at = -1;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x40) {
      if (at !== -1) return false; // at most one "@"
      at = i;
    } else if (!isKeyChar(c)) {
      return false;
    }
  }
  const first = s.charCodeAt(start);
  if (at === -1) return isLcAlpha(first);
  const tenant = at - start;
  const system = end - at - 1;
  return (
    tenant >= 1 && tenant <= 241 && (isLcAlpha(first) || isDigit(first)) &&
    system >= 1 && system <= 14 && isLcAlpha(s.charCodeAt(at + 1))
  );
}

/*
 *   value    = 0*255(chr) nblk-chr
 *   nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
 *   chr      = %x20 / nblk-chr
 * The member was already trimmed of OWS, so the last character is never a space or tab here.
 */
function validValue(s: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 256) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return true;
}

function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isKeyChar(c: number): boolean {
  // lcalpha / DIGIT / "_" / "-" / "*" / "/"
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f;
}

/** A short, printable excerpt for a problem message (never the whole attacker-sized input). */
function clip(s: string, start: number, end: number): string {
  const part = s.slice(start, Math.min(end, start + 40));
  // eslint-disable-next-line no-control-regex
  return part.replace(/[^\x20-\x7e]/g, '?') + (end - start > 40 ? '…' : '');
}
