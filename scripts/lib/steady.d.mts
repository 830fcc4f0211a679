/** Types of steady.mjs (steady-rate load), for the suite's TypeScript. */
export function steadyRate<T>(rate: number, seconds: number, send: (i: number) => Promise<T>): Promise<T[]>;
