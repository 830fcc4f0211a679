/**
 * The active-fault cap in /metrics, named as Envoy's fault filter names it: a gauge of faults in
 * progress (active_faults) and a counter of faults rolled but not injected because the cap was
 * reached (faults_overflow). Counts survive a chaos reload: faults still in progress keep
 * counting against the cap.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTracecar, startUpstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('chaos cap metrics', () => {
  it('tracecar_chaos_active_faults and tracecar_chaos_faults_overflow_total follow the cap, across a reload', async () => {
    const app = await startUpstream();
    const tc = await startTracecar({
      ingress: { target: app.url },
      export: { console: 'off' },
      chaos: { enabled: true, maxActiveFaults: 1, rules: [{ match: { path: '/slow' }, side: 'ingress', delay: { distribution: 'fixed', value: 60_000, percent: 100 } }] },
    });
    const read = async () => {
      const text = await tc.tracecar.metrics.render();
      return { active: metric(text, 'tracecar_chaos_active_faults'), overflow: metric(text, 'tracecar_chaos_faults_overflow_total') };
    };
    try {
      expect(await read()).toEqual({ active: 0, overflow: 0 });
      // One request held by the delay: the cap (1) is full.
      const held = request({ host: '127.0.0.1', port: tc.addresses.ingress.port, path: '/slow', agent: false });
      held.on('error', () => {});
      held.end();
      await waitFor(() => tc.tracecar.inflight === 1, 5_000, 'the delayed request in flight');
      expect(await read()).toEqual({ active: 1, overflow: 0 });

      // The next one rolls the same fault but is over the cap: not delayed, counted as overflow.
      const res = await fetch(`${tc.url}/slow`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-tracecar-chaos')).toBeNull();
      await res.text();
      expect(await read()).toEqual({ active: 1, overflow: 1 });

      // A new chaos config keeps counting: the held fault is still active, and still fills the cap.
      const next = structuredClone(tc.tracecar.config);
      next.chaos.rules[0].match = { path: '/slow*' };
      tc.tracecar.reload(next);
      const again = await fetch(`${tc.url}/slow`);
      expect(again.headers.get('x-tracecar-chaos')).toBeNull();
      await again.text();
      expect(await read()).toEqual({ active: 1, overflow: 2 });

      // The held client leaves: its fault ends.
      held.destroy();
      await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'the delayed request ended');
      expect(await read()).toEqual({ active: 0, overflow: 2 });
    } finally {
      await tc.close();
      await app.close();
    }
  });
});
