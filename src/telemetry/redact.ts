import type { RedactConfig } from '../config/types.js';
import { REDACTED } from '../config/redact.js';

export { REDACTED };

/**
 * Secrets never reach a span or a log line: query values named in `redact.query` are replaced.
 * Request headers are never recorded at all, so `redact.headers` only matters for the config view.
 */
export interface Redactor {
  /** Query string without '?', with listed parameters' values replaced. */
  query(query: string): string;
}

export function createRedactor(config: RedactConfig): Redactor {
  const queryKeys = new Set(config.query.map((k) => k.toLowerCase()));
  return {
    query(query) {
      if (query === '' || queryKeys.size === 0) return query;
      let changed = false;
      const parts = query.split('&');
      for (let i = 0; i < parts.length; i++) {
        const eq = parts[i].indexOf('=');
        const rawKey = eq === -1 ? parts[i] : parts[i].slice(0, eq);
        let key = rawKey;
        try {
          key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
        } catch {
          // keep the raw key: a malformed escape must not hide a secret from the check below
        }
        if (queryKeys.has(key.toLowerCase())) {
          parts[i] = `${rawKey}=${REDACTED}`;
          changed = true;
        }
      }
      return changed ? parts.join('&') : query;
    },
  };
}

/** Splits a request target into path and query (without '?'). */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
