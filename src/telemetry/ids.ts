import { randomFillSync } from 'node:crypto';

/*
 * Random ids, from crypto random bytes drawn a pool at a time. Trace ids are fully random, so
 * W3C's "random" flag (0x02) is honest.
 *
 * Why pooled text: turning bytes into hex costs a call into the runtime per id (Buffer#toString,
 * ~1,300 instructions, and node's randomUUID ~2,500 of which most is building its string), which
 * made id and correlation-id generation the largest part of starting a hop. Here the pool's bytes
 * become text once per refill, and each id is a slice of that text (~300 instructions, measured
 * with callgrind; a call to randomFillSync, ~10,000, is shared by the ids of sixteen pools, below).
 * A slice keeps its pool's text alive while the id lives: 2 KiB per pool of ids (for ~40
 * requests), 2.3 KiB per pool of UUIDs (64), bounded by how many ids are kept anywhere.
 */

/**
 * Random bytes are drawn 16 KiB at a time and turned into text 1 KiB at a time. randomFillSync
 * costs about the same per call up to a few KiB (~1.6 µs for 64 bytes or for 1 KiB in a tight
 * loop); on the request path, drawing 1 KiB a time, it was 0.36–0.39 µs a request in the quiet
 * bench row's profile, and 0.05–0.08 µs drawing 16 KiB. The text a slice pins stays 2 KiB.
 */
const RANDOM_BYTES = 16 * 1024;
const randomPool = Buffer.allocUnsafe(RANDOM_BYTES);
let randomAt = RANDOM_BYTES;

/** Where the next `n` fresh random bytes are in randomPool (n divides RANDOM_BYTES). */
function drawRandom(n: number): number {
  if (randomAt + n > RANDOM_BYTES) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const at = randomAt;
  randomAt += n;
  return at;
}

const POOL_BYTES = 1024;
/** POOL_BYTES random bytes as lowercase hex; ids are cut from `hexAt` on. */
let hex = '';
let hexAt = 0;

function hexDigits(length: number): string {
  if (hexAt + length > hex.length) {
    const at = drawRandom(POOL_BYTES);
    hex = randomPool.toString('hex', at, at + POOL_BYTES);
    hexAt = 0;
  }
  const digits = hex.slice(hexAt, hexAt + length);
  hexAt += length;
  return digits;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** 32 lowercase hex digits, never all zeros. */
export function newTraceId(): string {
  let id = hexDigits(32);
  while (id === ZERO_TRACE) id = hexDigits(32);
  return id;
}

/** 16 lowercase hex digits, never all zeros. */
export function newSpanId(): string {
  let id = hexDigits(16);
  while (id === ZERO_SPAN) id = hexDigits(16);
  return id;
}

/** Lowercase hex digits as character codes. */
const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const UUIDS_PER_POOL = 64;
const uuidChars = Buffer.allocUnsafe(36 * UUIDS_PER_POOL);
/** UUIDS_PER_POOL formatted UUIDs back to back; each call cuts the next 36 characters. */
let uuids = '';
let uuidAt = 0;

/**
 * A random (version 4) UUID in its lowercase 8-4-4-4-12 form, as crypto.randomUUID() makes it
 * (RFC 9562 §5.4: 122 random bits, version 0b0100, variant 0b10).
 */
export function newUuid(): string {
  if (uuidAt === uuids.length) {
    const at = drawRandom(16 * UUIDS_PER_POOL);
    let o = 0;
    for (let i = 0; i < 16 * UUIDS_PER_POOL; i++) {
      const k = i & 15;
      let b = randomPool[at + i]!;
      if (k === 6) b = (b & 0x0f) | 0x40;
      else if (k === 8) b = (b & 0x3f) | 0x80;
      if (k === 4 || k === 6 || k === 8 || k === 10) uuidChars[o++] = 0x2d;
      uuidChars[o++] = HEX_CODES[b >> 4];
      uuidChars[o++] = HEX_CODES[b & 15];
    }
    uuids = uuidChars.toString('latin1');
    uuidAt = 0;
  }
  const id = uuids.slice(uuidAt, uuidAt + 36);
  uuidAt += 36;
  return id;
}
