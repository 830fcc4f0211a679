import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Human-readable lines (a TTY); otherwise one JSON object per line (pino's native format). */
  pretty: boolean;
  /** Where lines go. @default stdout (in JSON mode buffered, see bufferedStdout) */
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

/** JSON lines wait in memory until this many bytes are waiting: one write(2) per ~30 access lines, not one each. */
const BUFFER_BYTES = 8 * 1024;
/** ...or until this long has passed, so a quiet sidecar's lines still show up at once to someone tailing them. */
const FLUSH_INTERVAL_MS = 100;

/**
 * stdout for JSON lines, buffered (sonic-boom's minLength and periodicFlush): lines are written
 * 8 KiB at a time, or 100 ms after the first one waiting, with one write(2) from this thread —
 * as Node itself writes to a stdout pipe on Linux.
 *
 * Not sonic-boom's asynchronous mode, on purpose: there a chunk can be in flight on libuv's
 * thread pool, blocked on a full pipe, and the flush a crash must make could interleave with it
 * inside a line (test/cli/log-buffer.test.ts caught exactly that). With no write ever in flight,
 * every way out loses nothing: shutdown flushes (flushLogger), and so do exit and a crash (an
 * uncaught exception or unhandled rejection, before Node prints it and exits).
 */
function bufferedStdout(): DestinationStream {
  const dest = pino.destination({ dest: 1, sync: true, minLength: BUFFER_BYTES, periodicFlush: FLUSH_INTERVAL_MS });
  const flushNow = (): void => {
    try {
      dest.flushSync();
    } catch {
      // stdout gone (EPIPE): nothing more can be written anyway
    }
  };
  process.on('exit', flushNow);
  process.on('uncaughtExceptionMonitor', flushNow);
  return dest;
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.stream ?? process.stdout;
  if (options.pretty) {
    return pino({ level: options.level, base: undefined }, prettyStream(out, (out as { isTTY?: boolean }).isTTY === true));
  }
  const dest = options.stream ? (options.stream as DestinationStream) : bufferedStdout();
  return pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** Writes out the lines a buffered destination holds (shutdown: the last lines are not lost). */
export function flushLogger(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { flushSync?: () => void } | undefined;
  try {
    if (typeof stream?.flushSync === 'function') stream.flushSync();
    else logger.flush();
  } catch {
    // a closed stdout cannot take more
  }
}
