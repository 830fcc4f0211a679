import { isConfigError } from './problems.js';
import { loadConfig } from './load.js';
import type { Env } from './interpolate.js';

export interface CommandOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * `tracecar validate FILE`: loads FILE exactly as a start would (with the environment, for ${VAR}
 * and OTEL_*), prints "config OK: FILE" and returns 0, or prints each problem and returns 1.
 */
export function runValidate(file: string, out: CommandOutput, env: Env = process.env): number {
  try {
    loadConfig({ file, env });
    out.stdout(`config OK: ${file}\n`);
    return 0;
  } catch (err) {
    if (!isConfigError(err)) throw err;
    out.stderr(`${err.message}\n`);
    const n = err.problems.length;
    out.stderr(`config invalid: ${file} (${n} problem${n === 1 ? '' : 's'}, ${err.code})\n`);
    return 1;
  }
}
