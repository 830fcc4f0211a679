import { TracecarError, type ErrorCode } from '../errors.js';

/**
 * One thing wrong with the configuration, located as precisely as the source allows.
 * For the file: 1-based line and column. For environment variables and CLI flags there is no
 * position: line and col are 0 and `file` names the source ("env OTEL_EXPORTER_OTLP_TIMEOUT",
 * "command line").
 */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the key, e.g. "egress.routes[0].listen"; "" when not about one key (YAML syntax). */
  path: string;
  message: string;
}

/** `file:line:col  path.to.key: what is wrong (expected …)` */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return p.path ? `${where}  ${p.path}: ${p.message}` : `${where}  ${p.message}`;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

/** Dotted path from segments: ["egress","routes",0,"listen"] → egress.routes[0].listen */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export type ConfigErrorCode = Extract<ErrorCode, 'TRC_ERR_CONFIG_INVALID' | 'TRC_ERR_CONFIG_PARSE' | 'TRC_ERR_CONFIG_READ'>;

const HINTS: Record<ConfigErrorCode, string> = {
  TRC_ERR_CONFIG_INVALID: 'every key is described in config/tracecar.yaml and config/schema.json',
  TRC_ERR_CONFIG_PARSE: 'the file is not valid YAML; check indentation and quoting at the position shown',
  TRC_ERR_CONFIG_READ: 'check the path given with --config or TRACECAR_CONFIG',
};

/** A config failure: the message is the problems, one per line; `problems` keeps them structured. */
export class ConfigError extends TracecarError {
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, problems: ConfigProblem[], options?: { cause?: unknown }) {
    super(code, formatProblems(problems), { cause: options?.cause, hint: HINTS[code] });
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
