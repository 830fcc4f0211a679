import { describe, expect, it } from 'vitest';
import { KNOWN_METHODS, knownMethod } from '../../src/telemetry/http-method.js';

describe('knownMethod (http.request.method for spans and metric labels)', () => {
  it('keeps the semantic conventions\' well-known methods, upper-cased', () => {
    expect([...KNOWN_METHODS].sort()).toEqual(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
    for (const m of KNOWN_METHODS) expect(knownMethod(m)).toBe(m);
    expect(knownMethod('get')).toBe('GET');
    expect(knownMethod('Query')).toBe('QUERY');
  });

  it('maps anything else to _OTHER', () => {
    for (const m of ['BREW', 'PURGE', 'propfind', '', 'GET ']) expect(knownMethod(m)).toBe('_OTHER');
  });
});
