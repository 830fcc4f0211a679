import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Human-readable lines (a TTY); otherwise one JSON object per line (pino's native format). */
  pretty: boolean;
  /** Where lines go. @default process.stdout (pino's async sonic-boom in JSON mode) */
  stream?: NodeJS.WritableStream;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const COLOR = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[31m', dim: '\x1b[2m', reset: '\x1b[0m' } as const;

/** Pretty mode for a developer's terminal: `msg  key=value …`, warnings coloured. No pino-pretty dependency. */
function prettyStream(out: NodeJS.WritableStream, color: boolean): DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { level, time: _t, pid: _p, hostname: _h, msg, ...rest } = rec;
      const name = LEVEL_NAMES[level as number] ?? 'info';
      // Pre-formatted lines (the access line, the start banner) carry `line` and print as they are.
      if (typeof rest.line === 'string') {
        out.write(`${rest.line}\n`);
        return;
      }
      const extras = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const prefix = name === 'info' ? '' : `${name.toUpperCase()} `;
      const tint = color ? (COLOR as Record<string, string>)[name] ?? '' : '';
      const text = `${prefix}${String(msg ?? '')}${extras ? `  ${color ? COLOR.dim : ''}${extras}${color ? COLOR.reset : ''}` : ''}`;
      out.write(tint ? `${tint}${text}${COLOR.reset}\n` : `${text}\n`);
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.stream ?? process.stdout;
  if (options.pretty) {
    return pino({ level: options.level, base: undefined }, prettyStream(out, (out as { isTTY?: boolean }).isTTY === true));
  }
  const dest = options.stream ? (options.stream as DestinationStream) : pino.destination({ dest: 1, sync: false });
  return pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** Flushes an async pino destination (used on shutdown so the last lines are not lost). */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // sync destinations have nothing to flush
  }
}
