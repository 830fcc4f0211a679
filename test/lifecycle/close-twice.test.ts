/**
 * Issue 8, defect 6: close() called twice (a SIGTERM handler and an embedding process's own
 * shutdown, say). Both calls must resolve only once the drain is over, not the second at once.
 */
import { describe, expect, it } from 'vitest';
import { startTracecar, startUpstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('close() twice', () => {
  it('the second call resolves only when the drain the first started is done', async () => {
    let release: (() => void) | undefined;
    const app = await startUpstream((_req, res) => {
      release = () => res.end('late');
    });
    const tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' }, shutdownTimeout: 10_000 });
    try {
      const events: string[] = [];
      const response = fetch(`${tc.url}/slow`).then(async (r) => {
        events.push(`response ${r.status} ${await r.text()}`);
      });
      await waitFor(() => release !== undefined, 5_000, 'the request reached the app');

      const first = tc.tracecar.close().then(() => events.push('first close'));
      const second = tc.tracecar.close().then(() => events.push('second close'));
      // Nothing may resolve while the request is still in flight, however long we look.
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
      expect(events).toEqual([]);
      expect(tc.tracecar.inflight).toBe(1);

      events.push('app answered');
      release!();
      await Promise.all([first, second, response]);
      expect(events[0]).toBe('app answered');
      expect(events).toContain('response 200 late');
      expect(events.filter((e) => e.endsWith('close')).sort()).toEqual(['first close', 'second close']);
    } finally {
      await tc.close();
      await app.close();
    }
  });
});
