/**
 * tracecar's listeners: the proxy servers (ingress, the egress forward proxy, named routes) wired
 * to the pipeline's entry points behind the client limits (proxy/limits.ts), and ONE way to bind
 * every listener, admin included: the same default-host rule the restart check uses
 * (config/listeners.ts), the same TRC_ERR_LISTEN error.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LimitsConfig, TracecarConfig } from './config/types.js';
import type { ErrorCode } from './errors.js';
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
import { answerClientError, applyLimits, checkRequest, listenerServerOptions, pipelinedAfterRefusal, refuse, refuseOnSocket } from './proxy/limits.js';
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

/** What the listeners report about requests and connections they refuse before the pipeline. */
export interface ListenerEvents {
  /** A request refused at the door (limits, malformed framing, timeouts), by side and code. */
  rejected(side: 'ingress' | 'egress', code: ErrorCode): void;
  /** A connection closed on accept because limits.maxConnections was reached. */
  dropped(side: 'ingress' | 'egress'): void;
}

/** A proxy listener's entry points into the pipeline. */
interface EntryPoints {
  request: (req: IncomingMessage, res: ServerResponse) => void;
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  connect?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * Wires a protocol listener to its entry points behind the client limits of the current config
 * version: a request (either protocol) passes checkRequest first; what node:http itself refuses
 * (parse errors, head and request timeouts) is answered by answerClientError; node:http carries
 * the limits it counts itself (applyLimits, again on every reload).
 */
function guard(p: ProtocolListener, side: 'ingress' | 'egress', deps: PipelineDeps, events: ListenerEvents, limits: LimitsConfig, entry: EntryPoints): void {
  const refused = (req: IncomingMessage): ReturnType<typeof checkRequest> => {
    const f = checkRequest(req, deps.runtime().config.limits);
    if (f) events.rejected(side, f.code);
    return f;
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // Pipelined behind a refused request: the connection closes after that answer; nothing more is read.
    if (pipelinedAfterRefusal(req)) return;
    const f = refused(req);
    if (f) refuse(req, res, f);
    else entry.request(req, res);
  };
  p.server.on('request', onRequest);
  p.http2.on('request', asHttp1(onRequest));
  p.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pipelinedAfterRefusal(req)) return void socket.destroy();
    const f = refused(req);
    if (f) refuseOnSocket(socket, f);
    else entry.upgrade(req, socket, head);
  });
  const connect = entry.connect;
  if (connect) {
    p.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (pipelinedAfterRefusal(req)) return void socket.destroy();
      const f = refused(req);
      if (f) refuseOnSocket(socket, f);
      else connect(req, socket, head);
    });
  }
  p.server.on('clientError', (err: Error, socket: Duplex) => {
    const f = answerClientError(err, socket, deps.runtime().config.limits);
    if (f) events.rejected(side, f.code);
  });
  p.server.on('drop', () => events.dropped(side));
  applyLimits(p.server, limits);
}

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
  events: ListenerEvents,
): Listener[] {
  const http2 = {
    maxConcurrentStreams: config.http2.maxConcurrentStreams,
    idleTimeout: config.http2.idleTimeout,
    // A connection must show its protocol within the head deadline (as of start: not reloaded).
    prefaceTimeout: config.limits.headersTimeout,
  };
  const http1 = listenerServerOptions(config.limits);
  const ingressTls = config.ingress.tls ? loadListenerTls('ingress.tls', config.ingress.tls) : undefined;
  const ingress = createProtocolListener({ http1, http2, tls: ingressTls });
  guard(ingress, 'ingress', deps, events, config.limits, {
    request: (req, res) => handleIngress(deps, ingressTarget, req, res),
    upgrade: (req, socket, head) => handleIngressUpgrade(deps, ingressTarget, req, socket, head),
  });
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
    const p = createProtocolListener({ http1, http2 });
    // CONNECT over HTTP/2 (RFC 9113 §8.5) is not a tunnel here: node's compatibility layer answers 405.
    guard(p, 'egress', deps, events, config.limits, {
      request: (req, res) => handleEgress(deps, listener, req, res),
      upgrade: (req, socket, head) => handleEgressUpgrade(deps, listener, req, socket, head),
      connect: (req, socket, head) => handleConnect(deps, listener, req, socket, head),
    });
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

/** A reload's limits, applied to every proxy listener (timeouts at once, header bytes for new connections). */
export function applyListenerLimits(listeners: readonly Listener[], limits: LimitsConfig): void {
  for (const l of listeners) if (l.proxy) applyLimits(l.server, limits);
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
