/**
 * Path and host globs, compiled once. A pattern without wildcards compiles to a string compare.
 *
 * Path (segments split on "/"):
 *   - a segment that is exactly `*`  matches exactly one non-empty segment: `/users/*` ~ `/users/42`
 *   - a segment that is exactly `**` matches any number of segments, zero included:
 *     `/checkout/**` ~ `/checkout`, `/checkout/`, `/checkout/a/b`;
 *     in the middle, `/a/` + `**` + `/z` matches `/a/z` and `/a/b/c/z`
 *   - `*` inside a segment matches within that segment: `/files/*.png` ~ `/files/cat.png`
 *   - everything else is literal and case-sensitive; the query string is never part of the match.
 *
 * Host (case-insensitive):
 *   - a leading `*` matches any non-empty prefix, as Envoy's domain wildcard: `*.example.com`
 *     matches `api.example.com` and `a.b.example.com`, not `example.com`;
 *   - `*` elsewhere matches within one label: `api-*.internal`;
 *   - the request's port is ignored unless the pattern has one (`localhost:8080`).
 */

export type StringTest = (value: string) => boolean;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The path without its query string or fragment. */
export function stripQuery(path: string): string {
  const q = path.indexOf('?');
  const h = path.indexOf('#');
  const cut = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return cut === -1 ? path : path.slice(0, cut);
}

export function compilePathGlob(pattern: string): StringTest {
  if (!pattern.includes('*')) return (path) => stripQuery(path) === pattern;
  const segments = pattern.split('/');
  // segments[0] is '' for an absolute pattern; a relative one is anchored at the start anyway.
  let source = segmentSource(segments[0]!);
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    source += seg === '**' ? '(?:/[^/]*)*' : '/' + segmentSource(seg);
  }
  const re = new RegExp('^' + source + '$');
  return (path) => re.test(stripQuery(path));
}

function segmentSource(seg: string): string {
  if (seg === '*') return '[^/]+';
  if (seg === '**') return '.*';
  return seg.split('*').map(escapeRegex).join('[^/]*');
}

/** "host:port" → host; "[::1]:8080" → "[::1]". */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export function compileHostGlob(pattern: string): StringTest {
  const p = pattern.toLowerCase();
  const withPort = stripPort(p) !== p;
  const norm = (host: string): string => (withPort ? host : stripPort(host)).toLowerCase();
  if (p === '*') return () => true;
  if (!p.includes('*')) return (host) => norm(host) === p;
  if (p.lastIndexOf('*') === 0) {
    const suffix = p.slice(1);
    return (host) => {
      const h = norm(host);
      return h.length > suffix.length && h.endsWith(suffix);
    };
  }
  const body = p.startsWith('*') ? p.slice(1) : p;
  const source = (p.startsWith('*') ? '.+' : '') + body.split('*').map(escapeRegex).join('[^.]*');
  const re = new RegExp('^' + source + '$');
  return (host) => re.test(norm(host));
}

/** A name glob (gRPC service or method): `*` matches any run of characters, case-sensitive. */
export function compileNameGlob(pattern: string): StringTest {
  if (!pattern.includes('*')) return (name) => name === pattern;
  const re = new RegExp('^' + pattern.split('*').map(escapeRegex).join('.*') + '$');
  return (name) => re.test(name);
}
