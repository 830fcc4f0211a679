#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseCli, USAGE } from './args.js';
import { TracecarError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { otlpProtocolLabel } from '../config/otlp-endpoint.js';
import { runValidate } from '../config/validate-command.js';
import { watchConfig } from '../config/watch.js';
import { createTracecar } from '../tracecar.js';
import { displayUrl } from '../proxy/listen.js';
import { checkHealth, healthTargets, HEALTH_FILE_VARIABLE, removeHealthFile, writeHealthFile } from './health.js';
import { runInject } from './inject.js';

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
  if (cmd.kind === 'health') {
    const targets = healthTargets({ configFile: cmd.configFile, overrides: cmd.overrides, explicit: cmd.explicit ?? false, env: process.env });
    const result = await checkHealth(targets, cmd.timeoutMs!);
    const line = `${result.healthy ? 'healthy' : 'unhealthy'}: ${result.checks.join('; ')} (addresses from ${targets.source})\n`;
    if (result.healthy) process.stdout.write(line);
    else process.stderr.write(`tracecar: ${line}`);
    process.exitCode = result.healthy ? 0 : 1;
    return;
  }
  if (cmd.kind === 'inject') {
    process.exitCode = await runInject(cmd.injectArgs!, { stdin: process.stdin, stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) }, version());
    return;
  }
  if (cmd.kind === 'validate') {
    process.exitCode = runValidate(cmd.validateFile!, {
      stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
      stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    });
    return;
  }

  const file = cmd.configFile ?? process.env.TRACECAR_CONFIG;
  const load = () => loadConfig({ file, env: process.env, cli: cmd.overrides });
  const config = load();
  if (!config.ingress.target) {
    throw new TracecarError('TRC_ERR_INVALID_ARGUMENT', 'no target: tracecar needs the URL of the app it fronts', {
      hint: 'tracecar --target http://localhost:3000 (or ingress.target in the config file)',
    });
  }
  const tracecar = createTracecar(config);
  const addr = await tracecar.listen();

  const where = config.export.otlp.endpoint ? `${otlpProtocolLabel(config.export.otlp.protocol)} ${config.export.otlp.endpoint}` : 'terminal';
  const lines = [
    `tracecar ${version()}  service=${config.service.name}`,
    `  ingress  ${config.ingress.tls ? displayUrl(addr.ingress).replace(/^http:/, 'https:') : displayUrl(addr.ingress)} → ${config.ingress.target}  (HTTP/1.1 and HTTP/2)`,
    ...(addr.admin ? [`  admin    ${displayUrl(addr.admin)}  (/healthz /readyz /metrics /config)`] : []),
    `  traces   ${where}${addr.viewerUrl ? ` + viewer ${addr.viewerUrl}` : ''}`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  // Where `tracecar health` (a container HEALTHCHECK) finds the addresses bound from flags it cannot see.
  const healthFile = process.env[HEALTH_FILE_VARIABLE]?.trim();
  if (healthFile) {
    try {
      writeHealthFile(healthFile, addr);
      process.on('exit', () => removeHealthFile(healthFile));
    } catch (err) {
      process.stderr.write(`tracecar: cannot write ${HEALTH_FILE_VARIABLE}=${healthFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); \`tracecar health\` will read the config instead\n`);
    }
  }

  const watcher = file
    ? watchConfig(file, {
        load,
        initial: config,
        onChange: (next) => {
          const restart = tracecar.reload(next);
          process.stderr.write(`tracecar: config reloaded from ${file}\n`);
          if (restart.length) process.stderr.write(`tracecar: restart needed for: ${restart.join(', ')}\n`);
        },
        onError: (err) => {
          tracecar.metrics.configReload(false);
          process.stderr.write(`tracecar: config reload rejected, keeping the last good config\n${(err as Error).message}\n`);
        },
      })
    : undefined;
  process.on('SIGHUP', () => watcher?.reloadNow());

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`tracecar: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`tracecar: ${signal}, draining ${tracecar.inflight} in-flight request(s)\n`);
    watcher?.close();
    tracecar.close().then(
      () => process.exit(0),
      (err) => fail(err),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch(fail);
