import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';

/** Peak resident set size (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

function zeros(total: number, chunk = 64 * 1024): Readable {
  const buf = Buffer.alloc(chunk);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk, total - sent);
      sent += n;
      this.push(n === chunk ? buf : buf.subarray(0, n));
    },
  });
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('bodies stream both ways: memory does not grow with body size', () => {
  let app: Upstream | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a 1 GiB upload and a 512 MiB download pass through with bounded peak RSS', async () => {
    let received = 0;
    app = await startUpstream(
      (req, res) => {
        if (req.method === 'POST') {
          req.on('data', (c: Buffer) => (received += c.length));
          req.on('end', () => res.end(String(received)));
          return;
        }
        if (req.url === '/warm') return res.end('warm');
        const body = zeros(512 * MiB);
        res.writeHead(200, { 'content-length': String(512 * MiB) });
        body.pipe(res);
      },
      { raw: true },
    );
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin'], { env: { TRACECAR_LOG_LEVEL: 'warn' } });
    try {
      const pid = cli.child.pid!;
      // Warm up so the baseline includes the connection pool and JIT-compiled request path.
      for (let i = 0; i < 5; i++) await (await request(`http://127.0.0.1:${cli.ingressPort}/warm`)).body.text();
      const baseline = peakRss(pid);

      const up = await request(`http://127.0.0.1:${cli.ingressPort}/upload`, {
        method: 'POST',
        body: zeros(GiB),
        headers: { 'content-length': String(GiB), 'content-type': 'application/octet-stream' },
      });
      expect(up.statusCode).toBe(200);
      expect(await up.body.text()).toBe(String(GiB));

      const down = await request(`http://127.0.0.1:${cli.ingressPort}/download`);
      let downloaded = 0;
      for await (const c of down.body) downloaded += (c as Buffer).length;
      expect(downloaded).toBe(512 * MiB);

      const growth = peakRss(pid) - baseline;
      console.info(`large bodies: peak RSS ${(baseline / MiB).toFixed(1)} MiB → ${(peakRss(pid) / MiB).toFixed(1)} MiB after 1.5 GiB streamed`);
      // 1.5 GiB moved; a proxy that buffered bodies would grow by hundreds of MiB. Allow 64 MiB of slack.
      expect(growth).toBeLessThan(64 * MiB);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  }, 120_000);
});
