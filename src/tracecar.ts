/**
 * createTracecar(config) wires the parts: listeners, pipeline, telemetry sinks, admin.
 * It is what the CLI runs and what tests start in-process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Agent } from 'undici';
import type { TracecarConfig } from './config/types.js';
import { compileRuntime, type Runtime } from './runtime.js';
import { handleEgress, handleIngress, type Doctor, type EgressListener, type PipelineDeps, type UpstreamTarget } from './pipeline.js';
import { createUpstreamAgent } from './proxy/upstream.js';
import { InflightRegistry } from './proxy/inflight.js';
import { createUpgradeHandlers } from './proxy/upgrade.js';
import { listenOn, displayUrl, type BoundAddress } from './proxy/listen.js';
import { createFinisher, type SpanSink } from './telemetry/finish.js';
import { createAccessLog } from './telemetry/access-log.js';
import { createLogger, flushLogger, type Logger } from './log.js';
import { createSpanExporter, type SpanExporter } from './telemetry/export/index.js';
import { createMetrics, type Metrics } from './admin/metrics.js';
import { createTraceStore, type TraceStore } from './telemetry/store.js';
import { createAdminServer, type AdminServer } from './admin/server.js';
import { listenAddress } from './config/listeners.js';
import { redactConfig } from './config/redact.js';
import { restartRequired } from './config/restart.js';
import type { Hop } from './telemetry/hop.js';

export type { TracecarConfig } from './config/types.js';

export interface TracecarOptions {
  /** Logger for lifecycle and access lines. @default pino to stdout (pretty on a TTY) */
  logger?: Logger;
  /** Export mode for OTLP (tests pick inline to avoid worker start-up). */
  exportMode?: 'worker' | 'inline';
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
  /** Stops accepting, drains in-flight requests (bounded by shutdownTimeout), flushes spans. */
  close(): Promise<void>;
  readonly config: TracecarConfig;
  readonly addresses: TracecarAddresses | undefined;
  readonly store: TraceStore;
  readonly metrics: Metrics;
  readonly exporter: SpanExporter | undefined;
  /** In-flight requests on all listeners. */
  readonly inflight: number;
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
  const store = createTraceStore(initial.admin.store);
  const inflight = new InflightRegistry();
  let draining = false;
  let active = 0;
  let addresses: TracecarAddresses | undefined;
  let drained: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  const exporter = initial.export.otlp.endpoint
    ? createSpanExporter({
        otlp: initial.export.otlp,
        maxQueueSize: initial.export.maxQueueSize,
        maxExportBatchSize: initial.export.maxExportBatchSize,
        scheduledDelay: initial.export.scheduledDelay,
        resource: { serviceName: initial.service.name, attributes: runtime.resource.resource as Record<string, string> },
        mode: options.exportMode,
        onError: (err) => {
          const code = (err as { code?: string }).code;
          logger.warn({ code, err: err.message }, code === 'TRC_ERR_EXPORT_QUEUE_FULL' ? 'span queue full: spans dropped' : 'span export failed');
        },
      })
    : undefined;
  if (exporter) metrics.exportStats(() => exporter.stats());
  metrics.storeStats(() => store.stats());

  const sinks: SpanSink[] = [];
  if (exporter) sinks.push({ add: (span) => exporter.enqueue(span) });
  if (initial.admin.listen !== null) sinks.push(store);

  const accessLog = createAccessLog(logger, mode, () => addresses?.viewerUrl, process.stdout.isTTY === true);
  const finisher = createFinisher({
    sinks,
    accessLog,
    requestFinished: (hop: Hop) => {
      metrics.requestFinished(hop.side, hop.route, hop.method, hop.status, hop.durationMs);
      active--;
      if (draining && active === 0) drained?.();
    },
  });

  const deps: PipelineDeps = {
    runtime: () => runtime,
    inflight,
    finish: finisher,
    started: (hop) => {
      active++;
      metrics.requestStarted(hop.side, hop.route);
    },
    chaosInjected: (kind, side) => metrics.chaosInjected(kind, side),
    draining: () => draining,
  };

  const ingressAgent: Agent = createUpstreamAgent(initial.ingress.timeout);
  const ingressTarget = (rt: Runtime): UpstreamTarget => ({
    dispatcher: ingressAgent,
    origin: rt.ingressTarget.origin,
    path: '/',
    label: rt.ingressTarget.host,
    timeouts: rt.config.ingress.timeout,
  });

  const ingress: Server = createServer(
    {
      // Uploads and downloads may stream for a long time: per-exchange limits live in timeout.idle.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 5_000,
    },
    (req: IncomingMessage, res: ServerResponse) => handleIngress(deps, ingressTarget, req, res),
  );

  // Propagation doctor: a span event every time, a counter, and one terminal hint per route.
  const doctorSpoke = new Set<string>();
  const doctor: Doctor = {
    lost(hop, route, missing, hint) {
      hop.event('tracecar.propagation.lost', hop.startTime, { 'tracecar.propagation.missing': missing, 'tracecar.propagation.hint': hint });
      metrics.propagationLost(route);
      if (doctorSpoke.has(route)) return;
      if (doctorSpoke.size < 1000) doctorSpoke.add(route);
      logger.warn({ route, missing }, `propagation doctor: ${hint}`);
    },
  };
  const egressDeps = { ...deps, doctor };
  // WebSocket upgrades and CONNECT tunnels; WebSocket connection spans skip the request metrics.
  const upgrades = createUpgradeHandlers({ ...egressDeps, exportSpan: createFinisher({ sinks, accessLog: { write() {} } }) });
  ingress.on('upgrade', upgrades.ingress(ingressTarget));
  const egressAgent: Agent = createUpstreamAgent(initial.egress.timeout);
  const egressServers: Array<{ name: string; server: Server; listen: string }> = [];
  const egressServer = (listener: EgressListener): Server =>
    createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => handleEgress(egressDeps, listener, req, res))
      .on('upgrade', upgrades.egress(listener))
      .on('connect', upgrades.connect(listener));
  if (initial.egress.listen !== null) {
    egressServers.push({ name: 'egress', server: egressServer({ dispatcher: egressAgent }), listen: initial.egress.listen });
  }
  for (const r of initial.egress.routes) {
    egressServers.push({ name: r.name, server: egressServer({ dispatcher: egressAgent, route: { name: r.name } }), listen: r.listen });
  }

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
      return active;
    },

    async listen() {
      if (!initial.ingress.target) {
        throw new Error('ingress.target is required');
      }
      const listenAt = listenAddress('ingress', initial.ingress.listen);
      const bound: TracecarAddresses = {
        ingress: await listenOn(ingress, 'ingress', listenAt.host, listenAt.port, 'choose another port with --port, or stop what is using it'),
        routes: {},
      };
      try {
        for (const e of egressServers) {
          const at = listenAddress(e.name === 'egress' ? 'egress' : 'route', e.listen);
          const hint = e.name === 'egress' ? 'choose another port with --egress-port' : `change the listen port of route "${e.name}"`;
          const addr = await listenOn(e.server, e.name === 'egress' ? 'egress' : `egress route "${e.name}"`, at.host, at.port, hint);
          if (e.name === 'egress') bound.egress = addr;
          else bound.routes[e.name] = addr;
        }
        if (admin && initial.admin.listen !== null) {
          const a = listenAddress('admin', initial.admin.listen);
          const info = await admin.listen(a.host, a.port);
          bound.admin = { host: info.host, port: info.port };
          if (initial.admin.viewer) bound.viewerUrl = `${displayUrl(bound.admin)}/`;
        }
      } catch (err) {
        ingress.close();
        for (const e of egressServers) e.server.close();
        throw err;
      }
      addresses = bound;
      return bound;
    },

    reload(next) {
      const restart = restartRequired(runtime.config, next);
      runtime = compileRuntime(next, runtime);
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

  async function shutdown(): Promise<void> {
    draining = true;
    const servers = [ingress, ...egressServers.map((e) => e.server)];
    for (const server of servers) {
      server.close();
      server.closeIdleConnections();
    }
    // Upgraded sockets (WebSockets, CONNECT tunnels) left node:http at the upgrade: drain them too.
    const upgradesDrained = upgrades.drain(runtime.config.shutdownTimeout);
    if (active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, runtime.config.shutdownTimeout);
        timer.unref();
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await upgradesDrained;
    for (const server of servers) server.closeAllConnections();
    await Promise.all([ingressAgent.close().catch(() => {}), egressAgent.close().catch(() => {})]);
    await exporter?.shutdown(5_000);
    await admin?.close();
    flushLogger(logger);
  }
}
