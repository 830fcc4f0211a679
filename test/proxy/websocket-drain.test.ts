/**
 * Drain of upgraded and tunnelled connections: they get the grace period to end by themselves,
 * then are cut, and their spans are finished before drain() resolves (so they still reach the
 * exporter that shuts down right after). Uses the pipeline's upgrade and CONNECT entry points on
 * plain listeners, with the drain tracker tracecar uses.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Agent } from 'undici';
import { compileRuntime } from '../../src/runtime.js';
import { InflightRegistry } from '../../src/proxy/inflight.js';
import { handleConnect, handleIngressUpgrade, type PipelineDeps } from '../../src/pipeline.js';
import { DrainTracker } from '../../src/drain.js';
import type { Hop } from '../../src/telemetry/hop.js';
import { testConfig } from '../helpers/harness.js';

function listen(server: Server | NetServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('draining upgraded and tunnelled connections', () => {
  const finished: Hop[] = [];
  const exported: Hop[] = [];
  let app: Server;
  let echo: NetServer;
  let front: Server;
  const upgrades = new DrainTracker();
  const agent = new Agent();
  let appPort: number;
  let echoPort: number;
  let frontPort: number;

  beforeAll(async () => {
    app = createServer();
    const wss = new WebSocketServer({ server: app });
    wss.on('connection', (ws) => ws.on('message', (d, bin) => ws.send(d as Buffer, { binary: bin })));
    appPort = await listen(app);
    echo = createNetServer((s) => s.pipe(s));
    echoPort = await listen(echo);
    const rt = compileRuntime(testConfig({ ingress: { target: `http://127.0.0.1:${appPort}` } }));
    const deps: PipelineDeps = {
      runtime: () => rt,
      inflight: new InflightRegistry(),
      finish: (hop) => finished.push(hop),
      started: () => {},
      draining: () => true,
      exportSpan: (hop) => exported.push(hop),
      live: upgrades.live,
    };
    const target = () => ({ dispatcher: agent, origin: `http://127.0.0.1:${appPort}`, path: '/', label: `127.0.0.1:${appPort}`, timeouts: rt.config.ingress.timeout });
    front = createServer()
      .on('upgrade', (req, socket, head) => handleIngressUpgrade(deps, target, req, socket, head))
      .on('connect', (req, socket, head) => handleConnect(deps, { dispatcher: agent }, req, socket, head));
    frontPort = await listen(front);
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((r) => front.close(r));
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
    await new Promise((r) => echo.close(r));
    await agent.close();
  });

  function openWs(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${frontPort}/live`);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  function openTunnel(): Promise<import('node:net').Socket> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: frontPort, method: 'CONNECT', path: `127.0.0.1:${echoPort}`, agent: false });
      req.on('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(String(res.statusCode)))));
      req.on('error', reject);
      req.end();
    });
  }

  it('waits for connections that end by themselves', async () => {
    const ws = await openWs();
    expect(upgrades.live.size).toBe(1);
    const started = Date.now();
    const drained = upgrades.drain(10_000);
    setTimeout(() => ws.close(1001), 50);
    await drained;
    // Resolved by the connection's own end, not by the grace period running out (nothing was cut).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(upgrades.live.size).toBe(0);
    const conn = exported.at(-1)!;
    expect(conn.name).toBe('WS /live');
    expect(conn.isError).toBe(false);
  });

  it('cuts what is still open after the grace period, and finishes their spans first', async () => {
    const ws = await openWs();
    const tunnel = await openTunnel();
    tunnel.on('error', () => {});
    expect(upgrades.live.size).toBe(2);
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const tunnelClosed = new Promise((resolve) => tunnel.once('close', resolve));
    const exportedBefore = exported.length;
    const finishedBefore = finished.length;
    const started = Date.now();
    await upgrades.drain(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(upgrades.live.size).toBe(0);
    // Finished synchronously by the cut, not on a later tick.
    const conn = exported.slice(exportedBefore).find((h) => h.name === 'WS /live')!;
    expect(conn.errorType).toBe('tracecar_shutdown');
    const tunnelHop = finished.slice(finishedBefore).find((h) => h.method === 'CONNECT')!;
    expect(tunnelHop.errorType).toBe('tracecar_shutdown');
    expect(await wsClosed).toBe(1006);
    await tunnelClosed;
  });
});
