/**
 * mulberry32: a tiny, fast 32-bit seedable PRNG (Tommy Ettinger's public-domain generator),
 * good enough for fault dice — not for anything secret. Same seed → same sequence, on every
 * platform. Returns floats in [0, 1) with 32 bits of resolution, like Math.random's contract.
 */
export function seededRandom(seed: number): () => number {
  // Fold any finite number (negative, fractional, > 2^32) into 32 bits deterministically.
  let state = (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
