import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { parseCli } from '../../src/cli/args.js';

/** Ports free right now (bound and released): for settings that must name a port before starting. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

describe('tracecar health: the HEALTHCHECK probes what the running sidecar listens on', () => {
  let app: Upstream;
  let dir: string;
  let cli: RunningCli | undefined;
  beforeAll(async () => {
    app = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'tracecar-health-'));
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    cli?.child.kill('SIGTERM');
    await cli?.exited;
    cli = undefined;
  });

  it('flags given only to the main command (--admin-port, --port) reach `health` through the health file', async () => {
    const file = join(dir, 'flags.json');
    const started = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--admin-port', '0'], { env: { TRACECAR_HEALTH_FILE: file } });
    cli = started;
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toEqual({ pid: started.child.pid, ingress: { host: '127.0.0.1', port: started.ingressPort }, admin: { host: '127.0.0.1', port: started.adminPort } });

    const res = await runCli(['health'], { env: { TRACECAR_HEALTH_FILE: file } });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      `healthy: admin http://127.0.0.1:${started.adminPort}/healthz: 200; ingress 127.0.0.1:${started.ingressPort}: accepts connections (addresses from ${file})\n`,
    );

    // SIGTERM: drained, exited, and the file is gone, so a later check cannot trust stale addresses.
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    cli = undefined;
    expect(existsSync(file)).toBe(false);
  });

  it('--no-admin: healthy means the ingress accepts connections', async () => {
    const file = join(dir, 'no-admin.json');
    const started = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin'], { env: { TRACECAR_HEALTH_FILE: file } });
    cli = started;
    const res = await runCli(['health'], { env: { TRACECAR_HEALTH_FILE: file } });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^healthy: ingress 127\\.0\\.0\\.1:${started.ingressPort}: accepts connections `));
    expect(res.stdout).not.toContain('admin http');
  });

  it('without a health file it reads the same environment and config file as the main command', async () => {
    // Ports must be named before start; another test file may take a just-released port, so retry.
    let ingress = 0;
    let admin = 0;
    let env: Record<string, string> = {};
    for (let attempt = 1; ; attempt++) {
      [ingress, admin] = await freePorts(2);
      env = { TRACECAR_PORT: `127.0.0.1:${ingress}`, TRACECAR_ADMIN: `127.0.0.1:${admin}` };
      try {
        cli = await startCli(['--target', app.url], { env });
        break;
      } catch (err) {
        if (attempt === 5 || !String(err).includes('address already in use')) throw err;
      }
    }
    const fromEnv = await runCli(['health'], { env });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(`admin http://127.0.0.1:${admin}/healthz: 200; ingress 127.0.0.1:${ingress}: accepts connections (addresses from environment and defaults)`);

    const config = join(dir, 'tracecar.yaml');
    writeFileSync(config, `ingress: { listen: "127.0.0.1:${ingress}" }\nadmin: { listen: "127.0.0.1:${admin}" }\n`);
    const fromFile = await runCli(['health', '--config', config]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain(`(addresses from ${config})`);
  });

  it('unhealthy (exit 1) with the reason when nothing listens, or when the process that wrote the file is gone', async () => {
    const [closed] = await freePorts(1);
    const refused = await runCli(['health', '--port', `127.0.0.1:${closed}`, '--no-admin']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`tracecar: unhealthy: ingress 127.0.0.1:${closed}: connection refused (addresses from environment and defaults)\n`);

    const adminDown = await runCli(['health', '--port', `127.0.0.1:${closed}`, '--admin-port', String(closed)]);
    expect(adminDown.code).toBe(1);
    expect(adminDown.stderr).toContain(`admin http://127.0.0.1:${closed}/healthz: connection refused`);

    // A health file left by a process that died without SIGTERM; Linux pids never exceed 2^22.
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ pid: 2 ** 22 + 12345, ingress: { host: '0.0.0.0', port: closed }, admin: null }));
    const gone = await runCli(['health'], { env: { TRACECAR_HEALTH_FILE: stale } });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`tracecar (pid ${2 ** 22 + 12345}, from ${stale}) is not running`);
  });

  it('options: --timeout takes a duration; run flags make `health` ignore the health file', () => {
    expect(parseCli(['health'])).toMatchObject({ kind: 'health', timeoutMs: 1500, explicit: false });
    expect(parseCli(['health', '--timeout', '3s', '--no-admin'])).toMatchObject({ kind: 'health', timeoutMs: 3000, explicit: true, overrides: { admin: { listen: null } } });
    expect(() => parseCli(['health', '--timeout', 'soon'])).toThrow('--timeout must be a duration such as 2s or 500ms, got "soon"');
    expect(() => parseCli(['health', 'extra'])).toThrow(/Unexpected argument 'extra'/);
  });
});
