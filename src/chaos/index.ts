export { createChaos, createChaosStats } from './chaos.js';
export { injectFaults, type FaultedExchange, type FaultOutcome } from './inject.js';
export { throttle, slowBody, resetAfter } from './streams.js';
export { CHAOS_HEADER, parseChaosHeader, type HeaderFaults } from './header.js';
export { seededRandom } from './random.js';
export { compileDelay, standardNormal } from './delay.js';
export type { Chaos, ChaosEvent, ChaosInput, ChaosSide, ChaosStats, FaultKind, FaultPlan } from './types.js';
