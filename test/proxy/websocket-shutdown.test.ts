import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startTracecar } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('tracecar.close() drains WebSockets too', () => {
  let app: Server | undefined;
  afterAll(async () => {
    app?.closeAllConnections();
    await new Promise((r) => app?.close(r));
  });

  it('an open WebSocket gets the grace period, is then cut, and its connection span is recorded before close() resolves', async () => {
    app = createServer();
    new WebSocketServer({ server: app }).on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
    await new Promise<void>((r) => app!.listen(0, '127.0.0.1', r));
    const tc = await startTracecar({ ingress: { target: `http://127.0.0.1:${(app.address() as AddressInfo).port}` }, shutdownTimeout: 300 });
    const ws = new WebSocket(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    const t0 = Date.now();
    await tc.close();
    const elapsed = Date.now() - t0;
    await closed;
    // Waited for the grace period (the socket stayed open), then cut it.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    const conn = await waitFor(
      () => tc.tracecar.store.list({ limit: 10 }).flatMap((t) => tc.tracecar.store.get(t.traceId) ?? []).find((s) => s.name.startsWith('WS ')),
      1000,
      'connection span',
    );
    expect(conn.kind).toBe('internal');
    expect(conn.status.code).toBe('error');
  });
});
