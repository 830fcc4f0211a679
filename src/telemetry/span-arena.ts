/**
 * Where the admin store keeps span bytes: slabs (64 KiB Buffers, off the V8 heap) that spans are
 * appended to as they arrive, each slab counting the stored spans in it and going back to a small
 * pool when the last one leaves. A stored span is (slab, offset, length): no heap object of its
 * own, so keeping the last thousand traces adds nothing for the garbage collector to copy on
 * the request path, and the memory held is exactly the slabs' bytes.
 *
 * Traces leave the store oldest first, so slabs empty in the order they were filled; a span that
 * arrived late for an old trace keeps its slab until that trace goes.
 */
export class Slab {
  pos = 0;
  /** Stored spans in this slab. */
  live = 0;
  constructor(readonly buf: Buffer) {}
}

/** Slabs kept for reuse once empty. */
const SPARE_SLABS = 4;

export class SpanArena {
  /** Bytes of all slabs holding a stored span, and of the one being filled. */
  bytes: number;
  private current: Slab;
  private readonly spare: Buffer[] = [];
  /** Where the last put() stored its bytes. */
  lastSlab!: Slab;
  lastAt = 0;

  /** `slabBytes`: the size of a slab; a span longer than half of it gets a slab of its own. */
  constructor(private readonly slabBytes: number) {
    this.current = new Slab(Buffer.allocUnsafeSlow(slabBytes));
    this.bytes = slabBytes;
  }

  /** Stores bytes [0, length) of `src`; the place is in lastSlab / lastAt. */
  put(src: Buffer, length: number): void {
    let slab = this.current;
    if (length > this.slabBytes >>> 1) {
      slab = new Slab(Buffer.allocUnsafeSlow(length));
      this.bytes += length;
    } else if (slab.pos + length > slab.buf.length) {
      const full = slab;
      slab = this.current = new Slab(this.spare.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes));
      this.bytes += this.slabBytes;
      if (full.live === 0) this.drop(full);
    }
    src.copy(slab.buf, slab.pos, 0, length);
    this.lastSlab = slab;
    this.lastAt = slab.pos;
    slab.pos += length;
    slab.live++;
  }

  /** One stored span left `slab`. */
  release(slab: Slab): void {
    if (--slab.live === 0 && slab !== this.current) this.drop(slab);
  }

  /** Forgets everything; the slab being filled starts over. */
  reset(): void {
    this.current.pos = 0;
    this.current.live = 0;
    this.bytes = this.current.buf.length;
  }

  private drop(slab: Slab): void {
    this.bytes -= slab.buf.length;
    if (slab.buf.length === this.slabBytes && this.spare.length < SPARE_SLABS) this.spare.push(slab.buf);
  }
}
