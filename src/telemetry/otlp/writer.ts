/**
 * A growable byte buffer with the protobuf primitives OTLP needs, written for one job: encoding
 * tracecar's spans on the main thread at a few hundred nanoseconds each.
 *
 * Hand-written rather than protobufjs' Writer (a dependency already) because a measurement said
 * so: protobufjs' Writer queues every field as a linked-list operation object and length-delimits
 * nested messages with fork()/ldelim() (two more objects each), then copies everything into the
 * final buffer; this writer writes bytes in place and back-patches nested lengths, with no
 * allocation per field (bench/export-cost.mjs `encode` lines: ~0.9 µs vs ~3.6 µs per span).
 *
 * Nested messages: startLd() reserves the bytes of a length prefix, endLd() writes the length
 * and, when the reservation was the wrong size, moves the message body (rare: the reservation is
 * chosen for the usual size).
 */
const HEX: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[97 + i] = 10 + i;
    t[65 + i] = 10 + i;
  }
  return t;
})();

const TWO_32 = 0x1_0000_0000;
const TWO_NEG_16 = 1 / 0x10000;
const TWO_NEG_32 = 1 / TWO_32;

export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x20_0000) return 3;
  if (n < 0x1000_0000) return 4;
  return 5;
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 16 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One byte (a tag of a field number ≤ 15, or a bool). */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer below 2^32. */
  varint(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[p++] = n;
    this.pos = p;
  }

  /** int64 varint of any integer within the int64 range (negatives as ten-byte two's complement). */
  int64(n: number): void {
    if (n >= 0 && n < TWO_32) {
      this.varint(n);
      return;
    }
    this.ensure(10);
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  fixed32(n: number): void {
    this.ensure(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = n & 0xff;
    buf[p + 1] = (n >>> 8) & 0xff;
    buf[p + 2] = (n >>> 16) & 0xff;
    buf[p + 3] = (n >>> 24) & 0xff;
    this.pos = p + 4;
  }

  /** fixed64 from its low and high 32 bits. */
  private u32pair(low: number, high: number): void {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = low & 0xff;
    buf[p + 1] = (low >>> 8) & 0xff;
    buf[p + 2] = (low >>> 16) & 0xff;
    buf[p + 3] = (low >>> 24) & 0xff;
    buf[p + 4] = high & 0xff;
    buf[p + 5] = (high >>> 8) & 0xff;
    buf[p + 6] = (high >>> 16) & 0xff;
    buf[p + 7] = (high >>> 24) & 0xff;
    this.pos = p + 8;
  }

  double(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  /**
   * Epoch milliseconds (with a fraction) as fixed64 unix nanoseconds, rounded exactly as
   * OpenTelemetry JS does (millisToHrTime: whole seconds, then the rounded nanosecond remainder).
   * Only multiplications, floors and exact subtractions: `%` on doubles is a call to fmod.
   */
  timeMs(ms: number): void {
    // seconds and the millisecond remainder, exactly (q·1000 and ms − q·1000 are exact in double).
    let seconds = Math.floor(ms / 1000);
    let rest = ms - seconds * 1000;
    if (rest < 0) {
      seconds--;
      rest += 1000;
    } else if (rest >= 1000) {
      seconds++;
      rest -= 1000;
    }
    const nanos = Math.round(rest * 1e6);
    // seconds·1e9 + nanos exceeds 2^53: split seconds in 16-bit halves so every product is exact.
    const sHigh = Math.floor(seconds * TWO_NEG_16);
    const a = sHigh * 1e9; // × 2^16 below
    const b = (seconds - sHigh * 0x10000) * 1e9 + nanos;
    const aHigh = Math.floor(a * TWO_NEG_16);
    const bHigh = Math.floor(b * TWO_NEG_32);
    const low = (a - aHigh * 0x10000) * 0x10000 + (b - bHigh * TWO_32);
    const carry = low >= TWO_32 ? 1 : 0;
    this.u32pair(low - carry * TWO_32, (aHigh + bHigh + carry) >>> 0);
  }

  /** A length-prefixed UTF-8 string. ASCII takes a JS fast path; anything else goes through Buffer. */
  string(s: string): void {
    const n = s.length;
    const prefix = varintSize(n);
    this.ensure(prefix + n);
    const buf = this.buf;
    const start = this.pos;
    let p = start + prefix;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.stringUtf8(s, start);
        return;
      }
      buf[p++] = c;
    }
    let len = n;
    let q = start;
    while (len >= 0x80) {
      buf[q++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    buf[q] = len;
    this.pos = p;
  }

  private stringUtf8(s: string, start: number): void {
    this.pos = start;
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** A length-prefixed bytes field from a hex string (trace and span ids). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(1 + n);
    const buf = this.buf;
    buf[this.pos++] = n;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const hi = HEX[hex.charCodeAt(2 * i) & 0x7f]!;
      const lo = HEX[hex.charCodeAt(2 * i + 1) & 0x7f]!;
      buf[p++] = ((hi & 0xf) << 4) | (lo & 0xf);
    }
    this.pos = p;
  }

  /** A length-prefixed copy of bytes. */
  bytes(src: Uint8Array): void {
    this.varint(src.length);
    this.raw(src);
  }

  /** Bytes copied as they are (an already encoded message or field). */
  raw(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Reserves `reserve` bytes for a length prefix; pass the result to endLd(). */
  startLd(reserve = 1): number {
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark * 8 + reserve;
  }

  /** Writes the length of the message begun at startLd(), moving its body if the prefix size differs. */
  endLd(token: number): void {
    const reserve = token & 7;
    const mark = (token - reserve) / 8;
    const bodyStart = mark + reserve;
    const len = this.pos - bodyStart;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(mark + size, bodyStart, this.pos);
      this.pos += size - reserve;
    }
    const buf = this.buf;
    let p = mark;
    let v = len;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  /** The bytes written so far, as a view (valid until the next write grows the buffer). */
  view(from = 0): Buffer {
    return this.buf.subarray(from, this.pos);
  }
}
