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
 * stdout for JSON lines, buffered: lines wait in order in a LineBuffer and go out 8 KiB at a time,
 * or 100 ms after they started waiting, as one write(2) from this thread — as Node itself writes to
 * a stdout pipe on Linux. sonic-boom (pino.destination) does only the writing.
 *
 * Not sonic-boom's asynchronous mode, on purpose: there a chunk can be in flight on libuv's
 * thread pool, blocked on a full pipe, and the flush a crash must make could interleave with it
 * inside a line (test/cli/log-buffer.test.ts caught exactly that). With no write ever in flight,
 * every way out loses nothing: shutdown flushes (flushLogger), and so do exit and a crash (an
 * uncaught exception or unhandled rejection, before Node prints it and exits).
 */
function bufferedStdout(): DestinationStream {
  const out = new LineBuffer(pino.destination({ dest: 1, sync: true }));
  const flushNow = (): void => {
    try {
      out.flushSync();
    } catch {
      // stdout gone (EPIPE): nothing more can be written anyway
    }
  };
  process.on('exit', flushNow);
  process.on('uncaughtExceptionMonitor', flushNow);
  return out;
}

/**
 * Lines held in order until BUFFER_BYTES (counted in UTF-16 units: at least as many bytes) are
 * waiting or FLUSH_INTERVAL_MS has passed, then handed to sonic-boom as one string. Not sonic-boom's
 * own minLength buffering: its write() measures the whole waiting buffer with Buffer.byteLength
 * on every line (sonic-boom 4.2), which a profile of the bench's access-log row put at ~1.4 µs a
 * line — a third of what the access log cost.
 */
class LineBuffer implements DestinationStream {
  private pending: string[] = [];
  private waiting = 0;
  // A plain field, not a parameter property: src/log.ts also runs under Node's type stripping.
  private readonly dest: { write(s: string): boolean; flushSync(): void };

  constructor(dest: { write(s: string): boolean; flushSync(): void }) {
    this.dest = dest;
    setInterval(() => this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  write(line: string): void {
    this.pending.push(line);
    this.waiting += line.length;
    if (this.waiting >= BUFFER_BYTES) this.flush();
  }

  /** Hands what waits to sonic-boom, which writes it at once (sync, no minLength). */
  flush(): void {
    if (this.waiting === 0) return;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.waiting = 0;
    this.dest.write(text);
  }

  /** flushLogger and the exit paths: everything out before returning. */
  flushSync(): void {
    this.flush();
    this.dest.flushSync();
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.stream ?? process.stdout;
  if (options.pretty) {
    return pino({ level: options.level, base: undefined }, prettyStream(out, (out as { isTTY?: boolean }).isTTY === true));
  }
  const dest = options.stream ? (options.stream as DestinationStream) : bufferedStdout();
  const logger = pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  lineSinks.set(logger, createLineSink(logger, dest));
  return logger;
}

/**
 * Writing whole JSON lines through a JSON logger made by createLogger, for the one caller on the
 * request path (the access log, one line per request): it builds its line itself, the bytes
 * pino would write for the same object (test/ingress/access-log-format.test.ts compares them),
 * at a fraction of pino's cost per line (no object, no generic walk over its keys, the time
 * formatted once per millisecond).
 */
export interface JsonLineSink {
  /** Whether info lines are written at the logger's level now (it changes on reload). */
  infoEnabled(): boolean;
  /** What pino writes before a line's own fields: `{"level":30,"time":"…","pid":N`. */
  infoHead(): string;
  /** Writes one line (`…}\n`) to the logger's destination. */
  write(line: string): void;
}

const lineSinks = new WeakMap<Logger, JsonLineSink>();

/** The line sink of a JSON logger createLogger made, or undefined (pretty, or a logger from elsewhere). */
export function jsonLineSink(logger: Logger): JsonLineSink | undefined {
  return lineSinks.get(logger);
}

const INFO = 30;

function createLineSink(logger: Logger, dest: DestinationStream): JsonLineSink {
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  let lastMs = -1;
  let head = '';
  return {
    infoEnabled: () => logger.levelVal <= INFO,
    infoHead() {
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        // pino.stdTimeFunctions.isoTime, and pino's level prefix and bindings.
        head = `{"level":${INFO},"time":"${new Date(now).toISOString()}"${bindings}`;
      }
      return head;
    },
    write: (line) => {
      dest.write(line);
    },
  };
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * A string as pino serializes it (lib/tools.js asString): on Node < 25 its own fast escape for
 * short strings without control characters (quotes and backslashes escaped, anything else as
 * is), JSON.stringify otherwise.
 */
export const jsonString: (s: string) => string =
  NODE_MAJOR >= 25
    ? (s) => JSON.stringify(s)
    : (s) => {
        const l = s.length;
        if (l > 100) return JSON.stringify(s);
        let result = '';
        let last = 0;
        let found = false;
        let point = 255;
        for (let i = 0; i < l && point >= 32; i++) {
          point = s.charCodeAt(i);
          if (point === 34 || point === 92) {
            result += s.slice(last, i) + '\\';
            last = i;
            found = true;
          }
        }
        if (!found) result = s;
        else result += s.slice(last);
        return point < 32 ? JSON.stringify(s) : '"' + result + '"';
      };

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
