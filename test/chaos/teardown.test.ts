/**
 * Issue 8, defect 2: the chaos response stages (throttle, slow body) hold timers. A client that
 * leaves mid-response must tear every stage down with it, so close() leaves no live timer that
 * would keep an embedding process alive. Counted with process.getActiveResourcesInfo(), which
 * lists one "Timeout" per referenced (process-keeping) timer.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTracecar, startUpstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import type { TracecarConfigInput } from '../../src/config/types.js';

const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** GETs `path` and hangs up as soon as the first body bytes arrive. */
function readSomeThenLeave(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
    req.end();
  });
}

describe('chaos stream stages end with the client', () => {
  const cases: Array<[string, NonNullable<TracecarConfigInput['chaos']>['rules']]> = [
    ['throttle', [{ match: { path: '/big' }, side: 'ingress', throttle: { bytesPerSecond: 2048, percent: 100 } }]],
    ['slow body', [{ match: { path: '/big' }, side: 'ingress', slowBody: { chunkDelay: 1000, percent: 100 } }]],
  ];
  for (const [name, rules] of cases) {
    it(`${name}: 20 clients aborting leave no live timer after close()`, async () => {
      // The body comes in many chunks, so the slow-body stage is holding one when the client leaves.
      const app = await startUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(16 * 1024, 7);
        for (let i = 0; i < 8; i++) res.write(chunk);
        res.end();
      });
      const before = liveTimers();
      const tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' }, chaos: { enabled: true, rules } });
      try {
        // Each client leaves with the stage holding a timer: throttle waiting for tokens, slow body for its delay.
        await Promise.all(Array.from({ length: 20 }, () => readSomeThenLeave(tc.addresses.ingress.port, '/big')));
        await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'every request finished');
      } finally {
        await tc.close();
        await app.close();
      }
      expect(liveTimers()).toBeLessThanOrEqual(before);
    });
  }
});

