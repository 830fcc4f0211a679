// A finished ingress span as the proxy leaves it at span end — the bench's request shape (a GET
// with a query, a correlation id, two timing events) — for the scripts that cost span end alone
// (export-cost.mjs, store-add.mjs). Needs a build (dist/).
const { Hop } = await import('../../dist/telemetry/hop.js');
const { newSpanId, newTraceId } = await import('../../dist/telemetry/ids.js');

export const RESOURCE = { service: 'orders', resource: { 'service.name': 'orders', 'service.version': '1.4.2' } };

export function benchHop() {
  const start = performance.timeOrigin + performance.now();
  const h = new Hop('ingress', 'server', 'GET', start);
  h.traceId = newTraceId();
  h.spanId = newSpanId();
  h.sampled = true;
  h.correlationId = 'b6f5c1e2-0d7a-4f5e-9a51-3c1f0f6a9e10';
  h.correlationSource = 'generated';
  h.route = '/orders/:id';
  h.name = 'GET /orders/:id';
  h.path = '/orders/42';
  h.query = 'x=1';
  h.userAgent = 'tracecar-bench/1';
  h.clientAddress = '127.0.0.1';
  h.peerAddress = '127.0.0.1';
  h.peerPort = 40000;
  h.serverAddress = '127.0.0.1';
  h.serverPort = 8080;
  h.status = 200;
  h.responseBytes = 100;
  h.event('upstream.connected', start + 0.1);
  h.event('upstream.first_byte', start + 0.5);
  h.endTime = start + 0.9;
  return h;
}
