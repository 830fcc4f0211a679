/**
 * `tracecar` (the sidecar): load the config, start it, print the banner, write the health file,
 * reload on change or SIGHUP, drain on SIGTERM/SIGINT. Loaded by main.ts only for this command.
 */
import { TracecarError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { otlpProtocolLabel } from '../config/otlp-endpoint.js';
import { watchConfig } from '../config/watch.js';
import { createTracecar } from '../tracecar.js';
import { displayUrl } from '../proxy/listen.js';
import type { CliCommand } from './args.js';
import { HEALTH_FILE_VARIABLE, removeHealthFile, writeHealthFile } from './health.js';

export async function runSidecar(cmd: CliCommand, version: string, fail: (err: unknown) => never): Promise<void> {
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

  // Where `tracecar health` (a container HEALTHCHECK) finds the addresses bound from flags it cannot see;
  // written before the banner, so that whoever waits for the banner finds it.
  const healthFile = process.env[HEALTH_FILE_VARIABLE]?.trim();
  if (healthFile) {
    try {
      writeHealthFile(healthFile, addr);
      process.on('exit', () => removeHealthFile(healthFile));
    } catch (err) {
      process.stderr.write(`tracecar: cannot write ${HEALTH_FILE_VARIABLE}=${healthFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); \`tracecar health\` will read the config instead\n`);
    }
  }

  const where = config.export.otlp.endpoint ? `${otlpProtocolLabel(config.export.otlp.protocol)} ${config.export.otlp.endpoint}` : 'terminal';
  const lines = [
    `tracecar ${version}  service=${config.service.name}`,
    `  ingress  ${config.ingress.tls ? displayUrl(addr.ingress).replace(/^http:/, 'https:') : displayUrl(addr.ingress)} → ${config.ingress.target}  (HTTP/1.1 and HTTP/2)`,
    ...(addr.admin ? [`  admin    ${displayUrl(addr.admin)}  (/healthz /readyz /metrics /config)`] : []),
    `  traces   ${where}${addr.viewerUrl ? ` + viewer ${addr.viewerUrl}` : ''}`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

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
