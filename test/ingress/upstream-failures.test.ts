import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createServer } from 'node:net';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('upstream failures map to 502/504 with a cause and an ERROR span', () => {
  let tc: RunningTracecar | undefined;
  let app: Upstream | undefined;
  afterEach(async () => {
    await tc?.close();
    await app?.close();
    tc = undefined;
    app = undefined;
  });

  it('target refusing connections → 502, plain-text cause, ERROR span', async () => {
    const port = await freePort();
    tc = await startTracecar({ ingress: { target: `http://127.0.0.1:${port}` } });
    const res = await request(`${tc.url}/refused`);
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(await res.body.text()).toContain('refused the connection');
    expect(res.headers['x-request-id']).toBeTruthy();
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const spans = await waitFor(() => tc!.tracecar.store.get(traceId), 2000, 'span in store');
    expect(spans![0].status.code).toBe('error');
    expect(spans![0].attributes['error.type']).toBe('ECONNREFUSED');
    expect(spans![0].attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_CONNECT');
  });

  it('target slower than timeout.response → 504 naming the cause', async () => {
    app = await startUpstream((_req, res) => {
      setTimeout(() => res.end('too late'), 1500);
    });
    tc = await startTracecar({ ingress: { target: app.url, timeout: { response: 200 } } });
    const res = await request(`${tc.url}/slow`);
    expect(res.statusCode).toBe(504);
    expect(await res.body.text()).toContain('did not respond in time');
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const spans = await waitFor(() => tc!.tracecar.store.get(traceId), 2000, 'span in store');
    expect(spans![0].status.code).toBe('error');
    expect(spans![0].attributes['http.response.status_code']).toBe(504);
    expect(spans![0].attributes['error.type']).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('a 5xx from the app is an ERROR span; a 4xx is not (server span semconv)', async () => {
    app = await startUpstream((req, res) => {
      res.statusCode = req.url === '/boom' ? 503 : 404;
      res.end();
    });
    tc = await startTracecar({ ingress: { target: app.url } });
    const r1 = await request(`${tc.url}/boom`);
    await r1.body.text();
    const r2 = await request(`${tc.url}/missing`);
    await r2.body.text();
    const t1 = String(r1.headers.traceresponse).split('-')[1];
    const t2 = String(r2.headers.traceresponse).split('-')[1];
    const s1 = await waitFor(() => tc!.tracecar.store.get(t1), 2000);
    const s2 = await waitFor(() => tc!.tracecar.store.get(t2), 2000);
    expect(s1![0].status.code).toBe('error');
    expect(s1![0].attributes['error.type']).toBe('503');
    expect(s2![0].status.code).toBe('unset');
  });

  it('a client that disconnects mid-request aborts the upstream request and ends the span with an error', async () => {
    let upstreamClosed = false;
    app = await startUpstream(
      (req, res) => {
        res.writeHead(200);
        res.write('partial');
        res.on('close', () => {
          upstreamClosed = true;
        });
        void req;
      },
      { raw: true },
    );
    tc = await startTracecar({ ingress: { target: app.url } });
    const ac = new AbortController();
    const res = await request(`${tc.url}/hang`, { signal: ac.signal });
    const traceId = String(res.headers.traceresponse).split('-')[1];
    res.body.on('error', () => {});
    ac.abort();
    await waitFor(() => upstreamClosed, 3000, 'upstream request to be aborted');
    const spans = await waitFor(() => tc!.tracecar.store.get(traceId), 3000, 'span');
    expect(spans![0].status.code).toBe('error');
    expect(spans![0].attributes['tracecar.error.code']).toBe('TRC_ERR_CLIENT_ABORTED');
    await waitFor(() => tc!.tracecar.inflight === 0, 2000, 'no requests in flight');
  });
});
