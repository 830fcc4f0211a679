/**
 * The admin listener: health and readiness for orchestrators, Prometheus metrics, the effective
 * config, the trace API and viewer, and an OTLP/HTTP receiver that feeds the same store. One handler
 * file per endpoint lives in ./handlers; this module only routes and owns the server (bound by
 * tracecar's listeners, like the proxy listeners). On a loopback address it serves only loopback
 * Host names (DNS-rebinding guard, ./host-guard.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TraceStore } from '../telemetry/store.js';
import { HttpError, sendJson, sendText, type Handler } from './http.js';
import type { Metrics } from './metrics.js';
import { configHandler } from './handlers/config.js';
import { healthzHandler } from './handlers/healthz.js';
import { infoHandler } from './handlers/info.js';
import { metricsHandler } from './handlers/metrics.js';
import { otlpHandler } from './handlers/otlp.js';
import { readyzHandler, type Readiness } from './handlers/readyz.js';
import { summaryHandler } from './handlers/summary.js';
import { traceHandler } from './handlers/trace.js';
import { tracesHandler } from './handlers/traces.js';
import { VIEWER_PATHS, viewerHandler } from './handlers/viewer.js';
import { rebindingRefusal } from './host-guard.js';

export interface AdminLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface AdminServerOptions {
  store: TraceStore;
  metrics: Metrics;
  /** The effective config, already redacted, as a plain object; rendered as YAML. */
  config: () => unknown;
  readiness: () => Readiness;
  /** Accept OTLP/HTTP spans on POST /v1/traces. */
  receiveOtlp: boolean;
  /** Serve the trace viewer at /. */
  viewer: boolean;
  serviceName: string;
  logger?: AdminLogger;
  /** Largest OTLP request body accepted (after decompression). @default 8 MiB */
  maxOtlpBodyBytes?: number;
}

export interface AdminAddress {
  host: string;
  port: number;
  /** Base URL of the admin listener (and the viewer), ending in "/". */
  url: string;
}

export interface AdminServer {
  /** The node:http server, bound by tracecar's listeners (bindListeners) like every other listener. */
  readonly server: Server;
  close(): Promise<void>;
  /** The bound address once listening. */
  address(): AdminAddress | undefined;
}

interface Route {
  methods: string[];
  path?: string;
  pattern?: RegExp;
  params?: string[];
  handler: Handler;
}

const DEFAULT_MAX_OTLP_BODY = 8 * 1024 * 1024;
const GET = ['GET', 'HEAD'];

/** The viewer deep link for a trace, e.g. for the terminal line of each request. */
export function traceLink(baseUrl: string, traceId: string): string {
  return `${baseUrl.endsWith('/') ? baseUrl : baseUrl + '/'}#/trace/${traceId}`;
}

/** A URL host for a bound address: wildcard → loopback, IPv6 in brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { store, metrics, logger } = options;
  metrics.storeStats(() => store.stats());

  const routes: Route[] = [
    { methods: GET, path: '/healthz', handler: healthzHandler() },
    { methods: GET, path: '/readyz', handler: readyzHandler(options.readiness) },
    { methods: GET, path: '/metrics', handler: metricsHandler(metrics) },
    { methods: GET, path: '/config', handler: configHandler(options.config) },
    { methods: GET, path: '/api/traces', handler: tracesHandler(store) },
    { methods: GET, pattern: /^\/api\/traces\/([^/]+)$/, params: ['id'], handler: traceHandler(store) },
    { methods: GET, path: '/api/summary', handler: summaryHandler(store) },
    { methods: GET, path: '/api/info', handler: infoHandler({ serviceName: options.serviceName, receiveOtlp: options.receiveOtlp, store }) },
  ];
  if (options.receiveOtlp) {
    routes.push({
      methods: ['POST'],
      path: '/v1/traces',
      handler: otlpHandler({ store, metrics, maxBodyBytes: options.maxOtlpBodyBytes ?? DEFAULT_MAX_OTLP_BODY, logger }),
    });
  }
  if (options.viewer) {
    const viewer = viewerHandler();
    for (const path of VIEWER_PATHS) routes.push({ methods: GET, path, handler: viewer });
  } else {
    routes.push({ methods: GET, path: '/', handler: indexHandler(options.serviceName, options.receiveOtlp) });
  }

  function find(pathname: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of routes) {
      if (route.path === pathname) return { route, params: {} };
      const m = route.pattern?.exec(pathname);
      if (m) {
        const params: Record<string, string> = {};
        route.params?.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
        return { route, params };
      }
    }
    return undefined;
  }

  function fail(res: ServerResponse, url: URL, status: number, message: string, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (url.pathname.startsWith('/api/')) sendJson(res, status, { error: message }, headers);
    else sendText(res, status, message + '\n', 'text/plain; charset=utf-8', headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      sendText(res, 400, 'bad request target\n');
      return;
    }
    // DNS-rebinding guard: on a loopback listener, only loopback Host names are served.
    const refusal = rebindingRefusal(boundHost, req.headers.host);
    if (refusal !== undefined) {
      req.resume();
      fail(res, url, 421, refusal);
      return;
    }
    try {
      const found = find(url.pathname);
      if (!found) {
        req.resume();
        const message = url.pathname === '/v1/traces' ? 'OTLP receiver is off (admin.receiveOtlp: false)' : 'not found';
        fail(res, url, 404, message);
        return;
      }
      const method = req.method ?? 'GET';
      if (!found.route.methods.includes(method)) {
        req.resume();
        fail(res, url, 405, `method ${method} not allowed`, { allow: found.route.methods.join(', ') });
        return;
      }
      await found.route.handler({ req, res, url, params: found.params });
    } catch (err) {
      if (err instanceof HttpError) {
        fail(res, url, err.status, err.message, err.headers);
        return;
      }
      logger?.warn({ err: (err as Error)?.message ?? String(err), path: url.pathname }, 'admin request failed');
      fail(res, url, 500, 'internal error');
    }
  }

  const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    void handle(req, res);
  });
  let bound: AdminAddress | undefined;
  /** The address last bound; kept through close() so the Host guard stays on while draining. */
  let boundHost: string | undefined;
  // tracecar binds this server with the listeners' one listen helper; the address is read here.
  server.on('listening', () => {
    const addr = server.address() as AddressInfo;
    boundHost = addr.address;
    bound = { host: addr.address, port: addr.port, url: `http://${urlHost(addr.address)}:${addr.port}/` };
  });

  function close(): Promise<void> {
    if (!server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        bound = undefined;
        resolve();
      });
      server.closeIdleConnections();
    });
  }

  return { server, close, address: () => bound };
}

/** GET / when the viewer is off: what this listener offers. */
function indexHandler(serviceName: string, receiveOtlp: boolean): Handler {
  return ({ res }) => {
    const lines = [
      `tracecar admin (${serviceName})`,
      '',
      '/healthz           process alive',
      '/readyz            listeners up, not draining',
      '/metrics           Prometheus metrics',
      '/config            effective configuration (YAML, secrets redacted)',
      '/api/traces        stored traces (JSON; filters as query parameters)',
      '/api/traces/:id    one trace',
      '/api/summary       latency per route, error patterns, dependencies',
      '/api/info          service name, receiver, store size',
      ...(receiveOtlp ? ['POST /v1/traces    OTLP/HTTP receiver (protobuf, JSON)'] : []),
      '',
      'The trace viewer is off (admin.viewer: false).',
    ];
    sendText(res, 200, lines.join('\n') + '\n');
  };
}
