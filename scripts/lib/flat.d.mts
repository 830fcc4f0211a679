/** Types of flat.mjs (the soak's verdict rule), for the suite's TypeScript. */
export function slope(xs: number[], ys: number[]): number;
export function flatness(samples: Array<{ t: number; value: number }>, maxGrowth: number): { growth: number; window: number; flat: boolean };
