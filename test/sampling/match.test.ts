import { describe, expect, it } from 'vitest';
import type { MatchConfig } from '../../src/config/types.js';
import { compileMatch } from '../../src/match/index.js';
import type { MatchInput } from '../../src/match/index.js';

function req(over: Partial<MatchInput> = {}): MatchInput {
  return { method: 'GET', path: '/', host: 'orders.local:8080', headers: {}, ...over };
}

describe('compileMatch', () => {
  const table: Array<[string, MatchConfig, Partial<MatchInput>, boolean]> = [
    ['empty match: everything', {}, { method: 'DELETE', path: '/x/y' }, true],
    // paths
    ['exact path', { path: '/healthz' }, { path: '/healthz' }, true],
    ['exact path ignores query', { path: '/healthz' }, { path: '/healthz?verbose=1' }, true],
    ['exact path, trailing slash differs', { path: '/healthz' }, { path: '/healthz/' }, false],
    ['exact path is case-sensitive', { path: '/healthz' }, { path: '/HEALTHZ' }, false],
    ['* one segment', { path: '/users/*' }, { path: '/users/42' }, true],
    ['* not zero segments', { path: '/users/*' }, { path: '/users' }, false],
    ['* not empty segment', { path: '/users/*' }, { path: '/users/' }, false],
    ['* not two segments', { path: '/users/*' }, { path: '/users/42/orders' }, false],
    ['* in the middle', { path: '/users/*/orders' }, { path: '/users/42/orders' }, true],
    ['** zero segments', { path: '/checkout/**' }, { path: '/checkout' }, true],
    ['** trailing slash', { path: '/checkout/**' }, { path: '/checkout/' }, true],
    ['** many segments', { path: '/checkout/**' }, { path: '/checkout/a/b/c' }, true],
    ['** with query', { path: '/checkout/**' }, { path: '/checkout/a?x=/y' }, true],
    ['** needs the prefix segment', { path: '/checkout/**' }, { path: '/checkouts/a' }, false],
    ['** in the middle, zero', { path: '/a/**/z' }, { path: '/a/z' }, true],
    ['** in the middle, many', { path: '/a/**/z' }, { path: '/a/b/c/z' }, true],
    ['** in the middle, wrong tail', { path: '/a/**/z' }, { path: '/a/b/c/y' }, false],
    ['/** everything', { path: '/**' }, { path: '/any/thing' }, true],
    ['* within a segment', { path: '/files/*.png' }, { path: '/files/cat.png' }, true],
    ['* within a segment stays in it', { path: '/files/*.png' }, { path: '/files/a/cat.png' }, false],
    ['regex characters are literal', { path: '/v1.0/(x)' }, { path: '/v1.0/(x)' }, true],
    ['dot is not a wildcard', { path: '/v1.0/*' }, { path: '/v1x0/a' }, false],
    // methods
    ['method case-insensitive', { method: 'post' }, { method: 'POST' }, true],
    ['method list', { method: ['PUT', 'POST'] }, { method: 'post' }, true],
    ['method list miss', { method: ['PUT', 'POST'] }, { method: 'GET' }, false],
    // hosts
    ['host exact, port ignored', { host: 'orders.local' }, { host: 'orders.local:8080' }, true],
    ['host case-insensitive', { host: 'Orders.Local' }, { host: 'ORDERS.local' }, true],
    ['host with port must match port', { host: 'orders.local:9090' }, { host: 'orders.local:8080' }, false],
    ['host with port', { host: 'orders.local:8080' }, { host: 'orders.local:8080' }, true],
    ['host wildcard one label', { host: '*.example.com' }, { host: 'api.example.com' }, true],
    ['host wildcard deeper', { host: '*.example.com' }, { host: 'a.b.example.com:443' }, true],
    ['host wildcard not apex', { host: '*.example.com' }, { host: 'example.com' }, false],
    ['host wildcard not a look-alike', { host: '*.example.com' }, { host: 'evilexample.com' }, false],
    ['host * inside a label', { host: 'api-*.internal' }, { host: 'api-eu.internal' }, true],
    ['host * inside a label stays in it', { host: 'api-*.internal' }, { host: 'api-eu.x.internal' }, false],
    ['ipv6 host port ignored', { host: '[::1]' }, { host: '[::1]:8080' }, true],
    // headers
    ['header exact', { headers: { 'X-Tenant': 'acme' } }, { headers: { 'x-tenant': 'acme' } }, true],
    ['header exact is case-sensitive in value', { headers: { 'x-tenant': 'acme' } }, { headers: { 'x-tenant': 'ACME' } }, false],
    ['header present', { headers: { 'x-debug': '*' } }, { headers: { 'x-debug': '' } }, true],
    ['header absent', { headers: { 'x-debug': '*' } }, { headers: {} }, false],
    ['header array value', { headers: { 'x-v': 'b' } }, { headers: { 'x-v': ['a', 'b'] } }, true],
    // baggage
    ['baggage map', { baggage: { chaos: 'checkout-slow' } }, { baggage: new Map([['chaos', 'checkout-slow']]) }, true],
    ['baggage map other value', { baggage: { chaos: 'checkout-slow' } }, { baggage: new Map([['chaos', 'x']]) }, false],
    ['baggage from header fallback', { baggage: { chaos: 'checkout slow' } }, { headers: { baggage: 'a=1, chaos=checkout%20slow;prop=1' } }, true],
    ['baggage absent', { baggage: { chaos: 'checkout-slow' } }, {}, false],
    ['baggage header: a repeated key, last wins (as propagation reads it)', { baggage: { k: '2' } }, { headers: { baggage: 'k=1,k=2' } }, true],
    ['baggage header: an invalid member is skipped', { baggage: { k: 'a b' } }, { headers: { baggage: 'k=a b' } }, false],
    // AND of all conditions
    ['all conditions hold', { method: 'POST', path: '/checkout/**', host: '*.local', headers: { 'x-a': '*' } }, { method: 'POST', path: '/checkout/pay', headers: { 'x-a': '1' } }, true],
    ['one condition fails', { method: 'POST', path: '/checkout/**', host: '*.local' }, { method: 'GET', path: '/checkout/pay' }, false],
  ];
  it.each(table)('%s', (_name, config, input, expected) => {
    expect(compileMatch(config)(req(input))).toBe(expected);
  });

  it('describes itself', () => {
    expect(compileMatch({ method: ['post', 'PUT'], path: '/checkout/**', headers: { 'X-A': '*' }, baggage: { chaos: 'slow' } }).toString()).toBe(
      '{method=POST|PUT, path=/checkout/**, header:x-a=*, baggage:chaos=slow}',
    );
    expect(compileMatch({}).toString()).toBe('{}');
  });
});
