/**
 * A streaming WebSocket frame-header reader (RFC 6455 §5.2) for counting, never for rewriting:
 * the proxy pipes bytes untouched and feeds each chunk here as it passes. It keeps at most one
 * frame header (≤ 14 bytes) and the first two payload bytes of a close frame (the status code);
 * data payloads are skipped by length, so memory stays constant whatever the message size.
 */

/** Opcodes (RFC 6455 §5.2). */
const CONTINUATION = 0x0;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** Close status when a close frame carries no code (RFC 6455 §7.1.5). */
export const CLOSE_NO_STATUS = 1005;

export class FrameCounter {
  /** Wire bytes seen (frame headers included). */
  bytes = 0;
  /** Frames whose header was read. */
  frames = 0;
  /** Complete data messages (text/binary, however many fragments). */
  messages = 0;
  /** Close code of the first close frame seen in this direction (1005 when it had none). */
  closeCode: number | undefined = undefined;
  /** Why counting stopped (not WebSocket framing, or a framing error): bytes are still counted. */
  broken: string | undefined = undefined;

  private readonly header = Buffer.alloc(14);
  private have = 0;
  private need = 2;
  /** Payload bytes of the current frame not seen yet. */
  private remaining = 0;
  private fin = false;
  private opcode = 0;
  private masked = false;
  private readonly mask = Buffer.alloc(4);
  /** Payload bytes of the current frame already seen (for the mask offset of close-code bytes). */
  private seen = 0;
  private readonly closeBytes = Buffer.alloc(2);
  /** A fragmented data message is open (its first frame had FIN=0). */
  private inMessage = false;

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.broken !== undefined) return;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        if (this.opcode === CLOSE && this.seen < 2) this.captureClose(chunk, i, take);
        this.seen += take;
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      this.header[this.have++] = chunk[i++];
      if (this.have === 2) {
        const len7 = this.header[1] & 0x7f;
        this.need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.header[1] & 0x80 ? 4 : 0);
      }
      if (this.have >= 2 && this.have === this.need) {
        this.startFrame();
        if (this.broken !== undefined) return;
        if (this.remaining === 0) this.endFrame();
      }
    }
  }

  private startFrame(): void {
    const h = this.header;
    this.have = 0;
    this.need = 2;
    this.fin = (h[0] & 0x80) !== 0;
    this.opcode = h[0] & 0x0f;
    this.masked = (h[1] & 0x80) !== 0;
    const len7 = h[1] & 0x7f;
    let off = 2;
    let length: number;
    if (len7 === 126) {
      length = h.readUInt16BE(2);
      off = 4;
    } else if (len7 === 127) {
      const high = h.readUInt32BE(2);
      if (high & 0x80000000) return this.fail('64-bit payload length with the most significant bit set');
      length = high * 0x1_0000_0000 + h.readUInt32BE(6);
      off = 10;
    } else length = len7;
    if (this.masked) h.copy(this.mask, 0, off, off + 4);
    this.remaining = length;
    this.seen = 0;
    this.frames++;

    const op = this.opcode;
    if (op === CLOSE || op === PING || op === PONG) {
      if (!this.fin || length > 125) return this.fail('fragmented or oversized control frame');
      return;
    }
    if (op === TEXT || op === BINARY) {
      if (this.inMessage) return this.fail('new data frame inside a fragmented message');
      this.inMessage = !this.fin;
      return;
    }
    if (op === CONTINUATION) {
      if (!this.inMessage) return this.fail('continuation frame without a message');
      if (this.fin) this.inMessage = false;
      return;
    }
    this.fail(`unknown opcode 0x${op.toString(16)}`);
  }

  private endFrame(): void {
    const op = this.opcode;
    if (this.fin && (op === TEXT || op === BINARY || op === CONTINUATION)) this.messages++;
    else if (op === CLOSE && this.closeCode === undefined) {
      this.closeCode = this.seen >= 2 ? this.closeBytes.readUInt16BE(0) : CLOSE_NO_STATUS;
    }
  }

  private captureClose(chunk: Buffer, at: number, take: number): void {
    for (let k = 0; k < take && this.seen + k < 2; k++) {
      const pos = this.seen + k;
      this.closeBytes[pos] = this.masked ? chunk[at + k] ^ this.mask[pos & 3] : chunk[at + k];
    }
  }

  private fail(reason: string): void {
    this.broken = reason;
    this.remaining = 0;
  }
}
