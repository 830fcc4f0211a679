import { randomFillSync } from 'node:crypto';

/*
 * Random ids, from crypto random bytes drawn a pool at a time. Trace ids are fully random, so
 * W3C's "random" flag (0x02) is honest.
 *
 * Why pooled text: turning bytes into hex costs a call into the runtime per id (Buffer#toString,
 * ~1,300 instructions, and node's randomUUID ~2,500 of which most is building its string), which
 * made id and correlation-id generation the largest part of starting a hop. Here the pool's bytes
 * become text once per refill, and each id is a slice of that text (~300 instructions, measured
 * with callgrind; a refill, ~10,000 for randomFillSync alone, is shared by the ids of one pool).
 * A slice keeps its pool's text alive while the id lives: 2 KiB per pool of ids (for ~40
 * requests), 2.3 KiB per pool of UUIDs (64), bounded by how many ids are kept anywhere.
 */

const POOL_BYTES = 1024;
const poolBytes = Buffer.allocUnsafe(POOL_BYTES);
/** poolBytes as lowercase hex; ids are cut from `hexAt` on. */
let hex = '';
let hexAt = 0;

function hexDigits(length: number): string {
  if (hexAt + length > hex.length) {
    randomFillSync(poolBytes);
    hex = poolBytes.toString('hex');
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
const uuidBytes = Buffer.allocUnsafe(16 * UUIDS_PER_POOL);
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
    randomFillSync(uuidBytes);
    let o = 0;
    for (let i = 0; i < uuidBytes.length; i++) {
      const k = i & 15;
      let b = uuidBytes[i];
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
