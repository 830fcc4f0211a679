/**
 * The response head nearly every upstream sends, read in JavaScript: HTTP/1.1, a final status, a
 * body framed by Content-Length (or none: HEAD, 204, 304), the whole head in one read. Anything
 * else, and anything this reader is not sure of, is declined (`undefined`) and the message goes to
 * llhttp from its first byte, which accepts or rejects it as node:http would.
 *
 * Why: calling llhttp from JavaScript costs a request ~4.5 µs (its strings, the body Buffer and
 * three calls back into JavaScript) where this costs well under 1 µs (docs/performance.md). Its
 * rule is to accept a strict subset of what llhttp accepts and read it the same way;
 * test/proxy/h1-head.test.ts checks both against a corpus, and h1-client.test.ts end to end.
 */

/** tchar (RFC 9110 §5.6.2): a field name is one or more of these. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** What a field value or reason phrase may hold (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text. No CTL, no DEL. */
const VALUE = new Uint8Array(256);
VALUE[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

export interface SimpleHead {
  status: number;
  statusText: string;
  /** [name, value, ...] as received (values without surrounding whitespace), as llhttp gives them. */
  headers: string[];
  /** Where the body starts in the chunk. */
  bodyStart: number;
  /** Body bytes to read (0: none). */
  contentLength: number;
  /** Connection: close was not said. */
  keepAlive: boolean;
  /** The Keep-Alive field's `timeout=` in seconds, or -1. */
  keepAliveSeconds: number;
}

/** `timeout=N` of a Keep-Alive field (the de-facto hint undici honours too; RFC 9112 has none), or -1. */
export function keepAliveTimeoutSeconds(value: string): number {
  let at = value.indexOf('timeout=');
  if (at < 0) {
    const m = /timeout=/i.exec(value);
    if (m === null) return -1;
    at = m.index;
  }
  let n = 0;
  let i = at + 8;
  const end = Math.min(value.length, i + 9);
  for (; i < end; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return i === at + 8 ? -1 : n;
}

/** Whether text[at…] spells `lower` (lower-case letters and '-') in any case: tchar only, so `| 0x20` is exact. */
function sameLetters(text: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The head at the start of `chunk`, or undefined when llhttp must read this message: a head not
 * complete in this chunk or over `maxHeaderSize`, not HTTP/1.1, a 1xx, Transfer-Encoding, no
 * Content-Length where a body may follow, duplicate Content-Length, Connection other than close or
 * keep-alive, Upgrade, or any byte out of place.
 */
export function readSimpleHead(chunk: Buffer, isHeadRequest: boolean, maxHeaderSize: number): SimpleHead | undefined {
  const end = chunk.indexOf(CRLFCRLF);
  if (end < 12 || end + 4 > maxHeaderSize) return undefined;
  const text = chunk.toString('latin1', 0, end);
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  if (!text.startsWith('HTTP/1.1 ') || text.charCodeAt(12) !== 0x20) return undefined;
  const d1 = text.charCodeAt(9) - 0x30;
  const d2 = text.charCodeAt(10) - 0x30;
  const d3 = text.charCodeAt(11) - 0x30;
  if (d1 < 2 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return undefined;
  const status = d1 * 100 + d2 * 10 + d3;
  let lineEnd = text.indexOf('\r\n', 13);
  if (lineEnd < 0) lineEnd = text.length;
  for (let i = 13; i < lineEnd; i++) if (VALUE[text.charCodeAt(i)] === 0) return undefined;
  const statusText = text.slice(13, lineEnd);

  const headers: string[] = [];
  let contentLength = -1;
  let keepAlive = true;
  let keepAliveSeconds = -1;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5): no space before the colon,
    // no obs-fold (a line starting with whitespace fails the name).
    let colon = pos;
    while (colon < eol && TCHAR[text.charCodeAt(colon)] === 1) colon++;
    if (colon === pos || colon === eol || text.charCodeAt(colon) !== 0x3a) return undefined;
    let vStart = colon + 1;
    while (vStart < eol && isSpace(text.charCodeAt(vStart))) vStart++;
    let vEnd = eol;
    while (vEnd > vStart && isSpace(text.charCodeAt(vEnd - 1))) vEnd--;
    for (let i = vStart; i < vEnd; i++) if (VALUE[text.charCodeAt(i)] === 0) return undefined;
    const name = text.slice(pos, colon);
    const value = text.slice(vStart, vEnd);
    // The fields that decide framing and reuse, compared without allocating (most fields are none).
    switch (colon - pos) {
      case 7:
        if (sameLetters(text, pos, 'upgrade')) return undefined;
        break;
      case 10:
        if (sameLetters(text, pos, 'connection')) {
          if (vEnd - vStart === 5 && sameLetters(text, vStart, 'close')) keepAlive = false;
          else if (vEnd - vStart !== 10 || !sameLetters(text, vStart, 'keep-alive')) return undefined;
        } else if (sameLetters(text, pos, 'keep-alive')) {
          keepAliveSeconds = keepAliveTimeoutSeconds(value);
        }
        break;
      case 14:
        if (sameLetters(text, pos, 'content-length')) {
          if (contentLength !== -1 || vEnd === vStart || vEnd - vStart > 15) return undefined;
          let n = 0;
          for (let i = vStart; i < vEnd; i++) {
            const c = text.charCodeAt(i) - 0x30;
            if (c < 0 || c > 9) return undefined;
            n = n * 10 + c;
          }
          contentLength = n;
        }
        break;
      case 17:
        if (sameLetters(text, pos, 'transfer-encoding')) return undefined;
        break;
    }
    headers.push(name, value);
    pos = eol + 2;
  }
  // RFC 9112 §6.3: no body after HEAD, 204 or 304; otherwise Content-Length or llhttp's framing.
  if (isHeadRequest || status === 204 || status === 304) contentLength = 0;
  else if (contentLength === -1) return undefined;
  return { status, statusText, headers, bodyStart: end + 4, contentLength, keepAlive, keepAliveSeconds };
}
