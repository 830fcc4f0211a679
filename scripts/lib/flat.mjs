// The soak's verdict rule, in one place (scripts/soak.mjs uses it, test/hardening/soak.test.ts
// checks it on synthetic series): a series is flat when, over its last two thirds (the first
// third is warm-up: pools, JIT, the viewer store filling to its bound), its fitted line rises by
// less than `maxGrowth` from the start of that window to its end. The line's slope is Theil–Sen's
// (the median of the slopes between every pair of samples), so one spike from a busy machine
// cannot decide the verdict the way it can pull a least-squares line.

/** Theil–Sen slope of ys against xs (units of y per unit of x); 0 for fewer than two points. */
export function slope(xs, ys) {
  const slopes = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
}

/**
 * samples: [{ t: seconds, value }] in time order. Returns { growth, window, flat }: growth is the
 * fitted rise over the last two thirds (same unit as value), window its length in seconds.
 */
export function flatness(samples, maxGrowth) {
  const tail = samples.slice(Math.floor(samples.length / 3));
  const xs = tail.map((s) => s.t);
  const ys = tail.map((s) => s.value);
  const window = xs.length > 1 ? xs[xs.length - 1] - xs[0] : 0;
  const growth = slope(xs, ys) * window;
  return { growth, window, flat: tail.length >= 3 && growth < maxGrowth };
}
