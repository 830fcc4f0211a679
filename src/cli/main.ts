#!/usr/bin/env node
/**
 * The `tracecar` command. This file statically loads only the flag parser (args.ts, errors.ts,
 * config/units.ts): `--help` and `--version` answer from here, and every other command imports
 * what it runs when it runs (the sidecar, health, inject, validate), so a person typing
 * `npx tracecar --version` waits for no module it does not need. test/cli/fast-path.test.ts keeps it so.
 */
import { readFileSync } from 'node:fs';
import { parseCli, USAGE } from './args.js';
import { TracecarError } from '../errors.js';
import { enableCompileCacheQuietly } from './compile-cache.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** One line, then a hint line: the srvx style. Exit 2 for usage errors, 1 for everything else. */
function fail(err: unknown): never {
  if (err instanceof TracecarError) {
    process.stderr.write(`tracecar: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    process.exit(err.code === 'TRC_ERR_INVALID_ARGUMENT' || err.code === 'TRC_ERR_INVALID_URL' ? 2 : 1);
  }
  process.stderr.write(`tracecar: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const cmd = parseCli(argv);
  if (cmd.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (cmd.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (cmd.kind !== 'run') {
    // A short-lived command (health runs every 10 s as a HEALTHCHECK) compiles its modules from the
    // on-disk cache. The sidecar does not: the cache saves it ~15 ms of CPU once, and the code it
    // deserializes holds ~1 MiB for the life of the process (docs/performance.md).
    enableCompileCacheQuietly();
  }
  if (cmd.kind === 'health') {
    const { checkHealth, healthTargets } = await import('./health.js');
    const targets = healthTargets({ configFile: cmd.configFile, overrides: cmd.overrides, explicit: cmd.explicit ?? false, env: process.env });
    const result = await checkHealth(targets, cmd.timeoutMs!);
    const line = `${result.healthy ? 'healthy' : 'unhealthy'}: ${result.checks.join('; ')} (addresses from ${targets.source})\n`;
    if (result.healthy) process.stdout.write(line);
    else process.stderr.write(`tracecar: ${line}`);
    process.exitCode = result.healthy ? 0 : 1;
    return;
  }
  if (cmd.kind === 'inject') {
    const { runInject } = await import('./inject.js');
    process.exitCode = await runInject(cmd.injectArgs!, { stdin: process.stdin, stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) }, version());
    return;
  }
  if (cmd.kind === 'validate') {
    const { runValidate } = await import('../config/validate-command.js');
    process.exitCode = runValidate(cmd.validateFile!, {
      stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
      stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    });
    return;
  }
  const { runSidecar } = await import('./run.js');
  await runSidecar(cmd, version(), fail);
}

main(process.argv.slice(2)).catch(fail);
