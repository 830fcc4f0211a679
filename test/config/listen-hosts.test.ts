/**
 * Issue 8, defect 1: the restart check and the listeners must agree on the host a bare port
 * binds. Egress and named routes serve the app next to tracecar, so a bare port is loopback;
 * ingress is all interfaces; admin is loopback.
 */
import { describe, expect, test } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { restartRequired } from '../../src/config/restart.js';
import { startTracecar } from '../helpers/harness.js';

const base = `
ingress: { listen: 8080 }
egress: { listen: 15001, routes: [ { name: payments, listen: 9001, target: http://payments:8080 } ] }
admin: { listen: 9901 }
`;
const cfg = (text: string) => loadConfigText(text, 'r.yaml', {});

describe('restartRequired compares the address each listener really binds', () => {
  test('egress and route ports written with the loopback host they bind are not a change', () => {
    const next = cfg(base.replace('listen: 15001', 'listen: "127.0.0.1:15001"').replace('listen: 9001', 'listen: "127.0.0.1:9001"'));
    expect(restartRequired(cfg(base), next)).toEqual([]);
  });

  test('moving egress and a route from loopback to all interfaces is a change that needs a restart', () => {
    const next = cfg(base.replace('listen: 15001', 'listen: "0.0.0.0:15001"').replace('listen: 9001', 'listen: "0.0.0.0:9001"'));
    expect(restartRequired(cfg(base), next)).toEqual(['egress.listen', 'egress.routes["payments"].listen']);
  });

  test('ingress binds all interfaces and admin loopback, as before', () => {
    const same = cfg(base.replace('listen: 8080', 'listen: "0.0.0.0:8080"').replace('listen: 9901', 'listen: "127.0.0.1:9901"'));
    expect(restartRequired(cfg(base), same)).toEqual([]);
    const moved = cfg(base.replace('listen: 8080', 'listen: "127.0.0.1:8080"').replace('listen: 9901', 'listen: "0.0.0.0:9901"'));
    expect(restartRequired(cfg(base), moved)).toEqual(['ingress.listen', 'admin.listen']);
  });
});

describe('the listeners bind the hosts the restart check assumes', () => {
  test('bare ports: ingress on all interfaces, egress, routes and admin on loopback', async () => {
    const tc = await startTracecar({
      ingress: { listen: '0', target: 'http://127.0.0.1:1' },
      egress: { listen: '0', routes: [{ name: 'payments', listen: '0', target: 'http://127.0.0.1:1' }] },
      admin: { listen: '0' },
    });
    try {
      expect(tc.addresses.ingress.host).toBe('0.0.0.0');
      expect(tc.addresses.egress?.host).toBe('127.0.0.1');
      expect(tc.addresses.routes.payments.host).toBe('127.0.0.1');
      expect(tc.addresses.admin?.host).toBe('127.0.0.1');
      // Reloading the same ports written with those hosts is not a listener change.
      const next = structuredClone(tc.tracecar.config);
      next.ingress.listen = `0.0.0.0:0`;
      next.egress.listen = `127.0.0.1:0`;
      next.egress.routes[0].listen = `127.0.0.1:0`;
      next.admin.listen = `127.0.0.1:0`;
      expect(tc.tracecar.reload(next)).toEqual([]);
    } finally {
      await tc.close();
    }
  });
});
