/**
 * Issue 8, defect 4: a malformed forward-proxy request is answered 400 with
 * TRC_ERR_BAD_PROXY_REQUEST, and leaves what every other failed request leaves: a CLIENT span
 * carrying the code, a request counted in /metrics, an access line naming the code.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import type { SpanRecord } from '../../src/telemetry/span.js';

/** Writes `head` on a fresh socket and returns everything the proxy sent back before closing. */
function exchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      text += c;
      // The proxy may keep an HTTP/1.1 connection open: stop once the whole body is in.
      const [headers, body] = text.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(headers ?? '');
      if (length && body !== undefined && Buffer.byteLength(body, 'latin1') >= Number(length[1])) socket.destroy();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function spanOf(tc: RunningTracecar, traceId: string): Promise<SpanRecord> {
  return waitFor(() => tc.tracecar.store.get(traceId)?.[0], 5_000, `span of ${traceId}`);
}

async function egress4xx(tc: RunningTracecar): Promise<number> {
  const text = await tc.tracecar.metrics.render();
  return text
    .split('\n')
    .filter((l) => l.startsWith('tracecar_requests_total{') && l.includes('side="egress"') && l.includes('status_class="4xx"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('TRC_ERR_BAD_PROXY_REQUEST', () => {
  let tc: RunningTracecar;
  beforeAll(async () => {
    tc = await startTracecar({ ingress: { target: 'http://127.0.0.1:1' }, egress: { listen: '127.0.0.1:0' } });
  });
  afterAll(() => tc.close());

  const cases: Array<[string, (traceparent: string) => string, RegExp]> = [
    [
      'an origin-form request with no Host (HTTP/1.0)',
      (tp) => `GET /orders HTTP/1.0\r\ntraceparent: ${tp}\r\nx-request-id: bad-proxy-1\r\n\r\n`,
      /neither an absolute-form URL nor a Host header/,
    ],
    [
      'a WebSocket handshake with no Host (HTTP/1.0)',
      (tp) => `GET /chat HTTP/1.0\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\ntraceparent: ${tp}\r\nx-request-id: bad-proxy-1\r\n\r\n`,
      /neither an absolute-form URL nor a Host header/,
    ],
    ['a CONNECT without a port', (tp) => `CONNECT no-port-here HTTP/1.1\r\nhost: no-port-here\r\ntraceparent: ${tp}\r\nx-request-id: bad-proxy-1\r\n\r\n`, /is not host:port/],
  ];
  for (const [name, head, reason] of cases) {
    it(`${name}: 400, an error CLIENT span with the code, a counted request, an access line`, async () => {
      const traceId = randomBytes(16).toString('hex');
      const parent = randomBytes(8).toString('hex');
      const before = await egress4xx(tc);
      const lines = tc.log.lines.length;

      const response = await exchange(tc.addresses.egress!.port, head(`00-${traceId}-${parent}-01`));
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(response).toMatch(reason);
      expect(response).toMatch(/\r\nx-request-id: bad-proxy-1\r\n/i);

      const span = await spanOf(tc, traceId);
      expect(span.kind).toBe('client');
      expect(span.parentSpanId).toBe(parent);
      expect(span.status.code).toBe('error');
      expect(span.status.message).toMatch(reason);
      expect(span.attributes['http.response.status_code']).toBe(400);
      expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_BAD_PROXY_REQUEST');

      expect(await egress4xx(tc)).toBe(before + 1);
      const access = await waitFor(() => tc.log.lines.slice(lines).find((l) => l.msg === 'request' && l.trace_id === traceId), 2_000, 'access line');
      expect(access).toMatchObject({ side: 'egress', status: 400, error: 'TRC_ERR_BAD_PROXY_REQUEST' });
      expect(tc.tracecar.inflight).toBe(0);
    });
  }
});
