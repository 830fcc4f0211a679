/**
 * createTracecar(config) wires the parts: telemetry sinks (telemetry/sinks.ts), the propagation
 * doctor (stitching.ts), the listeners (listeners.ts: the proxy servers and admin, bound with one
 * helper), a drain tracker (drain.ts), and the config version requests read (runtime.ts).
 * It is what the CLI runs and what tests start in-process.
 */
import type { TracecarConfig } from './config/types.js';
import { redactConfig } from './config/redact.js';
import { restartRequired } from './config/restart.js';
import { compileRuntime, type Runtime } from './runtime.js';
import { upstreamFor, type PipelineDeps, type UpstreamTarget } from './pipeline.js';
import { createDoctor } from './stitching.js';
import { applyListenerLimits, bindListeners, createProxyListeners, type Listener } from './listeners.js';
import { DrainTracker } from './drain.js';
import { createUpstreamClients } from './proxy/upstreams.js';
import { InflightRegistry } from './proxy/inflight.js';
import { displayUrl, type BoundAddress } from './proxy/listen.js';
import { createTelemetrySinks } from './telemetry/sinks.js';
import type { SpanExporter } from './telemetry/export/index.js';
import type { TraceStore } from './telemetry/store.js';
import { createMetrics, type Metrics } from './admin/metrics.js';
import { createAdminServer, traceLink, type AdminServer } from './admin/server.js';
import { createLogger, flushLogger, type Logger } from './log.js';

export type { TracecarConfig } from './config/types.js';

export interface TracecarOptions {
  /** Logger for lifecycle and access lines. @default pino to stdout (pretty on a TTY) */
  logger?: Logger;
}

export interface TracecarAddresses {
  ingress: BoundAddress;
  /** Forward-proxy egress (HTTP_PROXY), when on. */
  egress?: BoundAddress;
  /** Named egress routes by name. */
  routes: Record<string, BoundAddress>;
  admin?: BoundAddress;
  /** Base URL of the trace viewer, when the admin listener and viewer are on. */
  viewerUrl?: string;
}

export interface Tracecar {
  listen(): Promise<TracecarAddresses>;
  /** Applies a new config to new requests; returns the keys that need a restart to take effect. */
  reload(next: TracecarConfig): string[];
  /**
   * Stops accepting, drains in-flight requests and upgraded connections (bounded by
   * shutdownTimeout), flushes spans. Every call resolves when that is done.
   */
  close(): Promise<void>;
  readonly config: TracecarConfig;
  readonly addresses: TracecarAddresses | undefined;
  readonly store: TraceStore;
  readonly metrics: Metrics;
  readonly exporter: SpanExporter | undefined;
  /** In-flight requests on all listeners. */
  readonly inflight: number;
  /** Ingress requests in the stitching map (InflightRegistry): 0 when nothing is in flight. */
  readonly inflightEntries: number;
  /** The HTTP/1.1 upstream pools by origin (undici's pool stats): leak checks and the soak. */
  upstreamPools(): Record<string, UpstreamPoolStats>;
}

/** One upstream origin's pool: connections open and idle, requests queued and running. */
export interface UpstreamPoolStats {
  connected: number;
  free: number;
  pending: number;
  running: number;
}

function consoleMode(config: TracecarConfig): 'pretty' | 'json' | 'off' {
  const c = config.export.console;
  if (c === 'auto') return process.stdout.isTTY ? 'pretty' : 'json';
  return c;
}

