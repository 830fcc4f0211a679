/** How much of a header value a propagation problem message quotes. */
export const PROBLEM_EXCERPT = 40;

/**
 * The one way header input is quoted in a problem message, a span attribute or a log line: a
 * bounded excerpt in which nothing can end, fake or colour a line.
 *
 * At most `max` UTF-16 units of s[start, end) are kept (a surrogate pair is never cut in half);
 * C0 controls (TAB, CR, LF included), DEL, C1 controls (U+0080–U+009F: node decodes header bytes as
 * latin1, so byte 0x85, NEL, arrives as U+0085 and splits lines for Unicode-aware readers),
 * U+2028/U+2029, lone surrogates and the backslash itself are written as `\xHH` / `\uHHHH` / `\\`,
 * so the excerpt is unambiguous. When cut, `…(N chars)` gives the original length.
 * Cost is O(max), whatever the input's size.
 */
export function excerpt(s: string, max: number, start = 0, end = s.length): string {
  const length = end - start;
  let stop = start + Math.min(length, max);
  if (stop < end && isHighSurrogate(s.charCodeAt(stop - 1))) stop--;
  let out = '';
  for (let i = start; i < stop; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) out += '\\x' + hex(c, 2);
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x2028 || c === 0x2029) out += '\\u' + hex(c, 4);
    else if (c >= 0xd800 && c <= 0xdfff && !isPaired(s, i, start, stop)) out += '\\u' + hex(c, 4);
    else out += s[i];
  }
  return stop < end ? `${out}…(${length} chars)` : out;
}

/** Printable ASCII without the backslash: what an attribute value may hold as it is. */
const PLAIN = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * A header-derived span attribute (user_agent.original, client.address, server.address): the
 * value as it is when it is short printable ASCII (the usual case, one regex test), else its
 * excerpt, so no attribute is unbounded and none can carry a line break or control.
 */
export function boundedValue(s: string, max: number): string {
  return s.length <= max && PLAIN.test(s) ? s : excerpt(s, max);
}

function hex(c: number, width: number): string {
  return c.toString(16).padStart(width, '0');
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** True when the surrogate at i has its partner inside [start, stop). */
function isPaired(s: string, i: number, start: number, stop: number): boolean {
  if (isHighSurrogate(s.charCodeAt(i))) {
    if (i + 1 >= stop) return false;
    const next = s.charCodeAt(i + 1);
    return next >= 0xdc00 && next <= 0xdfff;
  }
  return i - 1 >= start && isHighSurrogate(s.charCodeAt(i - 1));
}
