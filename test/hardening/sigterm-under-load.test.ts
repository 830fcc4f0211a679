/**
 * SIGTERM under load, on the real CLI with a real OTLP/gRPC receiver: requests in flight finish,
 * new connections are refused cleanly (ECONNREFUSED, never a hang or a reset mid-response),
 * every span, queued ones included, reaches the receiver before the process exits, and it exits 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, Pool } from 'undici';
import { startCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitFor } from '../helpers/wait.js';

describe('SIGTERM under load', () => {
  let app: Upstream | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('in-flight requests finish, new connections are refused, queued spans are flushed, exit 0', async () => {
    // The app holds every request until the test lets them go, so all of them are in flight at SIGTERM.
    const held: Array<() => void> = [];
    app = await startUpstream((_req, res) => held.push(() => res.end('done')));
    receiver = await startOtlpReceiver();
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin', '--otlp-endpoint', receiver.endpoint, '--log-level', 'warn']);
    const url = `http://127.0.0.1:${cli.ingressPort}`;

    // Traffic already done before the signal: its spans sit in the export queue (1 s scheduled delay).
    const warm = new Pool(url, { connections: 4 });
    const early = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const p = warm.request({ path: `/early/${i}`, method: 'GET' });
        await waitFor(() => held.length > 0, 5_000, 'the app to get a request');
        held.shift()!();
        const res = await p;
        await res.body.text();
        return res.statusCode;
      }),
    );
    expect(early.every((s) => s === 200)).toBe(true);
    await warm.close();

    // 60 requests in flight, each on its own connection.
    const N = 60;
    const pool = new Pool(url, { connections: N });
    const inflight = Array.from({ length: N }, (_, i) =>
      pool.request({ path: `/inflight/${i}`, method: 'GET' }).then(
        async (res) => ({ status: res.statusCode, body: await res.body.text(), close: res.headers.connection }),
        (err: Error) => ({ status: 0, body: err.message, close: undefined }),
      ),
    );
    await waitFor(() => held.length === N, 10_000, () => `${N} requests at the app (${held.length})`);

    cli.child.kill('SIGTERM');
    await waitFor(() => cli.stderr().includes('SIGTERM, draining'), 5_000, 'the drain notice');
    expect(cli.stderr()).toContain(`draining ${N} in-flight request(s)`);

    // New connections are refused while the in-flight requests drain.
    const refused = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const client = new Client(url);
        try {
          await client.request({ path: '/new', method: 'GET' });
          return 'answered';
        } catch (err) {
          return (err as NodeJS.ErrnoException).code;
        } finally {
          await client.close().catch(() => {});
        }
      }),
    );
    expect(refused).toEqual(Array(10).fill('ECONNREFUSED'));
    expect(cli.child.exitCode).toBeNull();

    for (const release of held.splice(0)) release();
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(results.every((r) => r.body === 'done' && r.close === 'close')).toBe(true);
    await pool.close();

    expect(await cli.exited).toBe(0);
    // Flushed before exit: every span is at the receiver the moment the process is gone.
    expect(receiver.spans().length).toBe(40 + N);
    const paths = receiver.spans().map((s) => String(s.attributes['url.path']));
    expect(paths.filter((p) => p.startsWith('/inflight/'))).toHaveLength(N);
  });
});
