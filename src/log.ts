import { writeSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Human-readable lines (a TTY); otherwise one JSON object per line (pino's native format). */
  pretty: boolean;
  /** Where lines go. @default stdout (in JSON mode buffered, see bufferedStdout) */
  stream?: NodeJS.WritableStream;
  /** JSON mode without `stream`: the file descriptor the buffered lines go to. @default 1 (stdout) */
  fd?: number;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const COLOR = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[31m', dim: '\x1b[2m', reset: '\x1b[0m' } as const;

/** C0 and C1 controls, DEL and the Unicode line separators: what could colour, move or split a terminal line. */
const TERMINAL_CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
/** The same but for TAB and LF, which a message of ours may hold on purpose. */
const TERMINAL_CONTROL_BUT_LAYOUT = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/g;

const escapeControl = (c: string): string => {
  const code = c.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
};

/** A value as a terminal line may show it: controls as `\xHH` (a logged field can hold client input). */
function terminalSafe(s: string, controls = TERMINAL_CONTROL): string {
  return s.replace(controls, escapeControl);
}

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
        .map(([k, v]) => `${k}=${terminalSafe(typeof v === 'string' ? v : JSON.stringify(v))}`)
        .join(' ');
      const prefix = name === 'info' ? '' : `${name.toUpperCase()} `;
      const tint = color ? (COLOR as Record<string, string>)[name] ?? '' : '';
      const text = `${prefix}${terminalSafe(String(msg ?? ''), TERMINAL_CONTROL_BUT_LAYOUT)}${extras ? `  ${color ? COLOR.dim : ''}${extras}${color ? COLOR.reset : ''}` : ''}`;
      out.write(tint ? `${tint}${text}${COLOR.reset}\n` : `${text}\n`);
    },
  };
}

/**
 * JSON lines wait in memory until this many bytes are waiting: one write(2) per ~100 access lines,
 * not one each (a pipe write that wakes its reader cost ~8 µs in the bench's profile; at 8 KiB
 * that was 0.4 µs a line, at 32 KiB it is a quarter). Half a Linux pipe's 64 KiB.
 */
const BUFFER_BYTES = 32 * 1024;
/** ...or until this long has passed, so a quiet sidecar's lines still show up at once to someone tailing them. */
const FLUSH_INTERVAL_MS = 100;
/** How long a write to a full non-blocking stdout waits before trying again (sonic-boom waits 100 ms). */
const EAGAIN_WAIT_MS = 10;

/**
 * stdout for JSON lines, buffered: lines are encoded as they come into one Buffer and go out 32 KiB
 * at a time, or 100 ms after they started waiting, as one write(2) from this thread — as Node
 * itself writes to a stdout pipe on Linux.
 *
 * Synchronous on purpose (not an asynchronous stream): with a write in flight on another thread,
 * blocked on a full pipe, the flush a crash must make could interleave with it inside a line
 * (test/cli/log-buffer.test.ts caught exactly that). With no write ever in flight, every way out
 * loses nothing: shutdown flushes (flushLogger), and so do exit and a crash (an uncaught exception
 * or unhandled rejection, before Node prints it and exits).
 */
function bufferedStdout(fd = 1): DestinationStream {
  const out = new LineBuffer(fd);
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
 * A JSON line's bytes, written in pieces straight into one Buffer: printable ASCII as it is, JSON
 * strings escaped as pino escapes them, anything else as UTF-8. When n more bytes do not fit,
 * `makeRoom(n)` makes room: here by growing (a line built for a stream destination), in
 * LineBuffer by writing out. (The fit check stays inline: a call per piece measured +0.2–0.3 µs a line.)
 */
class LineBytes {
  protected buf: Buffer;
  protected pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** After it, n more bytes fit. */
  protected makeRoom(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Any text, as UTF-8 (a UTF-16 unit takes at most 3 bytes). */
  text(s: string): void {
    if (this.pos + s.length * 3 > this.buf.length) this.makeRoom(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  /** Printable ASCII that needs no escaping (a line's constant parts, numbers), as it is. */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.makeRoom(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A JSON string as pino writes it: printable ASCII without `"` or `\\` in one pass, anything else through jsonString. */
  jsonString(s: string): void {
    const n = s.length;
    if (this.pos + n + 2 > this.buf.length) this.makeRoom(n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.text(jsonString(s));
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }
}

/**
 * Lines encoded in order into one Buffer until BUFFER_BYTES are waiting or FLUSH_INTERVAL_MS has
 * passed, then written to the file descriptor with fs.writeSync. Hand-written rather than
 * sonic-boom (pino.destination), because profiles of the bench's access-log row said so: sonic-boom's
 * minLength buffering measures its whole waiting string with Buffer.byteLength on every line
 * (~1.4 µs a line), and joining waiting strings and converting the result at write time cost
 * another ~0.7 µs a line; here each line is encoded once, straight into the bytes that are written.
 * A line longer than the space left is written out in parts, all before its writer returns.
 */
class LineBuffer extends LineBytes implements DestinationStream {
  // Plain fields, not parameter properties: src/log.ts also runs under Node's type stripping.
  private readonly fd: number;
  private sleeper: Int32Array | undefined;

  constructor(fd: number) {
    super(BUFFER_BYTES * 2);
    this.fd = fd;
    setInterval(() => this.flushQuietly(), FLUSH_INTERVAL_MS).unref();
  }

  /** pino's lines (and any whole line). */
  write(line: string): void {
    this.text(line);
    this.endLine();
  }

  protected override makeRoom(n: number): void {
    this.flush();
    // A line bigger than the buffer (rare: lines are bounded by the listener limits) grows it.
    if (n > this.buf.length) super.makeRoom(n);
  }

  /** A line's end: what waits goes out once BUFFER_BYTES are waiting. */
  endLine(): void {
    if (this.pos >= BUFFER_BYTES) this.flush();
  }

  /** Writes out what waits. */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.writeAll(this.buf.subarray(0, n));
    // Back to the usual size after a line that grew the buffer.
    if (this.buf.length > BUFFER_BYTES * 2) this.buf = Buffer.allocUnsafeSlow(BUFFER_BYTES * 2);
  }

  /** flushLogger and the exit paths: everything out before returning. */
  flushSync(): void {
    this.flush();
  }

  /** The timer's flush: a closed stdout must not crash the process from a timer. */
  private flushQuietly(): void {
    try {
      this.flush();
    } catch {
      // EPIPE and the like: the lines have nowhere to go
    }
  }

  /** write(2) until every byte is out: partial writes continue, a full non-blocking pipe is waited on. */
  private writeAll(bytes: Buffer): void {
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        Atomics.wait((this.sleeper ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, EAGAIN_WAIT_MS);
      }
    }
  }
}

/** A line for any other destination (a stream given to createLogger): built in bytes, handed over as one string. */
class StringLine extends LineBytes {
  private readonly dest: DestinationStream;

  constructor(dest: DestinationStream) {
    super(1024);
    this.dest = dest;
  }

  endLine(): void {
    const line = this.buf.toString('utf8', 0, this.pos);
    this.pos = 0;
    this.dest.write(line);
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.stream ?? process.stdout;
  if (options.pretty) {
    return pino({ level: options.level, base: undefined }, prettyStream(out, (out as { isTTY?: boolean }).isTTY === true));
  }
  const dest = options.stream ? (options.stream as DestinationStream) : bufferedStdout(options.fd);
  const logger = pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  lineSinks.set(logger, createLineSink(logger, dest));
  return logger;
}

/**
 * Writing whole JSON lines through a JSON logger made by createLogger, for the one caller on the
 * request path (the access log, one line per request): it writes its line itself, piece by piece
 * straight into the destination's bytes, the bytes pino would write for the same object
 * (test/ingress/access-log-format.test.ts compares them), at a fraction of pino's cost per line
 * (no object, no generic walk over its keys, no line string, the time formatted once per millisecond).
 */
export interface JsonLineSink {
  /** Whether info lines are written at the logger's level now (it changes on reload). */
  infoEnabled(): boolean;
  /** One line: `head()`, pieces, `end()`, all in one synchronous turn. */
  readonly line: JsonLineWriter;
}

export interface JsonLineWriter {
  /** What pino writes before a line's own fields: `{"level":30,"time":"…","pid":N`. */
  head(): void;
  /** Printable ASCII needing no JSON escaping (keys, punctuation, numbers), as it is. */
  ascii(s: string): void;
  /** A JSON string value, quoted and escaped exactly as pino does. */
  string(s: string): void;
  /** The line's end: `s` (its last constant part, with the newline). */
  end(s: string): void;
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
  const bytes = dest instanceof LineBuffer ? dest : new StringLine(dest);
  return {
    infoEnabled: () => logger.levelVal <= INFO,
    line: {
      head() {
        const now = Date.now();
        if (now !== lastMs) {
          lastMs = now;
          // pino.stdTimeFunctions.isoTime, and pino's level prefix and bindings.
          head = `{"level":${INFO},"time":"${new Date(now).toISOString()}"${bindings}`;
        }
        bytes.ascii(head);
      },
      ascii: (s) => bytes.ascii(s),
      string: (s) => bytes.jsonString(s),
      end(s) {
        bytes.ascii(s);
        bytes.endLine();
      },
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
