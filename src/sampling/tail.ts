import type { SamplingConfig } from '../config/types.js';
import type { TailKeepReason } from './types.js';

/**
 * Tail keep: this hop's spans are exported even when the head decision was "no" if the request
 * failed or was slow. Returns the reason to record (`tracecar.sampling.reason`), or null.
 * "error" wins over "slow"; slow means strictly longer than `slowerThan` milliseconds.
 */
export function tailKeep(keep: SamplingConfig['keep'], outcome: { error: boolean; durationMs: number }): TailKeepReason | null {
  if (keep.errors && outcome.error) return 'error';
  if (keep.slowerThan !== null && outcome.durationMs > keep.slowerThan) return 'slow';
  return null;
}
