import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, startCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('config file: validate, run, hot reload', () => {
  let dir: string;
  let app: Upstream | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('`tracecar validate` accepts a good file and reports a bad one as file:line:col', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracecar-validate-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'service: { name: orders }\ningress: { target: http://127.0.0.1:3000 }\n');
    writeFileSync(bad, 'service:\n  name: orders\nsampleing:\n  default: { ratio: 2 }\n');
    const ok = await runCli(['validate', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`config OK: ${good}`);
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:1  sampleing: unknown key "sampleing" (did you mean "sampling"?)`);
  });

  it('a running tracecar applies a good edit, keeps the last good config on a bad one, and says which keys need a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracecar-reload-'));
    app = await startUpstream((_req, res) => res.end('from app'));
    const file = join(dir, 'tracecar.yaml');
    const base = `service: { name: reload-test }\ningress: { listen: "127.0.0.1:0", target: ${app.url} }\n`;
    writeFileSync(file, `${base}chaos: { enabled: false }\n`);
    const cli = await startCli(['--config', file, '--no-admin']);
    const url = `http://127.0.0.1:${cli.ingressPort}/x`;
    try {
      let res = await request(url);
      expect(res.statusCode).toBe(200);
      await res.body.text();

      // An editor-style atomic replace: write a temp file, rename over the original.
      const next = `${base}chaos:\n  enabled: true\n  rules:\n    - match: { path: /x }\n      abort: { status: 503, percent: 100 }\n`;
      writeFileSync(`${file}.tmp`, next);
      renameSync(`${file}.tmp`, file);
      await waitFor(() => cli.stderr().includes('config reloaded'), 5000, 'reload');
      res = await request(url);
      expect(res.statusCode).toBe(503);
      await res.body.text();

      writeFileSync(file, `${base}chaos:\n  enabled: true\n  rulez: []\n`);
      await waitFor(() => cli.stderr().includes('config reload rejected'), 5000, 'rejection');
      expect(cli.stderr()).toMatch(/tracecar\.yaml:5:3 {2}chaos\.rulez: unknown key "rulez" \(did you mean "rules"\?\)/);
      res = await request(url);
      expect(res.statusCode).toBe(503); // the last good config still applies
      await res.body.text();

      // SIGHUP reloads too; a listener change is reported as needing a restart.
      writeFileSync(file, `service: { name: reload-test }\ningress: { listen: "127.0.0.1:1", target: ${app.url} }\n`);
      cli.child.kill('SIGHUP');
      await waitFor(() => cli.stderr().includes('restart needed for: ingress.listen'), 5000, 'restart notice');
      res = await request(url);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
