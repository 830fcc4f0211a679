import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('tracecar CLI: help, version and one-line errors', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tracecar --target URL');
    expect(r.stdout).toContain('--service-name');
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['--prot', '8080'], /^tracecar: Unknown option '--prot'/],
    ['a bad target URL', ['--target', 'localhost:3000x'], /^tracecar: --target (is not a valid URL|must be an http)/],
    ['a non-http target', ['--target', 'ftp://example.com'], /^tracecar: --target must be an http:\/\/, https:\/\/, or h2c:\/\/ URL/],
    ['a bad port', ['--target', 'http://127.0.0.1:3000', '--port', '99999'], /^tracecar: --port must be a port/],
    ['no target at all', ['--admin-port', '0'], /^tracecar: no target/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what} → one-line error, a hint, non-zero exit`, async () => {
      const r = await runCli(args);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(message);
      expect(lines[1]).toMatch(/^ {2}hint: /);
      expect(lines).toHaveLength(2);
    });
  }

  it('a busy port → one-line error naming the address, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['--target', 'http://127.0.0.1:1', '--port', `127.0.0.1:${port}`, '--no-admin']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^tracecar: ingress could not listen on 127.0.0.1:${port}: address already in use`));
      expect(r.stderr).toContain('hint:');
    } finally {
      blocker.close();
    }
  });

  it('a busy admin port is an error and an exit too, naming the admin listener', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['--target', 'http://127.0.0.1:1', '--port', '127.0.0.1:0', '--admin-port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^tracecar: admin .*127\\.0\\.0\\.1:${port}.*address already in use`));
      expect(r.stderr).toContain('hint:');
    } finally {
      blocker.close();
    }
  });
});
