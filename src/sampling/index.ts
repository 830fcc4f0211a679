export { createSampler } from './sampler.js';
export { tailKeep } from './tail.js';
export { ratioThreshold, traceRandomness, meetsThreshold, type RatioThreshold } from './threshold.js';
export { createRateLimiter, type RateLimiter } from './rate-limiter.js';
export type { Sampler, SamplingDecision, SamplingInput, SamplingReason, TailKeepReason } from './types.js';
