/**
 * Two sockets joined for the life of an upgraded or tunnelled connection (WebSocket, CONNECT),
 * and the registry that lets shutdown cut the ones still open after the drain grace period.
 *
 * Lifetime rules (no leaked sockets):
 * - an error on either side destroys both at once;
 * - when one side closes, the other is ended and destroyed once its queued bytes are flushed
 *   (a WebSocket close frame still in the write buffer must not be dropped), or after LINGER_MS;
 * - a half-close (one side sent FIN, the other keeps writing) is allowed for `halfOpenMs`, then
 *   both are destroyed.
 */
import type { Socket } from 'node:net';

/** How long a closing side may take to flush its last bytes before it is destroyed. */
export const LINGER_MS = 5_000;

export interface SpliceEnd {
  /** The first socket error, if any (the side that failed: 'a' or 'b'). */
  error?: { side: 'a' | 'b'; error: Error };
  /** Which side sent FIN first (a clean end), if any did. */
  firstEnded?: 'a' | 'b';
  /** Which side's socket closed first. */
  firstClosed?: 'a' | 'b';
  /** Set when `cut()` ended the connection (shutdown). */
  cutReason?: string;
}

export interface Splice {
  /** Destroys both sockets now and reports the end synchronously. */
  cut(reason: string): void;
  readonly ended: boolean;
}

export interface SpliceOptions {
  /** Bound on a half-closed connection. */
  halfOpenMs: number;
  /** Called once, when both sockets are gone (or at `cut`). */
  onEnd(end: SpliceEnd): void;
}

/**
 * Watches two already-piped sockets (the caller or a library does the piping) and enforces the
 * lifetime rules above. Returns a handle for shutdown.
 */
export function bindLifetimes(a: Socket, b: Socket, options: SpliceOptions): Splice {
  const end: SpliceEnd = {};
  let done = false;
  let closed = 0;
  let halfOpen: NodeJS.Timeout | undefined;
  const lingers: NodeJS.Timeout[] = [];

  const finish = (): void => {
    if (done) return;
    done = true;
    if (halfOpen) clearTimeout(halfOpen);
    for (const t of lingers) clearTimeout(t);
    options.onEnd(end);
  };
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  const onError = (side: 'a' | 'b') => (error: Error) => {
    end.error ??= { side, error };
    destroyBoth();
  };
  const onEnd = (side: 'a' | 'b') => () => {
    end.firstEnded ??= side;
    if (!halfOpen && !done) {
      halfOpen = setTimeout(destroyBoth, options.halfOpenMs);
      halfOpen.unref();
    }
  };
  const onClose = (side: 'a' | 'b') => () => {
    end.firstClosed ??= side;
    closed++;
    if (closed === 2) return finish();
    const other = side === 'a' ? b : a;
    if (!other.destroyed) {
      // Flush what is queued for the other side, then let it go.
      other.destroySoon();
      const t = setTimeout(() => other.destroy(), LINGER_MS);
      t.unref();
      lingers.push(t);
    }
  };
  a.on('error', onError('a'));
  b.on('error', onError('b'));
  a.on('end', onEnd('a'));
  b.on('end', onEnd('b'));
  a.on('close', onClose('a'));
  b.on('close', onClose('b'));

  return {
    cut(reason) {
      if (done) return;
      end.cutReason = reason;
      destroyBoth();
      finish();
    },
    get ended() {
      return done;
    },
  };
}

/** Open upgraded/tunnelled connections, for drain and shutdown. */
export class LiveConnections {
  private readonly live = new Set<Splice>();
  private idle: Array<() => void> = [];

  add(s: Splice): void {
    this.live.add(s);
  }

  delete(s: Splice): void {
    this.live.delete(s);
    if (this.live.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  get size(): number {
    return this.live.size;
  }

  /**
   * Waits until every connection has ended by itself, at most `graceMs`; then cuts the rest.
   * Their spans end (synchronously, so they reach the exporter before it shuts down) marked as
   * cut by shutdown.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.live.size > 0) await waitIdle((done) => this.idle.push(done), graceMs);
    this.closeAll('tracecar shut down after the drain grace period');
  }

  closeAll(reason = 'tracecar shut down'): void {
    for (const s of [...this.live]) s.cut(reason);
    this.live.clear();
  }
}

/** Resolves when `onIdle`'s callback is called or after `graceMs`, whichever comes first (the timer never holds the process). */
export function waitIdle(onIdle: (done: () => void) => void, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    timer.unref();
    onIdle(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
