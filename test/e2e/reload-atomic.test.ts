import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTracecar, startUpstream, testConfig, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('reload is atomic per request', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  const release: Array<() => void> = [];
  beforeAll(async () => {
    app = await startUpstream((_req, res) => release.push(() => res.end('ok')));
    tc = await startTracecar({ service: { name: 'before' }, ingress: { target: app.url } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('in-flight requests finish under the config they started with; new ones use the new config', async () => {
    const inFlight = [0, 1, 2].map(() => request(`${tc.url}/work`));
    await waitFor(() => release.length === 3, 3000, 'three requests at the app');
    const restart = tc.tracecar.reload(
      testConfig({ service: { name: 'after' }, ingress: { target: app.url }, chaos: { enabled: true, rules: [{ match: { path: '/new-only' }, side: 'ingress', abort: { status: 418, percent: 100 } }] } }),
    );
    expect(restart).toEqual([]);
    const later = request(`${tc.url}/work`);
    await waitFor(() => release.length === 4, 3000, 'the fourth request');
    const aborted = await request(`${tc.url}/new-only`);
    expect(aborted.statusCode).toBe(418);
    await aborted.body.text();
    for (const r of release) r();
    const traceOf = async (p: ReturnType<typeof request>) => {
      const res = await p;
      await res.body.text();
      return String(res.headers.traceresponse).split('-')[1];
    };
    const oldTraces = await Promise.all(inFlight.map(traceOf));
    const newTrace = await traceOf(later);
    for (const t of oldTraces) expect((await waitFor(() => tc.tracecar.store.get(t), 2000))![0].service).toBe('before');
    expect((await waitFor(() => tc.tracecar.store.get(newTrace), 2000))![0].service).toBe('after');
  });
});
