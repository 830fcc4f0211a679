/**
 * The CLI and its admin listener: the viewer URL printed on start serves the viewer (and the trace of
 * a request just proxied); --no-admin prints no admin or viewer line and binds no admin port.
 * Runs dist/ (npm run build first).
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { get, listeningPorts, traceIdOf } from '../helpers/e2e-admin.js';
import { waitFor } from '../helpers/wait.js';

const DEFAULT_ADMIN_PORT = 9901;

describe('tracecar CLI admin listener', () => {
  let app: Upstream | undefined;
  let cli: RunningCli | undefined;
  let blocker: Server | undefined;
  afterEach(async () => {
    if (cli && cli.child.exitCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    cli = undefined;
    await app?.close();
    app = undefined;
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it('the viewer URL in the start banner serves the viewer page, its assets and the proxied trace', async () => {
    app = await startUpstream();
    const started = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--admin-port', '0', '--service-name', 'cli-viewer']);
    cli = started;
    const banner = started.stderr();
    const viewer = /viewer (http:\/\/\S+)/.exec(banner)?.[1];
    expect(viewer, banner).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(new URL(viewer!).port).toBe(String(started.adminPort));
    expect(listeningPorts(started.child.pid!)).toEqual([started.ingressPort, started.adminPort].sort((a, b) => a! - b!));

    const page = await get(viewer!);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toMatch(/^<!doctype html>/i);
    expect(page.text).toContain('<title>tracecar</title>');
    expect(page.text).toContain('<script type="module" src="app.js"></script>');
    for (const [asset, type] of [['app.js', 'text/javascript'], ['trace-list.js', 'text/javascript'], ['style.css', 'text/css'], ['favicon.svg', 'image/svg+xml']]) {
      const r = await get(new URL(asset, viewer).href);
      expect(r.status, asset).toBe(200);
      expect(String(r.headers['content-type']), asset).toContain(type);
      expect(r.text.length, asset).toBeGreaterThan(100);
    }

    const res = await request(`http://127.0.0.1:${started.ingressPort}/orders/5`);
    await res.body.text();
    const traceId = traceIdOf(res.headers);
    const stored = await waitFor(async () => {
      const r = await get(new URL(`api/traces/${traceId}`, viewer).href);
      return r.status === 200 ? (JSON.parse(r.text) as { spans: Array<{ name: string; service: string }> }) : undefined;
    }, 3000, 'the trace in the viewer store');
    expect(stored.spans).toEqual([expect.objectContaining({ name: 'GET /orders/:id', service: 'cli-viewer' })]);
    const info = JSON.parse((await get(new URL('api/info', viewer).href)).text);
    expect(info.service).toBe('cli-viewer');
  });

  it('--no-admin prints no admin or viewer line and listens on nothing but the ingress port', async () => {
    app = await startUpstream();
    // Hold the default admin port if it is free: a process that tried to bind it would fail to start.
    blocker = await new Promise<Server | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(DEFAULT_ADMIN_PORT, '127.0.0.1', () => resolve(s));
    });
    const started = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin']);
    cli = started;
    // Serve a request so every lazily started part is up before looking at the sockets.
    const res = await request(`http://127.0.0.1:${started.ingressPort}/hello`);
    expect(res.statusCode).toBe(200);
    await res.body.text();

    const banner = started.stderr();
    expect(banner).toMatch(/ingress\s+http:\/\/127\.0\.0\.1:\d+ → /);
    expect(banner).toMatch(/traces\s+terminal\n/);
    expect(banner).not.toMatch(/admin|viewer|9901|healthz/i);
    expect(started.adminPort).toBeUndefined();

    const ports = listeningPorts(started.child.pid!);
    expect(ports).toEqual([started.ingressPort]);
    expect(ports).not.toContain(DEFAULT_ADMIN_PORT);
    expect(started.child.exitCode).toBeNull();
  });
});
