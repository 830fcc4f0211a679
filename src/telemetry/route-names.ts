import type { RouteConfig } from '../config/types.js';

/**
 * Span names must have low cardinality (OTel HTTP semconv: `{method} {target}` where target is
 * http.route). Configured patterns win; otherwise segments that look like ids are templated.
 */
export interface RouteNamer {
  /** Route template for a path (no query), e.g. "/orders/:id". */
  route(path: string): string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const DIGITS = /^\d+$/;
/** Mixed letters and ≥ 4 digits, at least 12 long: opaque ids like "ord_8f3k29x1m7qp". */
const OPAQUE = /^(?=(?:.*\d){4})[\w-]{12,}$/;

function looksLikeId(segment: string): boolean {
  return DIGITS.test(segment) || UUID.test(segment) || HEXISH.test(segment) || OPAQUE.test(segment);
}

type Matcher = (segments: string[]) => boolean;

function compilePattern(pattern: string): Matcher {
  const parts = pattern.split('/').slice(1);
  const globTail = parts[parts.length - 1] === '**';
  const fixed = globTail ? parts.slice(0, -1) : parts;
  return (segments) => {
    if (globTail ? segments.length < fixed.length : segments.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      const p = fixed[i];
      if (p.startsWith(':') || p === '*') continue;
      if (p !== segments[i]) return false;
    }
    return true;
  };
}

export function createRouteNamer(routes: readonly RouteConfig[]): RouteNamer {
  const compiled = routes.map((r) => ({ match: compilePattern(r.pattern), name: r.name ?? r.pattern }));
  // Most services expose a handful of paths: a small cache skips re-splitting them.
  const cache = new Map<string, string>();
  const CACHE_LIMIT = 1024;
  return {
    route(path) {
      const hit = cache.get(path);
      if (hit !== undefined) return hit;
      const segments = path.split('/').slice(1);
      let name: string | undefined;
      for (const r of compiled) {
        if (r.match(segments)) {
          name = r.name;
          break;
        }
      }
      name ??= '/' + segments.map((s) => (looksLikeId(s) ? ':id' : s)).join('/');
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(path, name);
      return name;
    },
  };
}
