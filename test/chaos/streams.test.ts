import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { resetAfter, slowBody, throttle } from '../../src/chaos/index.js';

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
  // 64 KiB at 256 KiB/s should take 250 ms. The bucket starts empty, so it cannot be faster than
  // that (only timer lateness makes it slower): measured throughput within −15 % / +2 %.
  it('limits 64 KiB at 256 KiB/s to a measured throughput within −15%/+2% (≈ 250 ms)', async () => {
    const body = pattern(64 * KiB);
    const out = sink();
    const started = performance.now();
    await pipeline(Readable.from([body.subarray(0, 16 * KiB), body.subarray(16 * KiB, 48 * KiB), body.subarray(48 * KiB)]), throttle(256 * KiB), out.writable);
    const seconds = (performance.now() - started) / 1000;
    const throughput = body.length / seconds;
    expect(throughput).toBeLessThanOrEqual(256 * KiB * 1.02);
    expect(throughput).toBeGreaterThanOrEqual(256 * KiB * 0.85);
    expect(out.body().equals(body)).toBe(true);
  });

  it('cuts one big chunk into slices spread over time instead of releasing it at once', async () => {
    const out = sink();
    const started = performance.now();
    await pipeline(Readable.from([pattern(32 * KiB)]), throttle(320 * KiB), out.writable); // 100 ms, 16 KiB slices
    expect(out.chunks.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...out.chunks.map((c) => c.length))).toBeLessThanOrEqual(16 * KiB);
    expect(out.times[0]! - started).toBeGreaterThanOrEqual(45); // the first slice waits for its tokens
    expect(out.times.at(-1)! - started).toBeGreaterThanOrEqual(95);
  });

  it('respects backpressure: a consumer that does not read stops the source (memory does not grow)', async () => {
    const source = lazySource(64 * 1024 * KiB, 16 * KiB);
    const t = throttle(1024 * 1024 * KiB); // 1 GiB/s: only backpressure can hold it
    source.readable.pipe(t); // nobody reads t
    await new Promise((r) => setTimeout(r, 100));
    expect(source.pulled()).toBeLessThan(256 * KiB);
    t.destroy();
    source.readable.destroy();
  });

  it('clears its timer when destroyed mid-body', async () => {
    const t = throttle(1 * KiB);
    const out = sink();
    t.pipe(out.writable);
    t.write(pattern(8 * KiB));
    await new Promise((r) => setTimeout(r, 120));
    t.destroy();
    const got = out.body().length;
    await new Promise((r) => setTimeout(r, 150));
    expect(out.body().length).toBe(got);
    expect(got).toBeLessThan(8 * KiB);
  });
});

describe('slowBody', () => {
  it('holds every chunk chunkDelayMs, keeping order and bytes', async () => {
    const parts = [pattern(100, 1), pattern(200, 2), pattern(300, 3)];
    const out = sink();
    const started = performance.now();
    await pipeline(Readable.from(parts), slowBody(40), out.writable);
    expect(out.body().equals(Buffer.concat(parts))).toBe(true);
    expect(out.times[0]! - started).toBeGreaterThanOrEqual(38);
    expect(out.times.at(-1)! - started).toBeGreaterThanOrEqual(3 * 40 - 3);
  });

  it('respects backpressure', async () => {
    const source = lazySource(64 * 1024 * KiB, 16 * KiB);
    const s = slowBody(0);
    source.readable.pipe(s);
    await new Promise((r) => setTimeout(r, 50));
    expect(source.pulled()).toBeLessThan(256 * KiB);
    s.destroy();
    source.readable.destroy();
  });
});

describe('resetAfter', () => {
  async function run(parts: Buffer[], limit: number): Promise<{ out: Buffer; calls: number; ended: boolean }> {
    let calls = 0;
    let ended = false;
    const out = sink();
    const t: Transform = resetAfter(limit, () => calls++);
    t.on('end', () => (ended = true));
    Readable.from(parts).pipe(t).pipe(out.writable);
    await new Promise((r) => setTimeout(r, 30));
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
    source.readable.pipe(resetAfter(10, () => {})).pipe(out.writable);
    await new Promise((r) => setTimeout(r, 50));
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
