/**
 * The gRPC protocol facts tracecar reads from a request and the rules built on them: the content
 * type, the method from the path, grpc-timeout, status names and which are errors, grpc-message
 * encoding; the grpc matcher; the chaos header's grpc directive; the config checks of a target's
 * protocol and TLS settings.
 */
import { describe, expect, it } from 'vitest';
import { decodeGrpcMessage, encodeGrpcMessage, grpcStatusName, isGrpcContentType, isGrpcError, parseGrpcPath, parseGrpcStatus, parseGrpcTimeout } from '../../src/grpc/index.js';
import { compileMatch } from '../../src/match/match.js';
import { parseChaosHeader } from '../../src/chaos/header.js';
import { loadConfigText } from '../../src/config/load.js';
import type { ConfigError } from '../../src/config/problems.js';

describe('gRPC facts', () => {
  it.each([
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc+json', true],
    ['application/grpc;charset=utf-8', true],
    ['APPLICATION/GRPC', true],
    ['application/grpc-web', false],
    ['application/grpc-web-text+proto', false],
    ['application/json', false],
    [undefined, false],
  ])('content-type %s is gRPC: %s', (ct, expected) => expect(isGrpcContentType(ct)).toBe(expected));

  it('the method comes from /package.Service/Method, nothing else', () => {
    expect(parseGrpcPath('/helloworld.Greeter/SayHello')).toEqual({ service: 'helloworld.Greeter', method: 'SayHello', full: 'helloworld.Greeter/SayHello' });
    for (const p of ['/', '/Greeter', '/a/b/c', '//x', '/a/', '/a/b?x=1', 'a/b']) expect(parseGrpcPath(p), p).toBeUndefined();
  });

  it('grpc-timeout: 1-8 digits and a unit', () => {
    expect(parseGrpcTimeout('1H')).toBe(3_600_000);
    expect(parseGrpcTimeout('2M')).toBe(120_000);
    expect(parseGrpcTimeout('3S')).toBe(3000);
    expect(parseGrpcTimeout('250m')).toBe(250);
    expect(parseGrpcTimeout('1500u')).toBe(1.5);
    expect(parseGrpcTimeout('2000000n')).toBe(2);
    for (const bad of ['', '10', 'S', '123456789S', '1s', '-1S', '1.5S']) expect(parseGrpcTimeout(bad), bad).toBeUndefined();
  });

  it('status names, and which codes are errors on each side', () => {
    expect(grpcStatusName(0)).toBe('OK');
    expect(grpcStatusName(14)).toBe('UNAVAILABLE');
    expect(grpcStatusName(99)).toBe('99');
    const serverErrors = Array.from({ length: 17 }, (_, c) => c).filter((c) => isGrpcError(c, 'server'));
    expect(serverErrors.map(grpcStatusName)).toEqual(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']);
    expect(Array.from({ length: 17 }, (_, c) => c).filter((c) => isGrpcError(c, 'client'))).toHaveLength(16);
    expect(parseGrpcStatus('5')).toBe(5);
    expect(parseGrpcStatus('x')).toBeUndefined();
  });

  it('grpc-message is percent-encoded outside printable ASCII, and decoded back', () => {
    const message = 'boom: 100% € failure\nsecond line';
    const encoded = encodeGrpcMessage(message);
    expect(encoded).toBe('boom: 100%25 %E2%82%AC failure%0Asecond line');
    expect(decodeGrpcMessage(encoded)).toBe(message);
  });
});

describe('rules and config around gRPC', () => {
  const input = (path: string, grpc?: { service: string; method: string }) => ({ method: 'POST', path, host: 'h', headers: {}, grpc });

  it('match.grpc: service and method globs, gRPC calls only', () => {
    const m = compileMatch({ grpc: { service: 'shop.*', method: 'Get*' } });
    expect(m(input('/shop.Orders/GetOrder', { service: 'shop.Orders', method: 'GetOrder' }))).toBe(true);
    expect(m(input('/shop.Orders/PutOrder', { service: 'shop.Orders', method: 'PutOrder' }))).toBe(false);
    expect(m(input('/bank.Ledger/GetBalance', { service: 'bank.Ledger', method: 'GetBalance' }))).toBe(false);
    // The same path without a gRPC content type is not a gRPC call.
    expect(m(input('/shop.Orders/GetOrder'))).toBe(false);
    expect(String(m)).toBe('{grpc=shop.*/Get*}');
    expect(compileMatch({ grpc: {} })(input('/a.B/C', { service: 'a.B', method: 'C' }))).toBe(true);
  });

  it('x-tracecar-chaos: grpc=N picks the gRPC status of an abort', () => {
    expect(parseChaosHeader('abort=503;grpc=4')).toMatchObject({ abortStatus: 503, abortGrpcStatus: 4, problems: [] });
    expect(parseChaosHeader('abort=503;grpc=17').problems).toEqual(['grpc=17: expected a gRPC status code 0-16']);
  });

  const problems = (yaml: string): string[] => {
    try {
      loadConfigText(yaml, 't.yaml', {});
      return [];
    } catch (err) {
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('a protocol that does not fit the scheme, TLS settings for a cleartext target, half a client certificate', () => {
    expect(problems('ingress: { target: "http://a:1", protocol: h2 }\n')).toEqual(['ingress.protocol: protocol h2 does not fit http://a:1 (expected h2c or http1 for an http:// target (h2 needs https://))']);
    expect(problems('ingress: { target: "https://a:1", protocol: h2c }\n')).toEqual(['ingress.protocol: protocol h2c does not fit https://a:1 (expected h2 or http1 for an https:// target (h2c is HTTP/2 without TLS))']);
    expect(problems('egress: { routes: [ { name: r, listen: 9001, target: "h2c://a:1", targetTls: { ca: /x.pem } } ] }\n')).toEqual([
      'egress.routes[0].targetTls: targetTls applies to https:// targets only (the target is h2c://a:1)',
    ]);
    expect(problems('ingress: { target: "https://a:1", targetTls: { cert: /c.pem } }\n')).toEqual(['ingress.targetTls: a client certificate needs both cert and key (missing key)']);
    expect(problems('ingress: { target: "h2c://a:1", protocol: auto }\nchaos: { rules: [ { abort: { status: 503, grpcStatus: 14 } } ] }\n')).toEqual([]);
    expect(problems('ingress: { target: "ftp://a:1" }\n')).toEqual(['ingress.target: invalid URL "ftp://a:1" (expected an http://, https:// or h2c:// URL like http://127.0.0.1:3000)']);
  });
});
