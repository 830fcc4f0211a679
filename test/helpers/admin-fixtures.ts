/**
 * SpanRecords shaped the way tracecar's proxy records them (SERVER spans on ingress, CLIENT spans on
 * egress, http.* semantic-convention attributes, tracecar.correlation_id), for admin tests.
 */
import { randomBytes } from 'node:crypto';
import type { SpanKindName, SpanRecord, SpanEvent, Attributes } from '../../src/telemetry/span.js';

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export interface SpanInit {
  traceId?: string;
  spanId?: string;
  parent?: SpanRecord;
  service?: string;
  kind?: SpanKindName;
  method?: string;
  route?: string;
  path?: string;
  status?: number;
  start?: number;
  durationMs?: number;
  correlationId?: string;
  errorType?: string;
  events?: SpanEvent[];
  attributes?: Attributes;
  /** Client spans: the peer called. */
  serverAddress?: string;
}

/** A span as the proxy would record it. Status 0 = no response (error). */
export function proxySpan(init: SpanInit = {}): SpanRecord {
  const kind = init.kind ?? 'server';
  const method = init.method ?? 'GET';
  const route = init.route ?? '/orders/:id';
  const status = init.status ?? 200;
  const start = init.start ?? Date.now() - 1000;
  const duration = init.durationMs ?? 12.5;
  const error = status === 0 || (kind === 'server' ? status >= 500 : status >= 400);
  const attributes: Attributes = {
    'http.request.method': method,
    'url.path': init.path ?? route.replace(':id', '42'),
    'http.route': route,
    ...(status ? { 'http.response.status_code': status } : {}),
    ...(init.correlationId ? { 'tracecar.correlation_id': init.correlationId } : {}),
    ...(init.errorType ? { 'error.type': init.errorType } : error && status ? { 'error.type': String(status) } : {}),
    ...(init.serverAddress ? { 'server.address': init.serverAddress, 'server.port': 8080 } : {}),
    ...init.attributes,
  };
  return {
    traceId: init.traceId ?? init.parent?.traceId ?? hex(16),
    spanId: init.spanId ?? hex(8),
    parentSpanId: init.parent?.spanId,
    traceFlags: 1,
    name: `${method} ${route}`,
    kind,
    startTime: start,
    endTime: start + duration,
    attributes,
    events: init.events ?? [],
    links: [],
    status: error ? { code: 'error', ...(init.errorType ? { message: init.errorType } : {}) } : { code: 'unset' },
    service: init.service ?? 'orders',
    resource: { 'service.version': '1.4.2' },
    scope: 'tracecar',
    sampled: true,
  };
}

/**
 * One request across a small topology: frontend (SERVER, CLIENT) → orders (SERVER, CLIENT) →
 * payments (SERVER), plus a CLIENT call from orders to an external "inventory" host.
 * `fail` makes payments answer 503 after a chaos delay, and the failure propagate up.
 */
export function topologyTrace(opts: { start?: number; fail?: boolean; correlationId?: string; slow?: number } = {}): SpanRecord[] {
  const start = opts.start ?? Date.now() - 2000;
  const cid = opts.correlationId ?? `req-${hex(4)}`;
  const fail = opts.fail ?? false;
  const slow = opts.slow ?? 0;
  const s1 = proxySpan({ service: 'frontend', route: '/checkout', method: 'POST', path: '/checkout', start, durationMs: 120 + slow, status: fail ? 502 : 200, correlationId: cid });
  const c1 = proxySpan({ parent: s1, service: 'frontend', kind: 'client', route: '/orders/:id', start: start + 4, durationMs: 100 + slow, status: fail ? 503 : 200, correlationId: cid, serverAddress: 'orders' });
  const s2 = proxySpan({ parent: c1, service: 'orders', route: '/orders/:id', start: start + 6, durationMs: 95 + slow, status: fail ? 503 : 200, correlationId: cid });
  const c2 = proxySpan({ parent: s2, service: 'orders', kind: 'client', route: '/inventory/:id', start: start + 8, durationMs: 15, status: 200, correlationId: cid, serverAddress: 'inventory.internal' });
  const c3 = proxySpan({ parent: s2, service: 'orders', kind: 'client', method: 'POST', route: '/payments', start: start + 26, durationMs: 70 + slow, status: fail ? 503 : 200, correlationId: cid, serverAddress: 'payments' });
  const chaos: SpanEvent[] = fail
    ? [
        { name: 'tracecar.chaos.delay', time: start + 29, attributes: { 'tracecar.chaos.kind': 'delay', 'tracecar.chaos.delay_ms': 40 } },
        { name: 'tracecar.chaos.abort', time: start + 69, attributes: { 'tracecar.chaos.kind': 'abort', 'tracecar.chaos.status': 503 } },
      ]
    : [];
  const s3 = proxySpan({
    parent: c3,
    service: 'payments',
    method: 'POST',
    route: '/payments',
    start: start + 28,
    durationMs: 66 + slow,
    status: fail ? 503 : 200,
    correlationId: cid,
    errorType: fail ? 'TRC_ERR_CHAOS_ABORT' : undefined,
    events: chaos,
  });
  return [s1, c1, s2, c2, c3, s3];
}
