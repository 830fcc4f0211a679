import { isConfigError } from './problems.js';
import { loadConfig } from './load.js';
import type { Env } from './interpolate.js';
import { loadListenerTls } from './tls.js';
import { targetSpec } from './targets.js';
import { TracecarError } from '../errors.js';
import type { TracecarConfig } from './types.js';

export interface CommandOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * `tracecar validate FILE`: loads FILE exactly as a start would (with the environment, for ${VAR}
 * and OTEL_*) and reads the TLS files it names, prints "config OK: FILE" and returns 0, or prints
 * each problem and returns 1.
 */
export function runValidate(file: string, out: CommandOutput, env: Env = process.env): number {
  try {
    checkTlsFiles(loadConfig({ file, env }));
    out.stdout(`config OK: ${file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof TracecarError && err.code === 'TRC_ERR_TLS') {
      out.stderr(`${err.message}\nconfig invalid: ${file} (a TLS file, ${err.code})\n`);
      return 1;
    }
    if (!isConfigError(err)) throw err;
    out.stderr(`${err.message}\n`);
    const n = err.problems.length;
    out.stderr(`config invalid: ${file} (${n} problem${n === 1 ? '' : 's'}, ${err.code})\n`);
    return 1;
  }
}

/** The TLS files a start would read (TRC_ERR_TLS on the first that cannot be used). */
function checkTlsFiles(config: TracecarConfig): void {
  if (config.ingress.tls) loadListenerTls('ingress.tls', config.ingress.tls);
  targetSpec('ingress', config.ingress.target, config.ingress.protocol, config.ingress.targetTls);
  config.egress.routes.forEach((r, i) => targetSpec(`egress.routes[${i}]`, r.target, r.protocol, r.targetTls));
}
