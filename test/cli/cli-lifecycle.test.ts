import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('tracecar CLI: start banner, JSON access log, graceful SIGTERM', () => {
  let app: Upstream | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('prints where it listens, forwards and sends traces; logs JSON lines when stdout is not a TTY', async () => {
    app = await startUpstream();
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--admin-port', '0', '--service-name', 'cli-test']);
    try {
      expect(cli.stderr()).toContain(`→ ${app.url}`);
      expect(cli.stderr()).toMatch(/traces\s+terminal \+ viewer http:\/\/127\.0\.0\.1:\d+\//);
      const res = await request(`http://127.0.0.1:${cli.ingressPort}/hello`);
      expect(res.statusCode).toBe(200);
      await res.body.text();
      const logged = await waitFor(() => cli.stdout().split('\n').find((l) => l.includes('"msg":"request"')), 5000, 'the access log line');
      const line = JSON.parse(logged) as { trace_id: string };
      expect(line).toMatchObject({ method: 'GET', path: '/hello', status: 200 });
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('SIGTERM stops accepting, finishes in-flight requests, then exits 0', async () => {
    // The app answers only when the test says so: the request is in flight for as long as needed.
    let answer: (() => void) | undefined;
    app = await startUpstream((_req, res) => {
      answer = () => res.end('finished late');
    });
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin']);
    const inflight = request(`http://127.0.0.1:${cli.ingressPort}/slow`);
    await waitFor(() => answer, 5000, 'the request at the app');
    cli.child.kill('SIGTERM');
    await waitFor(() => cli.stderr().includes('draining'), 5000, 'the drain notice');
    answer!();
    const res = await inflight;
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('finished late');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toContain('SIGTERM, draining 1 in-flight request(s)');
    // New connections are refused once draining has started and the process is gone.
    await expect(request(`http://127.0.0.1:${cli.ingressPort}/after`)).rejects.toThrow();
  });
});
