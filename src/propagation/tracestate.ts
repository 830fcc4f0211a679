/*
 * W3C Trace Context `tracestate`, as the current editor's draft defines it (w3c/trace-context,
 * spec/20-http_request_header_format.md, "Tracestate Header"; where it differs from the 2021
 * Recommendation the draft is followed, and the comments say where):
 *   list        = list-member 0*31( OWS "," OWS list-member )
 *   list-member = key "=" value / OWS
 * A list that breaks the grammar is discarded whole, as the official test suite expects
 * (w3c/trace-context test/test.py, STRICT_LEVEL 2: "expects the tracestate to be discarded"):
 * an invalid key or value, a member without "=", more than 32 members. Two things are not
 * grammar errors and keep the rest of the list: a repeated key (only its first entry is kept,
 * see below) and size (an over-long list is truncated by whole entries in the order the spec gives).
 */
import { excerpt, PROBLEM_EXCERPT } from './excerpt.js';
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
  let count = 0;
  let repeated: string[] | undefined;
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

    // The count is of list-members as sent, repeated keys included: the grammar allows 32.
    if (++count > TRACESTATE_MAX_MEMBERS) {
      return { problem: `more than ${TRACESTATE_MAX_MEMBERS} list-members` };
    }
    const key = combined.slice(s, eq);
    // "Only one entry per key is allowed because the entry represents that last position in the
    // trace." The editor's draft no longer discards the list for it (test/test.py
    // test_tracestate_duplicated_keys: "expects the tracestate to be inherited, and the
    // duplicated keys to be either kept as-is or one of them to be discarded"). The first entry
    // is kept: "Modified keys MUST be moved to the beginning (left) of the list", so the
    // left-most is the latest position. At most 32 keys, so a linear scan beats a Set.
    if (keys.includes(key)) {
      (repeated ??= []).push(key);
      normalised = false;
      continue;
    }
    members.push(combined.slice(s, e));
    keys.push(key);
  }

  if (members.length === 0) return EMPTY;
  const result: TracestateResult =
    normalised && n <= TRACESTATE_MAX_LENGTH ? { value: combined } : limitLength(members);
  if (repeated) {
    const note = `repeated key${repeated.length > 1 ? 's' : ''} ${keyList(repeated)}: kept the first entry`;
    result.problem = result.problem ? `${note}; ${result.problem}` : note;
  }
  return result;
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
    problem: `${original} characters exceed ${TRACESTATE_MAX_LENGTH}; dropped ${keyList(dropped)}`,
  };
}

/*
 * Key, editor's draft (spec/20-http_request_header_format.md, "Key"):
 *   key     = ( lcalpha / DIGIT ) 0*255 ( keychar )
 *   keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
 * "A key MUST begin with a lowercase letter or a digit and contain up to 256 characters".
 * This replaces the Recommendation's simple-key / multi-tenant-key split (one "@", a tenant of
 * at most 241 and a system id of at most 14 characters): every Level 1 key is still valid, and
 * `foo@`, `foo@@bar`, `1foo`, `t@vvvvvvvvvvvvvvv` now are too. A key starting with "@" is not.
 */
function validKey(s: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 256) return false;
  const first = s.charCodeAt(start);
  if (!isLcAlpha(first) && !isDigit(first)) return false;
  for (let i = start + 1; i < end; i++) {
    if (!isKeyChar(s.charCodeAt(i))) return false;
  }
  return true;
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
  // lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f || c === 0x40;
}

/** A short, log-safe excerpt for a problem message (never the whole attacker-sized input). */
function clip(s: string, start: number, end: number): string {
  return excerpt(s, PROBLEM_EXCERPT, start, end);
}

/** At most 8 keys named (each clipped), then how many more: a problem stays a few hundred bytes. */
function keyList(keys: readonly string[]): string {
  const shown = keys.slice(0, 8).map((k) => clip(k, 0, k.length));
  return keys.length > 8 ? `${shown.join(', ')} and ${keys.length - 8} more` : shown.join(', ');
}
