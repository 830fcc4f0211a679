/**
 * Header plumbing shared by ingress and egress: hop-by-hop removal (RFC 9110 §7.6.1) and
 * X-Forwarded-* (de-facto standard; RFC 7239 `Forwarded` is left untouched if a caller sent it).
 * Headers travel as flat [name, value, name, value] arrays so duplicates and case survive.
 */

/**
 * A set of lowercase header names, tested case-insensitively without making a lowercase copy of
 * the name tested: the request path tests every header it forwards against a few such sets, and
 * `toLowerCase()` per header was the largest single cost of the header filters in a profile.
 * Answers exactly `set.has(name.toLowerCase())`: ASCII letters are folded in place, and a name
 * with any other non-ASCII character (never a valid field name) is lowercased the usual way.
 */
export class HeaderNames {
  /** Names by length: most names tested have a length no listed name has. */
  private readonly byLength: Array<string[] | undefined> = [];

  constructor(names: Iterable<string>) {
    for (const name of names) {
      const lower = name.toLowerCase();
      const same = (this.byLength[lower.length] ??= []);
      if (!same.includes(lower)) same.push(lower);
    }
  }

  has(name: string): boolean {
    const candidates = this.byLength[name.length];
    if (candidates === undefined) return false;
    for (let k = 0; k < candidates.length; k++) if (equalsLowercase(name, candidates[k])) return true;
    return false;
  }
}

/** `name.toLowerCase() === lower`, for an ASCII `lower` of the same length. */
function equalsLowercase(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    else if (c > 0x7f) return name.toLowerCase() === lower;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones every proxy strips. */
const HOP_BY_HOP = new HeaderNames([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** RFC 9110 §7.6.1: "a proxy MUST ... remove any header field named in Connection". */
function connectionListed(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  let listed: Set<string> | undefined;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name);
  }
  return listed;
}

export interface ForwardHeaderOptions {
  /** Extra names to drop (stale trace headers, correlation headers we rewrite). */
  drop?: HeaderNames;
}

/**
 * Copies a request's raw headers minus hop-by-hop fields and the names in `drop`.
 * Returns the flat list and the (lowercase) Connection header value, if any.
 */
export function forwardableRequestHeaders(rawHeaders: readonly string[], connection: string | undefined, options: ForwardHeaderOptions = {}): string[] {
  const listed = connectionListed(connection);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) are never copied as headers.
    if (name.charCodeAt(0) === 0x3a) continue;
    if (HOP_BY_HOP.has(name) || options.drop?.has(name) || (listed !== undefined && listed.has(name.toLowerCase()))) continue;
    out.push(name, rawHeaders[i + 1]);
  }
  // A body sent chunked must stay framed: undici re-frames streams itself, so only TE is dropped.
  return out;
}

/** Same filter for upstream response headers (undici hands them over as Buffers), in one pass. */
export function forwardableResponseHeaders(rawHeaders: readonly Buffer[] | readonly string[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toString('latin1' as never);
    if (HOP_BY_HOP.has(name)) {
      // The last Connection field names what goes too.
      if (name.length === 10 && name.toLowerCase() === 'connection') connection = String(rawHeaders[i + 1]);
      continue;
    }
    out.push(name, rawHeaders[i + 1].toString('latin1' as never));
  }
  const listed = connectionListed(connection);
  if (listed === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!listed.has(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  return kept;
}

export interface ForwardedInfo {
  /** Address of the peer that connected to us. */
  remoteAddress: string | undefined;
  /** "http" or "https" as seen by the listener. */
  proto: string;
  /** Host header as received. */
  host: string | undefined;
  existingFor: string | string[] | undefined;
  existingProto: string | string[] | undefined;
  existingHost: string | string[] | undefined;
}

/**
 * X-Forwarded-For is appended (the chain stays intact); X-Forwarded-Proto/Host are set only when
 * absent, so an edge proxy's view of the original request survives the sidecar hop.
 */
export function appendForwardedHeaders(out: string[], info: ForwardedInfo): void {
  const prior = Array.isArray(info.existingFor) ? info.existingFor.join(', ') : info.existingFor;
  const remote = info.remoteAddress?.startsWith('::ffff:') ? info.remoteAddress.slice(7) : info.remoteAddress;
  if (remote) out.push('x-forwarded-for', prior ? `${prior}, ${remote}` : remote);
  else if (prior) out.push('x-forwarded-for', prior);
  const proto = Array.isArray(info.existingProto) ? info.existingProto[0] : info.existingProto;
  out.push('x-forwarded-proto', proto ?? info.proto);
  const host = Array.isArray(info.existingHost) ? info.existingHost[0] : info.existingHost;
  if (host) out.push('x-forwarded-host', host);
  else if (info.host) out.push('x-forwarded-host', info.host);
}

/** Names we always set ourselves, so a caller's copies must not be forwarded alongside ours. */
export const FORWARDED_NAMES = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'] as const;
