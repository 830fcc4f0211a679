/**
 * tracecar's listeners: the proxy servers (ingress, the egress forward proxy, named routes) wired
 * to the pipeline's entry points, and ONE way to bind every listener, admin included: the same
 * default-host rule the restart check uses (config/listeners.ts), the same TRC_ERR_LISTEN error.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TracecarConfig } from './config/types.js';
import { loadListenerTls } from './config/tls.js';
import { listenAddress, type ListenerKind } from './config/listeners.js';
import type { Runtime } from './runtime.js';
import {
  handleConnect,
  handleEgress,
  handleEgressUpgrade,
  handleIngress,
  handleIngressUpgrade,
  type EgressListener,
  type PipelineDeps,
  type UpstreamTarget,
} from './pipeline.js';
import { listenOn, type BoundAddress } from './proxy/listen.js';
import { createProtocolListener, type AnyRequest, type AnyResponse, type ProtocolListener } from './proxy/protocol-listener.js';
import { watchListenerTls, type TlsReloader } from './proxy/tls-reload.js';
import type { UpstreamClients } from './proxy/upstreams.js';
import type { Logger } from './log.js';

/** One server to bind: which listener it is, where its config says to listen, what to say when it cannot. */
export interface Listener {
  kind: ListenerKind;
  /** Route name for kind "route"; the kind otherwise. */
  name: string;
  listen: string;
  server: Server;
  /** Proxy listeners: the HTTP/1.1 + HTTP/2 front of `server` (sessions, GOAWAY on close). */
  proxy?: ProtocolListener;
  /** Listeners serving TLS: the certificate watcher. */
  tls?: TlsReloader;
}

/** node:http options of the proxy listeners. */
const PROXY_SERVER_OPTIONS = {
  // Uploads and downloads may stream for a long time: per-exchange limits live in timeout.idle.
  requestTimeout: 0,
  headersTimeout: 60_000,
  keepAliveTimeout: 5_000,
};

/**
 * HTTP/2 requests reach the pipeline through node's compatibility API, which implements the
 * IncomingMessage / ServerResponse members the pipeline uses; where the protocols differ (no
 * status text, no connection-specific headers, streams reset instead of sockets) the request path
 * asks isHttp2 (proxy/h2-request.ts).
 */
const asHttp1 = (handler: (req: IncomingMessage, res: ServerResponse) => void) => (req: AnyRequest, res: AnyResponse) =>
  handler(req as IncomingMessage, res as ServerResponse);

/** The proxy listeners of a config, each wired to its pipeline entry points (not yet bound). Throws TRC_ERR_TLS for unusable ingress TLS files. */
export function createProxyListeners(
  config: TracecarConfig,
  deps: PipelineDeps,
  ingressTarget: (rt: Runtime) => UpstreamTarget,
  egress: UpstreamClients,
  logger: Logger,
): Listener[] {
  const http2 = {
    maxConcurrentStreams: config.http2.maxConcurrentStreams,
    idleTimeout: config.http2.idleTimeout,
    prefaceTimeout: PROXY_SERVER_OPTIONS.headersTimeout,
  };
  const ingressTls = config.ingress.tls ? loadListenerTls('ingress.tls', config.ingress.tls) : undefined;
  const ingress = createProtocolListener({ http1: PROXY_SERVER_OPTIONS, http2, tls: ingressTls });
  const onIngress = (req: IncomingMessage, res: ServerResponse): void => handleIngress(deps, ingressTarget, req, res);
  ingress.server.on('request', onIngress).on('upgrade', (req, socket, head) => handleIngressUpgrade(deps, ingressTarget, req, socket, head));
  ingress.http2.on('request', asHttp1(onIngress));
  let tls: TlsReloader | undefined;
  if (config.ingress.tls && ingressTls) {
    tls = watchListenerTls({
      where: 'ingress.tls',
      files: config.ingress.tls,
      initial: ingressTls,
      apply: (m) => ingress.setCertificate(m),
      report: (err, m) =>
        err ? logger.warn({ err: (err as Error).message }, 'ingress TLS files not reloaded; serving the last good certificate') : logger.info({ notAfter: m?.notAfter }, 'ingress TLS certificate reloaded'),
    });
  }

  const egressListener = (listener: EgressListener): ProtocolListener => {
    const p = createProtocolListener({ http1: PROXY_SERVER_OPTIONS, http2 });
    const onEgress = (req: IncomingMessage, res: ServerResponse): void => handleEgress(deps, listener, req, res);
    p.server
      .on('request', onEgress)
      .on('upgrade', (req, socket, head) => handleEgressUpgrade(deps, listener, req, socket, head))
      .on('connect', (req, socket, head) => handleConnect(deps, listener, req, socket, head));
    // CONNECT over HTTP/2 (RFC 9113 §8.5) is not a tunnel here: node's compatibility layer answers 405.
    p.http2.on('request', asHttp1(onEgress));
    return p;
  };

  const listeners: Listener[] = [{ kind: 'ingress', name: 'ingress', listen: config.ingress.listen, server: ingress.server, proxy: ingress, tls }];
  if (config.egress.listen !== null) {
    const p = egressListener({ dispatcher: egress.agent });
    listeners.push({ kind: 'egress', name: 'egress', listen: config.egress.listen, server: p.server, proxy: p });
  }
  for (const r of config.egress.routes) {
    const p = egressListener({ dispatcher: egress.agent, route: { name: r.name }, clients: egress });
    listeners.push({ kind: 'route', name: r.name, listen: r.listen, server: p.server, proxy: p });
  }
  return listeners;
}

const HINTS: Record<ListenerKind, (name: string) => string> = {
  ingress: () => 'choose another port with --port, or stop what is using it',
  egress: () => 'choose another port with --egress-port',
  route: (name) => `change the listen port of route "${name}"`,
  admin: () => 'choose another --admin-port (0 picks a free one), or --no-admin',
};

const LABELS: Record<ListenerKind, (name: string) => string> = {
  ingress: () => 'ingress',
  egress: () => 'egress',
  route: (name) => `egress route "${name}"`,
  admin: () => 'admin',
};

/**
 * Binds every listener in order. A failure rejects with TRC_ERR_LISTEN naming the listener, its
 * address and a hint, after closing the ones already bound.
 */
export async function bindListeners(listeners: readonly Listener[]): Promise<BoundAddress[]> {
  const bound: BoundAddress[] = [];
  try {
    for (const l of listeners) {
      const at = listenAddress(l.kind, l.listen);
      bound.push(await listenOn(l.server, LABELS[l.kind](l.name), at.host, at.port, HINTS[l.kind](l.name)));
    }
  } catch (err) {
    for (const l of listeners) if (l.server.listening) l.server.close();
    throw err;
  }
  return bound;
}
