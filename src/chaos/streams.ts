import { Transform, type TransformCallback } from 'node:stream';

/*
 * Stream tools the fault filter (inject.ts) puts between the upstream body and the client. Each holds at most the
 * chunk it is working on: the transform callback is only called once that chunk has been passed
 * on, so Node's Transform backpressure (writable + readable highWaterMark) bounds memory whatever
 * the body size. Timers are cleared when the stream is destroyed.
 */

const MAX_SLICE = 64 * 1024;

/**
 * Bandwidth limit: a token bucket refilled at `bytesPerSecond`, holding at most one slice
 * (1/20 s worth of bytes, 1 B..64 KiB) and starting empty, so N bytes take N / rate seconds from
 * the first byte and an idle pause never buys a burst larger than one slice. Chunks are cut into
 * slices so a big chunk is spread out instead of released in one go.
 */
export function throttle(bytesPerSecond: number, options: { now?: () => number } = {}): Transform {
  if (!(bytesPerSecond > 0 && Number.isFinite(bytesPerSecond))) throw new RangeError(`throttle: bytesPerSecond must be > 0 (got ${bytesPerSecond})`);
  const now = options.now ?? (() => performance.now());
  const slice = Math.min(MAX_SLICE, Math.max(1, Math.floor(bytesPerSecond / 20)));
  let tokens = 0;
  let last = -1;
  let timer: NodeJS.Timeout | undefined;

  const refill = (): void => {
    const t = now();
    if (last < 0) last = t;
    tokens = Math.min(slice, tokens + ((t - last) / 1000) * bytesPerSecond);
    last = t;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      const pump = (offset: number): void => {
        timer = undefined;
        while (offset < chunk.length) {
          refill();
          const want = Math.min(slice, chunk.length - offset);
          if (tokens < want) {
            timer = setTimeout(pump, Math.max(1, Math.ceil(((want - tokens) / bytesPerSecond) * 1000)), offset);
            return;
          }
          tokens -= want;
          this.push(chunk.subarray(offset, offset + want));
          offset += want;
        }
        cb();
      };
      pump(0);
    },
    destroy(err, cb) {
      clearTimeout(timer);
      cb(err);
    },
  });
}

/** Slow body: every chunk (the first included) is held `chunkDelayMs` before it is passed on. */
export function slowBody(chunkDelayMs: number): Transform {
  if (!(chunkDelayMs >= 0 && Number.isFinite(chunkDelayMs))) throw new RangeError(`slowBody: chunkDelayMs must be >= 0 (got ${chunkDelayMs})`);
  let timer: NodeJS.Timeout | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (chunkDelayMs === 0) return cb(null, chunk);
      timer = setTimeout(() => {
        timer = undefined;
        cb(null, chunk);
      }, chunkDelayMs);
    },
    destroy(err, cb) {
      clearTimeout(timer);
      cb(err);
    },
  });
}

/**
 * Passes exactly `bytes` bytes, then calls `onLimit` once (the fault filter resets the client
 * socket there). If the body ends first, onLimit is called at its end instead, so the planned reset
 * still happens rather than a clean finish. Once the limit is reached the stream never ends
 * cleanly (no 'end') and takes no more input, so the upstream is paused by backpressure (no
 * buffering, no busy discard loop) until the reset destroys the pipeline. onLimit runs on
 * setImmediate after the last push, so a piped consumer has already written the N bytes out.
 */
export function resetAfter(bytes: number, onLimit: () => void): Transform {
  if (!(Number.isInteger(bytes) && bytes >= 0)) throw new RangeError(`resetAfter: bytes must be a whole number >= 0 (got ${bytes})`);
  let passed = 0;
  let fired = false;
  let pending: NodeJS.Immediate | undefined;
  const fire = (): void => {
    fired = true;
    pending = setImmediate(() => {
      pending = undefined;
      onLimit();
    });
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      const room = bytes - passed;
      if (chunk.length < room) {
        passed += chunk.length;
        return cb(null, chunk);
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed += room;
      fire(); // the callback is never called: no more input is taken
    },
    flush(_cb: TransformCallback) {
      // Never signal a clean end: the connection is about to be reset.
      if (!fired) fire();
    },
    destroy(err, cb) {
      if (pending !== undefined) clearImmediate(pending);
      cb(err);
    },
  });
}
