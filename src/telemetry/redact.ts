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

  /**
   * One pass over the query, allocating only each plain key (no split, no decoding): whether a
   * parameter may be listed. Keys holding an escape ('%', '+') answer yes, so the exact check
   * below decodes them. Most queries name no listed key: they leave here unchanged.
   */
  function mayListKey(query: string): boolean {
    let keyStart = 0;
    let keyEnd = -1;
    for (let i = 0; i <= query.length; i++) {
      const c = i === query.length ? 0x26 : query.charCodeAt(i);
      if (c === 0x26 /* & */) {
        if (queryKeys.has(query.slice(keyStart, keyEnd === -1 ? i : keyEnd).toLowerCase())) return true;
        keyStart = i + 1;
        keyEnd = -1;
      } else if (keyEnd === -1) {
        if (c === 0x3d /* = */) keyEnd = i;
        else if (c === 0x25 /* % */ || c === 0x2b /* + */) return true;
      }
    }
    return false;
  }

  return {
    query(query) {
      if (query === '' || queryKeys.size === 0 || !mayListKey(query)) return query;
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
