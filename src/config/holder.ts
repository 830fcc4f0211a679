import type { TracecarConfig } from './types.js';

/**
 * The current config, swapped atomically on reload. The request path calls current() once when a
 * request starts and uses that object to the end, so in-flight requests finish under the config
 * they started with while new requests see the new one. Configs are deep-frozen: sharing is safe.
 */
export class ConfigHolder {
  #current: TracecarConfig;
  #generation = 0;

  constructor(initial: TracecarConfig) {
    this.#current = initial;
  }

  current(): TracecarConfig {
    return this.#current;
  }

  /** Increments on every swap: handy for logs and for caches keyed on the config. */
  get generation(): number {
    return this.#generation;
  }

  /** Install `next`; returns the config it replaced. */
  swap(next: TracecarConfig): TracecarConfig {
    const prev = this.#current;
    this.#current = next;
    this.#generation++;
    return prev;
  }
}
