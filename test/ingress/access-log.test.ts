import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { proxiedApp } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('access log: one structured line per request, no secrets', () => {
  const env = proxiedApp();

  it('writes trace_id, span_id, request_id, method, path, status, duration', async () => {
    const res = await request(`${env.tc.url}/orders/7?token=hunter2`, {
      headers: { 'x-request-id': 'log-me', authorization: 'Bearer very-secret', cookie: 'session=abc' },
    });
    await res.body.text();
    const [, traceId, spanId] = String(res.headers.traceresponse).split('-');
    const line = await waitFor(() => env.tc.log.lines.find((l) => l.request_id === 'log-me'), 2000, 'access line');
    expect(line).toMatchObject({ msg: 'request', trace_id: traceId, span_id: spanId, method: 'GET', path: '/orders/7', status: 200, side: 'ingress' });
    expect(typeof line!.duration_ms).toBe('number');
    const all = env.tc.log.text();
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('very-secret');
    expect(all).not.toContain('session=abc');
  });
});
