import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import { TracecarError } from '../../src/errors.js';

describe('CLI flags map onto config keys', () => {
  it('egress: --egress-port, repeatable --route NAME=PORT:URL, --infer-parent', () => {
    const c = parseCli(['--target', 'http://localhost:3000', '--egress-port', '15001', '--route', 'payments=9001:http://payments:8080', '--route', 'users=127.0.0.1:9002:https://users.internal', '--infer-parent']);
    expect(c.overrides.egress).toEqual({
      listen: '15001',
      routes: [
        { name: 'payments', listen: '9001', target: 'http://payments:8080' },
        { name: 'users', listen: '127.0.0.1:9002', target: 'https://users.internal' },
      ],
      inferParent: 'when-unambiguous',
    });
  });

  it('admin: --admin-port N binds loopback, --no-admin turns it off', () => {
    expect(parseCli(['--admin-port', '0']).overrides.admin).toEqual({ listen: '127.0.0.1:0' });
    expect(parseCli(['--no-admin']).overrides.admin).toEqual({ listen: null });
  });

  it('ingress and service flags', () => {
    const c = parseCli(['-t', 'http://127.0.0.1:3000', '-p', '9090', '-s', 'orders', '--otlp-endpoint', 'http://collector:4317']);
    expect(c.overrides).toMatchObject({ ingress: { target: 'http://127.0.0.1:3000', listen: '9090' }, service: { name: 'orders' }, export: { otlp: { endpoint: 'http://collector:4317' } } });
  });

  it('a malformed --route is a usage error with an example', () => {
    try {
      parseCli(['--route', 'payments:9001']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TracecarError);
      expect((err as TracecarError).code).toBe('TRC_ERR_INVALID_ARGUMENT');
      expect((err as TracecarError).hint).toContain('--route payments=9001:http://payments:8080');
    }
  });

  it('validate takes exactly one file', () => {
    expect(parseCli(['validate', 'a.yaml'])).toMatchObject({ kind: 'validate', validateFile: 'a.yaml' });
    expect(() => parseCli(['validate'])).toThrow(/exactly one FILE/);
  });
});