export function createTracecar(initial: TracecarConfig, options: TracecarOptions = {}): Tracecar {
  let runtime: Runtime = compileRuntime(initial);
  const mode = consoleMode(initial);
  const logger = options.logger ?? createLogger({ level: initial.log.level, pretty: mode === 'pretty' });
  const metrics = createMetrics();
  const drain = new DrainTracker();
  let draining = false;
  let addresses: TracecarAddresses | undefined;
  let closing: Promise<void> | undefined;

  const telemetry = createTelemetrySinks(initial, {
    logger,
    accessLog: mode,
    color: process.stdout.isTTY === true,
    traceLink: (traceId) => (addresses?.viewerUrl ? traceLink(addresses.viewerUrl, traceId) : undefined),
    resource: runtime.resource,
    requestFinished: (hop) => {
      metrics.requestFinished(hop.side, hop.route, hop.method, hop.status, hop.durationMs);
      drain.finished();
    },
  });
  const { exporter, store } = telemetry;
  if (exporter) metrics.exportStats(() => exporter.stats());
  metrics.storeStats(() => store.stats());
  metrics.chaosStats(() => ({ active: runtime.chaosStats.active, overflow: runtime.chaosStats.skippedCap }));

  // Only egress listeners stitch, and they are fixed at start (adding one needs a restart).
  const inflight = initial.egress.listen !== null || initial.egress.routes.length > 0 ? new InflightRegistry() : undefined;
  const deps: PipelineDeps = {
    runtime: () => runtime,
    inflight,
    finish: telemetry.finishRequest,
    exportSpan: telemetry.exportSpan,
    started: (hop) => {
      drain.started();
      metrics.requestStarted(hop.side, hop.route);
    },
    chaosInjected: (kind, side) => metrics.chaosInjected(kind, side),
    draining: () => draining,
    // The span sinks sinks.ts builds: the exporter and, with the admin listener, the store.
    spansLeave: exporter !== undefined || initial.admin.listen !== null,
    doctor: createDoctor(metrics, logger),
    live: drain.live,
  };

  // Connections to the app (ingress) and to what the app calls (egress): HTTP/1.1 and HTTP/2.
  const ingressClients = createUpstreamClients(initial.ingress.timeout, initial.http2.upstream);
  const egressClients = createUpstreamClients(initial.egress.timeout, initial.http2.upstream);
  metrics.h2PoolStats(() => ({ ingress: ingressClients.h2.stats(), egress: egressClients.h2.stats() }));
  const ingressTarget = (rt: Runtime): UpstreamTarget => upstreamFor(ingressClients, rt.ingressTarget, rt.ingressTarget.host, rt.config.ingress.timeout);
  const proxies = createProxyListeners(initial, deps, ingressTarget, egressClients, logger, {
    rejected: (side, code) => metrics.requestRejected(side, code),
    dropped: (side) => metrics.connectionDropped(side),
  });

  let admin: AdminServer | undefined;
  if (initial.admin.listen !== null) {
    admin = createAdminServer({
      store,
      metrics,
      config: () => redactConfig(runtime.config),
      readiness: () => (draining ? { ready: false, reason: 'draining' } : addresses ? { ready: true } : { ready: false, reason: 'starting' }),
      receiveOtlp: initial.admin.receiveOtlp,
      viewer: initial.admin.viewer,
      serviceName: initial.service.name,
      logger,
    });
  }

  async function listen(): Promise<TracecarAddresses> {
    if (!initial.ingress.target) throw new Error('ingress.target is required');
    const listeners: Listener[] = [...proxies];
    if (admin && initial.admin.listen !== null) listeners.push({ kind: 'admin', name: 'admin', listen: initial.admin.listen, server: admin.server });
    const bound = await bindListeners(listeners);
    const out: TracecarAddresses = { ingress: bound[0], routes: {} };
    listeners.forEach((l, i) => {
      if (l.kind === 'egress') out.egress = bound[i];
      else if (l.kind === 'route') out.routes[l.name] = bound[i];
      else if (l.kind === 'admin') {
        out.admin = bound[i];
        if (initial.admin.viewer) out.viewerUrl = `${displayUrl(bound[i])}/`;
      }
    });
    addresses = out;
    return out;
  }

  async function shutdown(): Promise<void> {
    draining = true;
    // Stop accepting; idle HTTP/1.1 connections close, HTTP/2 sessions get GOAWAY (their streams finish).
    for (const l of proxies) {
      l.tls?.close();
      l.proxy?.close();
    }
    await drain.drain(runtime.config.shutdownTimeout);
    for (const l of proxies) l.proxy?.closeAll();
    await Promise.all([ingressClients.close(), egressClients.close()]);
    await telemetry.shutdown();
    await admin?.close();
    flushLogger(logger);
  }

  return {
    get config() {
      return runtime.config;
    },
    get addresses() {
      return addresses;
    },
    store,
    metrics,
    exporter,
    get inflight() {
      return drain.inflight;
    },
    get inflightEntries() {
      return inflight?.size ?? 0;
    },
    upstreamPools() {
      const out: Record<string, UpstreamPoolStats> = {};
      for (const agent of [ingressClients.agent, egressClients.agent]) {
        for (const [origin, pool] of Object.entries(agent.stats)) {
          const prev = out[origin] ?? { connected: 0, free: 0, pending: 0, running: 0 };
          out[origin] = {
            connected: prev.connected + pool.connected,
            free: prev.free + pool.free,
            pending: prev.pending + pool.pending,
            running: prev.running + pool.running,
          };
        }
      }
      return out;
    },
    listen,
    reload(next) {
      const restart = restartRequired(runtime.config, next);
      // Compiling reads the targets' TLS files: a bad one throws here and the old runtime stays.
      runtime = compileRuntime(next, runtime);
      ingressClients.retain(new Set([runtime.ingressTarget.poolKey]));
      egressClients.retain(new Set([...runtime.routeTargets.values()].map((t) => t.poolKey)));
      applyListenerLimits(proxies, next.limits);
      logger.level = next.log.level;
      metrics.configReload(true);
      return restart;
    },
    close() {
      // Every caller waits for the same drain: a second close() must not resolve before it ends.
      closing ??= shutdown();
      return closing;
    },
  };
}
