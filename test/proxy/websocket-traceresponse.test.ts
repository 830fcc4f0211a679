/**
 * Issue 8, defect 3: the traceresponse on a WebSocket's 101 carries the same flags as on an
 * HTTP response: sampled (01) plus the W3C random flag (02) when tracecar made the trace id.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';

describe('traceresponse on a WebSocket upgrade', () => {
  let tc: RunningTracecar;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => wss.handleUpgrade(req, socket, head, () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tc = await startTracecar({
      ingress: { target: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      sampling: { default: { ratio: 1 } },
      export: { console: 'off' },
    });
    close = async () => {
      await tc.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  });
  afterAll(() => close());

  async function wsTraceresponse(headers: Record<string, string>): Promise<string> {
    const ws = new WebSocket(`ws://127.0.0.1:${tc.addresses.ingress.port}/chat`, { headers });
    const value = await new Promise<string>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(String(res.headers.traceresponse)));
      ws.once('error', reject);
    });
    ws.terminate();
    return value;
  }

  async function httpTraceresponse(headers: Record<string, string>): Promise<string> {
    const res = await fetch(`${tc.url}/chat`, { headers });
    await res.text();
    return String(res.headers.get('traceresponse'));
  }

  it('a new trace: sampled and random (-03), as on HTTP', async () => {
    expect(await httpTraceresponse({})).toMatch(/-03$/);
    expect(await wsTraceresponse({})).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  });

  it("a continued trace keeps the caller's random flag, set or not", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    for (const flags of ['01', '03']) {
      const headers = { traceparent: `00-${traceId}-${parent}-${flags}` };
      expect(await httpTraceresponse(headers)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-${flags}$`));
      expect(await wsTraceresponse(headers)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-${flags}$`));
    }
  });
});
