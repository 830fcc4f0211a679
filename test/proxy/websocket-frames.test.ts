/**
 * The frame-header reader behind the WebSocket connection span: message and close-code counting
 * must not depend on how TCP cuts the stream, and payloads are never needed to count.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLOSE_NO_STATUS, FrameCounter } from '../../src/proxy/ws-frames.js';

/** One frame as RFC 6455 §5.2 lays it out (masked like a client's when `mask` is set). */
function frame(opcode: number, payload: Buffer, { fin = true, mask = false } = {}): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, body]);
}

function closeFrame(code: number, reason = '', mask = false): Buffer {
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code, 0);
  p.write(reason, 2);
  return frame(0x8, p, { mask });
}

/** Feeds `bytes` in pieces of `size` (1 = every byte boundary). */
function feed(bytes: Buffer, size: number): FrameCounter {
  const c = new FrameCounter();
  for (let i = 0; i < bytes.length; i += size) c.push(bytes.subarray(i, i + size));
  return c;
}

describe('FrameCounter', () => {
  for (const mask of [false, true]) {
    const stream = Buffer.concat([
      frame(0x1, Buffer.from('hello'), { mask }),
      frame(0x2, randomBytes(300), { mask }), // 16-bit length
      frame(0x1, Buffer.from('frag-1 '), { fin: false, mask }),
      frame(0x9, Buffer.from('ping'), { mask }), // a control frame between fragments
      frame(0x0, Buffer.from('frag-2 '), { fin: false, mask }),
      frame(0x0, Buffer.from('frag-3'), { mask }),
      frame(0x2, randomBytes(70_000), { mask }), // 64-bit length
      frame(0xa, Buffer.alloc(0), { mask }),
      frame(0x1, Buffer.alloc(0), { mask }), // empty message
      closeFrame(1001, 'going away', mask),
    ]);

    for (const size of [1, 3, 7, 1024, stream.length]) {
      it(`counts messages, frames, bytes and the close code (${mask ? 'masked' : 'unmasked'}, ${size}-byte chunks)`, () => {
        const c = feed(stream, size);
        expect(c.broken).toBeUndefined();
        expect(c.messages).toBe(5);
        expect(c.frames).toBe(10);
        expect(c.bytes).toBe(stream.length);
        expect(c.closeCode).toBe(1001);
      });
    }
  }

  it('a close frame without a code reads as 1005, and only the first close counts', () => {
    const c = feed(Buffer.concat([frame(0x8, Buffer.alloc(0)), closeFrame(1000)]), 1);
    expect(c.closeCode).toBe(CLOSE_NO_STATUS);
  });

  it('stops counting (but keeps counting bytes) on a stream that is not WebSocket framing', () => {
    const c = new FrameCounter();
    c.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(c.broken).toBeDefined();
    c.push(frame(0x1, Buffer.from('x')));
    expect(c.messages).toBe(0);
    expect(c.bytes).toBe(27 + 3);
  });

  it('rejects a continuation frame with no message open', () => {
    const c = feed(frame(0x0, Buffer.from('x')), 1);
    expect(c.broken).toMatch(/continuation/);
  });

  it('does not buffer payloads: a huge declared length is skipped by count', () => {
    const c = new FrameCounter();
    const head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 127;
    head.writeBigUInt64BE(5n * 1024n * 1024n * 1024n, 2);
    c.push(head);
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < 5 * 1024; i++) c.push(chunk);
    expect(c.messages).toBe(1);
    expect(c.broken).toBeUndefined();
  });
});
