import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';
import { DEFAULTS } from '../../src/config/defaults.js';

/** The redaction as first written (split, decode every key): the fast path must answer exactly this. */
function reference(keys: readonly string[], query: string): string {
  const listed = new Set(keys.map((k) => k.toLowerCase()));
  if (query === '' || listed.size === 0) return query;
  let changed = false;
  const parts = query.split('&');
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    const rawKey = eq === -1 ? parts[i] : parts[i].slice(0, eq);
    let key = rawKey;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      // keep the raw key
    }
    if (listed.has(key.toLowerCase())) {
      parts[i] = `${rawKey}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? parts.join('&') : query;
}

describe('query redaction', () => {
  const keys = DEFAULTS.redact.query;
  const redactor = createRedactor(DEFAULTS.redact);

  it('replaces listed values, whatever the key case or escaping, and leaves the rest byte for byte', () => {
    expect(redactor.query('user=bob&token=s3cr3t&Api_Key=k&x')).toBe(`user=bob&token=${REDACTED}&Api_Key=${REDACTED}&x`);
    expect(redactor.query('%74oken=a&pass+word=b&password=c&sig')).toBe(`%74oken=${REDACTED}&pass+word=b&password=${REDACTED}&sig=${REDACTED}`);
    expect(redactor.query('a=1&b=%ZZ&%E0%A4%A=x')).toBe('a=1&b=%ZZ&%E0%A4%A=x');
    expect(redactor.query('page=2&&limit=50&')).toBe('page=2&&limit=50&');
    expect(createRedactor({ ...DEFAULTS.redact, query: [] }).query('token=1')).toBe('token=1');
  });

  it('answers what splitting and decoding every key answers, for any query', () => {
    const piece = fc.constantFrom(...keys, 'TOKEN', 'Code', 'to', 'ken', 'x', '', '=', '&', '%', '%74', '%6B', '+', '%2B', 'a=b', 'İ', 'é', '%C3%A9', '%E0%A4%A');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        const query = pieces.join('');
        expect(redactor.query(query)).toBe(reference(keys, query));
      }),
      { numRuns: 5000, seed: 9 },
    );
  });
});
