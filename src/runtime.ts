import type { TracecarConfig } from './config/types.js';
import { createSampler, type Sampler } from './sampling/index.js';
import { CHAOS_HEADER, createChaos, createChaosStats, type Chaos, type ChaosStats } from './chaos/index.js';
import { createRouteNamer, type RouteNamer } from './telemetry/route-names.js';
import { createRedactor, type Redactor } from './telemetry/redact.js';
import type { ResourceInfo } from './telemetry/hop.js';
import { TRACE_HEADERS, TRACERESPONSE_HEADER } from './propagation/index.js';
import { FORWARDED_NAMES, HeaderNames } from './proxy/headers.js';
import { targetSpec, type TargetSpec } from './config/targets.js';

/**
 * Everything derived from one config version, compiled once. A request reads the runtime once
 * when it starts, so a reload applies atomically to new requests while in-flight ones finish
 * under the config they started with.
 */
export interface Runtime {
  readonly config: TracecarConfig;
  readonly sampler: Sampler;
  /** null when chaos is disabled: the request path then skips it entirely. */
  readonly chaos: Chaos | null;
  /** Chaos counters (active faults, cap overflows, injections), carried across config versions. */
  readonly chaosStats: ChaosStats;
  readonly routes: RouteNamer;
  readonly redactor: Redactor;
  readonly resource: ResourceInfo;
  /** Names stripped from forwarded requests because tracecar rewrites them. */
  readonly dropOnForward: HeaderNames;
  /** Response header names tracecar sets itself (an upstream's copies are replaced). */
  readonly ownResponseHeaders: HeaderNames;
  readonly correlationHeader: string;
  /** The ingress target, parsed once per config version (origin '' when unset), TLS files read. */
  readonly ingressTarget: TargetSpec;
  /** Named egress routes by name: looked up per request so a changed target hot-reloads. */
  readonly routeTargets: ReadonlyMap<string, TargetSpec>;
}

/**
 * Throws (TRC_ERR_TLS) when a target's TLS file is unusable, before anything changes: a reload
 * with a bad file keeps the previous runtime.
 */
export function compileRuntime(config: TracecarConfig, previous?: Runtime): Runtime {
  const ingressTarget = targetSpec('ingress', config.ingress.target, config.ingress.protocol, config.ingress.targetTls);
  const routeTargets = new Map(config.egress.routes.map((r, i) => [r.name, targetSpec(`egress.routes[${i}]`, r.target, r.protocol, r.targetTls)]));
  const correlationHeader = (config.propagation.correlationHeaders[0] ?? 'x-request-id').toLowerCase();
  const resource: ResourceInfo = {
    service: config.service.name,
    resource: {
      ...config.service.attributes,
      'service.name': config.service.name,
      ...(config.service.version ? { 'service.version': config.service.version } : {}),
    },
  };
  // Keep the chaos engine (and its seeded random sequence) when only unrelated settings changed;
  // a new engine continues the old one's counters.
  const chaosUnchanged = previous && JSON.stringify(previous.config.chaos) === JSON.stringify(config.chaos);
  const chaosStats = previous?.chaosStats ?? createChaosStats();
  return {
    config,
    sampler: createSampler(config.sampling),
    chaos: config.chaos.enabled ? (chaosUnchanged && previous?.chaos ? previous.chaos : createChaos(config.chaos, { stats: chaosStats })) : null,
    chaosStats,
    routes: createRouteNamer(config.routes),
    redactor: createRedactor(config.redact),
    resource,
    dropOnForward: new HeaderNames([...TRACE_HEADERS, correlationHeader, ...FORWARDED_NAMES]),
    ownResponseHeaders: new HeaderNames([correlationHeader, TRACERESPONSE_HEADER, CHAOS_HEADER]),
    correlationHeader,
    ingressTarget,
    routeTargets,
  };
}
