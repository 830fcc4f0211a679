import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetAfter, slowBody, throttle } from '../../src/chaos/index.js';
import { sleep } from '../helpers/wait.js';

// Timing is checked on vitest's fake clock (setTimeout and performance.now), so the expectations
// are exact and no busy machine can break them; only backpressure checks use the real clock, in
// the direction a slow machine cannot fail.
afterEach(() => {
  vi.useRealTimers();
});

/** Runs the fake clock until `done` settles (every timer the stream schedules fires in order). */
async function onFakeClock<T>(done: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return done;
}

const KiB = 1024;

function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Collects what comes out, with the arrival time of each chunk. */
function sink(): { writable: Writable; chunks: Buffer[]; times: number[]; body(): Buffer } {
  const chunks: Buffer[] = [];
  const times: number[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      times.push(performance.now());
      cb();
    },
  });
  return { writable, chunks, times, body: () => Buffer.concat(chunks) };
}

/** A lazy source of `total` bytes in `chunk`-sized pieces; counts what was pulled from it. */
function lazySource(total: number, chunk: number): { readable: Readable; pulled(): number } {
  let pulled = 0;
  const readable = new Readable({
    read() {
      if (pulled >= total) return void this.push(null);
      const n = Math.min(chunk, total - pulled);
      pulled += n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
  return { readable, pulled: () => pulled };
}

describe('throttle', () => {
  // 64 KiB at 256 KiB/s takes 250 ms. The bucket starts empty, so it is never faster than that;
  // each wait is rounded up to a whole millisecond, so on an exact clock it is late by at most
  // 1 ms per slice (13107 bytes = 1/20 s each).
  it('passes 64 KiB at 256 KiB/s in 250 ms: never faster, late only by rounding (< 1 ms per slice)', async () => {
    vi.useFakeTimers();
    const body = pattern(64 * KiB);
    const out = sink();
    const started = performance.now();
    await onFakeClock(pipeline(Readable.from([body.subarray(0, 16 * KiB), body.subarray(16 * KiB, 48 * KiB), body.subarray(48 * KiB)]), throttle(256 * KiB), out.writable));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThanOrEqual(250 + out.chunks.length);
    expect(Math.max(...out.chunks.map((c) => c.length))).toBe(13107);
    expect(out.body().equals(body)).toBe(true);
  });

  it('cuts one big chunk into slices spread over time instead of releasing it at once', async () => {
    vi.useFakeTimers();
    const out = sink();
    const started = performance.now();
    await onFakeClock(pipeline(Readable.from([pattern(32 * KiB)]), throttle(320 * KiB), out.writable)); // 16 KiB slices, 50 ms each
    expect(out.chunks.map((c) => c.length)).toEqual([16 * KiB, 16 * KiB]);
    // The first slice waits for its tokens too: nothing leaves at t = 0.
    expect(out.times.map((t) => t - started)).toEqual([50, 100]);
  });

  it('respects backpressure: a consumer that does not read stops the source (memory does not grow)', async () => {
    const source = lazySource(64 * 1024 * KiB, 16 * KiB);
    const t = throttle(1024 * 1024 * KiB); // 1 GiB/s: only backpressure can hold it
    source.readable.pipe(t); // nobody reads t
    await sleep(100);
    expect(source.pulled()).toBeLessThan(256 * KiB);
    t.destroy();
    source.readable.destroy();
  });

  it('clears its timer when destroyed mid-body', async () => {
    vi.useFakeTimers();
    const t = throttle(1 * KiB); // 51-byte slices, one per 50 ms
    const out = sink();
    t.pipe(out.writable);
    t.write(pattern(8 * KiB));
    await vi.advanceTimersByTimeAsync(120);
    expect(out.body().length).toBe(2 * 51); // at 50 and 100 ms
    expect(vi.getTimerCount()).toBe(1); // the third slice is waiting
    t.destroy();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(out.body().length).toBe(2 * 51);
  });
});

describe('slowBody', () => {
  it('holds every chunk chunkDelayMs, keeping order and bytes', async () => {
    vi.useFakeTimers();
    const parts = [pattern(100, 1), pattern(200, 2), pattern(300, 3)];
    const out = sink();
    const started = performance.now();
    await onFakeClock(pipeline(Readable.from(parts), slowBody(40), out.writable));
    expect(out.body().equals(Buffer.concat(parts))).toBe(true);
    expect(out.times.map((t) => t - started)).toEqual([40, 80, 120]);
  });

  it('clears its timer when destroyed mid-body', async () => {
    vi.useFakeTimers();
    const s = slowBody(40);
    const out = sink();
    s.pipe(out.writable);
    s.write(pattern(10));
    expect(vi.getTimerCount()).toBe(1);
    s.destroy();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.chunks).toEqual([]);
  });

  it('respects backpressure', async () => {
    const source = lazySource(64 * 1024 * KiB, 16 * KiB);
    const s = slowBody(0);
    source.readable.pipe(s);
    await sleep(50);
    expect(source.pulled()).toBeLessThan(256 * KiB);
    s.destroy();
    source.readable.destroy();
  });
});

describe('resetAfter', () => {
  /** Event-driven: resolves a few event-loop turns after onLimit, however slow the machine. */
  async function run(parts: Buffer[], limit: number): Promise<{ out: Buffer; calls: number; ended: boolean }> {
    let calls = 0;
    let ended = false;
    const out = sink();
    let limited!: () => void;
    const reachedLimit = new Promise<void>((resolve) => (limited = resolve));
    const t: Transform = resetAfter(limit, () => {
      calls++;
      limited();
    });
    t.on('end', () => (ended = true));
    Readable.from(parts).pipe(t).pipe(out.writable);
    await reachedLimit;
    // A second onLimit or a (wrong) 'end' would come within these turns.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    return { out: out.body(), calls, ended };
  }

  it.each([
    [[100, 100, 100], 250],
    [[100, 100, 100], 100],
    [[1000], 1],
    [[10, 10, 10, 10], 40],
  ])('chunks %j, limit %d: passes exactly that many bytes, then calls onLimit once, never ends', async (sizes, limit) => {
    const parts = sizes.map((n, i) => pattern(n, i));
    const { out, calls, ended } = await run(parts, limit);
    expect(out.equals(Buffer.concat(parts).subarray(0, limit))).toBe(true);
    expect(calls).toBe(1);
    expect(ended).toBe(false);
  });

  it('limit 0 passes nothing and resets at the first byte (or at the end of an empty body)', async () => {
    expect(await run([pattern(10)], 0)).toMatchObject({ calls: 1, ended: false });
    expect((await run([pattern(10)], 0)).out.length).toBe(0);
    expect(await run([], 0)).toMatchObject({ calls: 1, ended: false });
  });

  it('a body shorter than the limit still ends in a reset, not a clean end', async () => {
    const { out, calls, ended } = await run([pattern(300)], 1000);
    expect(out.length).toBe(300);
    expect(calls).toBe(1);
    expect(ended).toBe(false);
  });

  it('stops taking input after the limit (the upstream is paused, not drained)', async () => {
    const source = lazySource(64 * 1024 * KiB, 16 * KiB);
    const out = sink();
    const reachedLimit = new Promise<void>((resolve) => source.readable.pipe(resetAfter(10, resolve)).pipe(out.writable));
    await reachedLimit;
    await sleep(50); // time for a (wrong) drain loop to pull more
    expect(out.body().length).toBe(10);
    expect(source.pulled()).toBeLessThan(256 * KiB);
    source.readable.destroy();
  });

  describe('over a real HTTP connection', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

    it('the client receives exactly N body bytes, then the connection is reset', async () => {
      const body = pattern(256 * KiB);
      server = createServer((_req, res) => {
        res.writeHead(200, { 'content-length': body.length });
        Readable.from([body.subarray(0, 700), body.subarray(700)])
          .pipe(resetAfter(1000, () => res.socket?.resetAndDestroy()))
          .pipe(res);
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const { port } = server.address() as AddressInfo;
      const result = await new Promise<{ bytes: Buffer; complete: boolean; error: string }>((resolve) => {
        get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err: NodeJS.ErrnoException) => resolve({ bytes: Buffer.concat(chunks), complete: res.complete, error: err.code ?? err.message }));
          res.on('end', () => resolve({ bytes: Buffer.concat(chunks), complete: res.complete, error: '' }));
        });
      });
      expect(result.complete).toBe(false);
      expect(result.error).toMatch(/ECONNRESET|aborted/);
      expect(result.bytes.equals(body.subarray(0, 1000))).toBe(true);
    });
  });
});

describe('argument checks', () => {
  it('reject nonsense', () => {
    expect(() => throttle(0)).toThrow(RangeError);
    expect(() => slowBody(-1)).toThrow(RangeError);
    expect(() => resetAfter(1.5, () => {})).toThrow(RangeError);
  });
});
