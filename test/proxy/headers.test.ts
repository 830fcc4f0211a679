import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { forwardableRequestHeaders, forwardableResponseHeaders, HeaderNames } from '../../src/proxy/headers.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The filter as first written (one pass for Connection, one to copy): the one-pass version must answer exactly this. */
function reference(raw: readonly Buffer[]): string[] {
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) if (String(raw[i]).toLowerCase() === 'connection') connection = String(raw[i + 1]);
  let listed: Set<string> | undefined;
  for (const token of connection?.split(',') ?? []) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name);
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  return out;
}

describe('forwardableResponseHeaders', () => {
  it('drops hop-by-hop fields and the ones the last Connection field names, keeping order, case and duplicates', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'x-a', 'X-A', '1', 'Set-Cookie', 'a=1', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'b=2', 'X-B', '2', 'connection', 'X-B, close'].map((s) => Buffer.from(s, 'latin1'));
    expect(forwardableResponseHeaders(raw)).toEqual(['Content-Type', 'text/plain', 'X-A', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });

  it('answers what the two-pass filter answers, for any header list', () => {
    const name = fc.constantFrom('Connection', 'connection', 'Keep-Alive', 'TE', 'Trailer', 'Upgrade', 'X-A', 'x-a', 'X-B', 'Content-Length', 'Set-Cookie', 'close', 'Transfer-Encoding');
    const value = fc.constantFrom('', '1', 'x-a', 'X-B, x-a', ' close , keep-alive', 'upgrade,x-b', ', ,', 'é');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 10 }), (pairs) => {
        const raw = pairs.flatMap(([n, v]) => [Buffer.from(n, 'latin1'), Buffer.from(v, 'latin1')]);
        expect(forwardableResponseHeaders(raw)).toEqual(reference(raw));
      }),
      { numRuns: 3000, seed: 9 },
    );
  });
});

describe('HeaderNames', () => {
  it('answers set.has(name.toLowerCase()) for any name, ASCII or not', () => {
    const listed = ['keep-alive', 'te', 'x-request-id', 'traceparent', 'X-Forwarded-For', 'k'];
    const names = new HeaderNames(listed);
    const lower = new Set(listed.map((n) => n.toLowerCase()));
    // Letters that fold to ASCII only through toLowerCase (KELVIN SIGN → k, and İ → i̇ of two chars).
    const char = fc.constantFrom('k', 'K', '\u212a', 'e', 'E', 'p', 'P', '-', 'a', 'L', 'i', 'v', 't', 'T', 'İ', 'é', 'É', 'ÿ', 'x', 'X', 'r', 'c', 'q');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 12 }), fc.constantFrom(...listed, ''), fc.boolean(), (chars, base, useBase) => {
        const name = useBase ? [...base].map((c, i) => (chars[i] === 'X' ? c.toUpperCase() : c)).join('') : chars.join('');
        expect(names.has(name)).toBe(lower.has(name.toLowerCase()));
      }),
      { numRuns: 5000, seed: 9 },
    );
    expect(names.has('\u212a')).toBe(true);
    expect(names.has('KEEP-ALIVE')).toBe(true);
    expect(names.has('keep-alivE ')).toBe(false);
  });

  it('filters request headers as the lowercase-set version did: hop-by-hop, dropped and Connection-listed names go', () => {
    const raw = ['Host', 'a', 'Connection', 'x-Secret, close', 'X-SECRET', '1', 'TraceParent', 'old', 'Keep-Alive', '5', 'Accept', '*/*', 'x-request-id', 'old', 'TE', 'trailers'];
    const drop = new HeaderNames(['traceparent', 'x-request-id']);
    expect(forwardableRequestHeaders(raw, 'x-Secret, close', { drop })).toEqual(['Host', 'a', 'Accept', '*/*']);
    expect(forwardableRequestHeaders(raw, undefined)).toEqual(['Host', 'a', 'X-SECRET', '1', 'TraceParent', 'old', 'Accept', '*/*', 'x-request-id', 'old']);
  });
});

