/**
 * Finished Hops of many shapes, as the request path leaves them at span end: SERVER and CLIENT,
 * with and without parent, trace state, tail-kept, failed, unknown method, events with and without
 * attributes, links, stage attributes of every type (one replacing a base attribute), non-ASCII,
 * attributes long enough to need multi-byte length prefixes, and gRPC calls (shapes 12–14).
 */
import { Hop } from '../../src/telemetry/hop.js';
import { newSpanId, newTraceId } from '../../src/telemetry/ids.js';

/** A finished span as the request path leaves it; `shape` picks the variant. */
export function hopOfShape(shape: number): Hop {
  const start = 1_733_000_000_000 + shape * 1.234567 + 0.000321;
  const kind = shape % 3 === 1 ? 'client' : 'server';
  const h = new Hop(kind === 'client' ? 'egress' : 'ingress', kind, shape % 5 === 4 ? 'BREW' : 'GET', start);
  h.traceId = newTraceId();
  h.spanId = newSpanId();
  h.sampled = shape % 4 !== 3;
  h.random = shape % 2 === 0;
  if (!h.sampled) h.keptBy = 'error';
  if (shape % 3 !== 2) h.parentSpanId = newSpanId();
  if (shape % 4 === 1) h.traceState = 'vendor=abc,other=1';
  h.correlationId = `req-${shape}`;
  h.correlationSource = shape % 2 ? 'incoming' : 'generated';
  h.route = '/orders/:id';
  h.name = `${h.method} /orders/:id`;
  h.path = '/orders/42';
  h.query = shape % 2 ? 'x=1&token=[REDACTED]' : '';
  h.userAgent = shape === 5 ? 'naïve ☃ 𝄞 client \ud800' : 'curl/8.5.0';
  h.clientAddress = '10.0.0.7';
  h.peerAddress = '127.0.0.1';
  h.peerPort = 40_000 + shape;
  if (kind === 'client') {
    h.urlFull = `http://payments:8080/charge?n=${shape}`;
    h.serverAddress = 'payments';
    h.serverPort = 8080;
    h.peerService = shape % 2 ? 'payments' : undefined;
  }
  h.samplingRule = shape % 2 ? 'checkout' : '';
  h.samplingReason = 'ratio';
  h.status = shape % 6 === 5 ? 503 : 200;
  h.requestBytes = shape * 1000;
  h.responseBytes = shape === 7 ? 2 ** 40 : 512;
  h.event('upstream.connected', start + 0.2);
  h.event('upstream.first_byte', start + 1.1, shape % 2 ? { 'net.bytes': 3, 'tracecar.note': 'first' } : undefined);
  if (shape % 3 === 0) h.links.push({ traceId: newTraceId(), spanId: newSpanId(), attributes: { why: 'follows' } });
  if (shape % 3 === 1) h.links.push({ traceId: newTraceId(), spanId: newSpanId() });
  if (shape === 6) h.fail({ errorType: 'ECONNREFUSED', code: 'TRC_ERR_UPSTREAM_CONNECT', message: 'upstream refused the connection' });
  if (shape % 2 === 1) {
    h.set('tracecar.parent.source', 'w3c');
    h.set('tracecar.problems', ['a', 'b']);
    h.set('tracecar.ratio', 0.25);
    h.set('tracecar.flags', [true, false]);
    h.set('tracecar.weights', [0.5, 1.5]);
    h.set('tracecar.codes', [1, -2, 3]);
    h.set('tracecar.delta', -7);
  }
  // A stage's attribute that replaces one the span has anyway: it keeps its place, once.
  if (shape === 4) h.set('url.scheme', 'https');
  // Lengths past every one-byte and two-byte length prefix.
  if (shape === 8) h.set('tracecar.blob', 'x'.repeat(20_000));
  if (shape === 9) h.set('tracecar.medium', 'y'.repeat(150));
  // gRPC calls (shapes 12–14), in each naming of the rpc.* attributes, over TLS.
  if (shape >= 12) {
    h.scheme = 'https';
    h.httpVersion = '2';
    h.rpc = { service: 'shop.Orders', method: 'Get', full: 'shop.Orders/Get' };
    h.name = 'shop.Orders/Get';
    h.grpcStatus = shape === 13 ? 14 : 0; // UNAVAILABLE (an error) or OK
    h.grpcMessage = shape === 13 ? 'backend down' : undefined;
    h.rpcAttributes = (['current', 'legacy', 'both'] as const)[shape - 12]!;
  }
  h.endTime = start + 4.5 + shape;
  return h;
}

