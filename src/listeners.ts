/**
 * tracecar's listeners: the proxy servers (ingress, the egress forward proxy, named routes) wired
 * to the pipeline's entry points, and ONE way to bind every listener, admin included: the same
 * default-host rule the restart check uses (config/listeners.ts), the same TRC_ERR_LISTEN error.
 */
import { createServer, type Server } from 'node:http';
import type { Agent } from 'undici';
import type { TracecarConfig } from './config/types.js';
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

/** One server to bind: which listener it is, where its config says to listen, what to say when it cannot. */
export interface Listener {
  kind: ListenerKind;
  /** Route name for kind "route"; the kind otherwise. */
  name: string;
  listen: string;
  server: Server;
}

/** node:http options of the proxy listeners. */
const PROXY_SERVER_OPTIONS = {
  // Uploads and downloads may stream for a long time: per-exchange limits live in timeout.idle.
  requestTimeout: 0,
  headersTimeout: 60_000,
  keepAliveTimeout: 5_000,
};

/** The proxy listeners of a config, each wired to its pipeline entry points (not yet bound). */
export function createProxyListeners(
  config: TracecarConfig,
  deps: PipelineDeps,
  ingressTarget: (rt: Runtime) => UpstreamTarget,
  egressAgent: Agent,
): Listener[] {
  const ingress = createServer(PROXY_SERVER_OPTIONS, (req, res) => handleIngress(deps, ingressTarget, req, res)).on('upgrade', (req, socket, head) =>
    handleIngressUpgrade(deps, ingressTarget, req, socket, head),
  );
  const egressServer = (listener: EgressListener): Server =>
    createServer(PROXY_SERVER_OPTIONS, (req, res) => handleEgress(deps, listener, req, res))
      .on('upgrade', (req, socket, head) => handleEgressUpgrade(deps, listener, req, socket, head))
      .on('connect', (req, socket, head) => handleConnect(deps, listener, req, socket, head));

  const listeners: Listener[] = [{ kind: 'ingress', name: 'ingress', listen: config.ingress.listen, server: ingress }];
  if (config.egress.listen !== null) {
    listeners.push({ kind: 'egress', name: 'egress', listen: config.egress.listen, server: egressServer({ dispatcher: egressAgent }) });
  }
  for (const r of config.egress.routes) {
    listeners.push({ kind: 'route', name: r.name, listen: r.listen, server: egressServer({ dispatcher: egressAgent, route: { name: r.name } }) });
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
