/**
 * The listeners' `upgrade` and `connect` events: WebSocket upgrades (ingress and egress) and
 * CONNECT tunnels (egress forward proxy), with one registry of the connections they keep open so
 * shutdown can drain them.
 *
 *   const upgrades = createUpgradeHandlers({ ...deps, doctor, exportSpan });
 *   ingress.on('upgrade', upgrades.ingress(ingressTarget));
 *   egress.on('upgrade', upgrades.egress(listener)).on('connect', upgrades.connect(listener));
 *   // close(): await upgrades.drain(shutdownTimeout) next to the in-flight wait
 */
import type { Runtime } from '../runtime.js';
import type { EgressListener, UpstreamTarget } from '../pipeline.js';
import { LiveConnections } from './splice.js';
import { createWebSocketProxy, isWebSocketUpgrade, type UpgradeDeps, type UpgradeListener } from './websocket.js';
import { createTunnelHandler } from './tunnel.js';

export type { UpgradeDeps, UpgradeListener } from './websocket.js';
export { isWebSocketUpgrade };

export interface UpgradeHandlers {
  /** `upgrade` on the ingress listener: WebSocket to the app. */
  ingress(target: (rt: Runtime) => UpstreamTarget): UpgradeListener;
  /** `upgrade` on an egress listener (forward proxy or named route). */
  egress(listener: EgressListener): UpgradeListener;
  /** `connect` on an egress listener (named routes answer 405). */
  connect(listener: EgressListener): UpgradeListener;
  /** Upgraded or tunnelled connections open now. */
  readonly open: number;
  /**
   * Waits for open connections to end by themselves, at most `graceMs`, then cuts the rest;
   * their spans are finished (marked cut by shutdown) before this resolves.
   */
  drain(graceMs: number): Promise<void>;
}

export function createUpgradeHandlers(deps: UpgradeDeps): UpgradeHandlers {
  const live = new LiveConnections();
  const ws = createWebSocketProxy(deps, live);
  const connect = createTunnelHandler(deps, live);
  return {
    ingress: ws.ingress,
    egress: ws.egress,
    connect,
    get open() {
      return live.size;
    },
    drain: (graceMs) => live.drain(graceMs),
  };
}
