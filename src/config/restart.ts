import type { TracecarConfig } from './types.js';
import { formatListen } from './units.js';
import { listenAddress, type ListenerKind } from './listeners.js';

/**
 * Keys whose change cannot apply to a running process (listener addresses and the parts built
 * once at start: exporter, pools' connect timeout and HTTP/2 limits, the ingress listener's TLS,
 * admin, logger), as paths like
 * "ingress.listen" or `egress.routes["payments"].listen`. Routes are matched by name; an added or
 * removed route is reported as `egress.routes["name"]`. Everything else (targets, route targets,
 * sampling, chaos, propagation, routes, redaction, service name, log level) hot-reloads.
 */
export function restartRequired(prev: TracecarConfig, next: TracecarConfig): string[] {
  const changed: string[] = [];
  if (!sameListen(prev.ingress.listen, next.ingress.listen, 'ingress')) changed.push('ingress.listen');
  if (!sameListen(prev.egress.listen, next.egress.listen, 'egress')) changed.push('egress.listen');
  const before = new Map(prev.egress.routes.map((r) => [r.name, r]));
  const after = new Map(next.egress.routes.map((r) => [r.name, r]));
  for (const [name, route] of before) {
    const now = after.get(name);
    if (!now) changed.push(`egress.routes[${JSON.stringify(name)}]`);
    else if (!sameListen(route.listen, now.listen, 'route')) changed.push(`egress.routes[${JSON.stringify(name)}].listen`);
  }
  for (const name of after.keys()) if (!before.has(name)) changed.push(`egress.routes[${JSON.stringify(name)}]`);
  if (!sameListen(prev.admin.listen, next.admin.listen, 'admin')) changed.push('admin.listen');
  // Built once at start (exporter, connection pools, admin, logger): a change waits for a restart.
  for (const path of STARTUP_ONLY) {
    if (JSON.stringify(at(prev, path)) !== JSON.stringify(at(next, path))) changed.push(path);
  }
  return changed;
}

const STARTUP_ONLY = [
  'ingress.timeout.connect',
  // The ingress listener is TLS or not from the start; its files are then watched (proxy/tls-reload.ts).
  'ingress.tls',
  'http2',
  'egress.timeout.connect',
  'export.otlp',
  'export.console',
  'export.maxQueueSize',
  'export.maxExportBatchSize',
  'export.scheduledDelay',
  'export.retry',
  'admin.viewer',
  'admin.receiveOtlp',
  'admin.store',
] as const;

function at(config: TracecarConfig, path: string): unknown {
  let v: unknown = config;
  for (const key of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[key];
  return v;
}

function sameListen(a: string | null, b: string | null, kind: ListenerKind): boolean {
  if (a === null || b === null) return a === b;
  return canonical(a, kind) === canonical(b, kind);
}

/** The address the listener really binds (listenAddress), so "15001" and "127.0.0.1:15001" compare equal for egress. */
function canonical(listen: string, kind: ListenerKind): string {
  try {
    return formatListen(listenAddress(kind, listen));
  } catch {
    return listen;
  }
}
