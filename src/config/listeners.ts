import { parseListen, type ListenAddress } from './units.js';

/** tracecar's listeners; each binds its own default host when its `listen` names only a port. */
export type ListenerKind = 'ingress' | 'egress' | 'route' | 'admin';

/**
 * The host a bare port binds: ingress faces callers on every interface; the egress forward
 * proxy and named routes serve the app next to tracecar, and admin exposes traces and config,
 * so those stay on loopback unless the config names a host.
 */
export const DEFAULT_LISTEN_HOST: Readonly<Record<ListenerKind, string>> = Object.freeze({
  ingress: '0.0.0.0',
  egress: '127.0.0.1',
  route: '127.0.0.1',
  admin: '127.0.0.1',
});

/** Where a listener binds: the one rule both the listeners and the restart check use. */
export function listenAddress(kind: ListenerKind, listen: string): ListenAddress {
  return parseListen(listen, DEFAULT_LISTEN_HOST[kind]);
}
