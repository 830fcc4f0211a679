// Probe row (not a product, not in the default table): how much of the cost per request is
// node:http + undici rather than tracing. An HTTP/1.1 reverse proxy on raw sockets that does the
// quiet row's per-request tracing work — reads the caller's traceparent and x-request-id, makes
// ids, forwards the caller's headers minus hop-by-hop plus x-forwarded-*, traceparent and
// x-request-id, answers with x-request-id and traceresponse, and keeps a span record — but parses
// and writes HTTP itself. Only what the bench sends is handled: requests without a body,
// Content-Length responses, one upstream connection per caller connection, no pipelining.
// Usage: node bench/raw-probe-proxy.mjs TARGET_URL   (BENCH_ROWS=raw-probe npm run bench)
import { randomFillSync, randomUUID } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { HOP, HeadReader } from './lib/raw-http.mjs';

const target = new URL(process.argv[2]);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(16384);
let poolAt = pool.length;
function hexId(bytes) {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let s = '';
  for (let i = 0; i < bytes; i++) s += HEX[pool[poolAt++]];
  return s;
}
let date = new Date().toUTCString();
setInterval(() => (date = new Date().toUTCString()), 1000).unref();

/** What a span keeps, the same fields the quiet row's Hop fills in for this request. */
class Span {
  constructor(method, path, start) {
    this.method = method;
    this.path = path;
    this.start = start;
    this.traceId = '';
    this.spanId = '';
    this.parentSpanId = '';
    this.correlationId = '';
    this.userAgent = undefined;
    this.status = 0;
    this.end = 0;
  }
}

createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  const request = new HeadReader();
  let span;
  const response = new HeadReader();
  let bodyLeft = -1;
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  client.on('data', (chunk) => {
    const head = request.push(chunk);
    if (head === undefined) return;
    const { first, headers } = head;
    const sp1 = first.indexOf(' ');
    const sp2 = first.lastIndexOf(' ');
    span = new Span(first.slice(0, sp1), first.slice(sp1 + 1, sp2), performance.now());
    let out = `${first}\r\n`;
    let host = '';
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const lower = name.toLowerCase();
      if (HOP.has(lower)) continue;
      if (lower === 'traceparent') {
        const v = headers[i + 1];
        if (v.length === 55) {
          span.traceId = v.slice(3, 35);
          span.parentSpanId = v.slice(36, 52);
        }
        continue;
      }
      if (lower === 'x-request-id') {
        span.correlationId = headers[i + 1];
        continue;
      }
      if (lower === 'host') host = headers[i + 1];
      else if (lower === 'user-agent') span.userAgent = headers[i + 1];
      out += `${name}: ${headers[i + 1]}\r\n`;
    }
    if (span.traceId === '') span.traceId = hexId(16);
    span.spanId = hexId(8);
    if (span.correlationId === '') span.correlationId = randomUUID();
    out += `x-forwarded-for: ${client.remoteAddress}\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${host}\r\n`;
    out += `traceparent: 00-${span.traceId}-${span.spanId}-01\r\nx-request-id: ${span.correlationId}\r\n\r\n`;
    upstream.write(out, 'latin1');
  });
  upstream.on('data', (chunk) => {
    if (bodyLeft < 0) {
      const head = response.push(chunk);
      if (head === undefined) return;
      const { first, headers, rest } = head;
      span.status = Number(first.slice(9, 12));
      let out = `${first}\r\n`;
      for (let i = 0; i < headers.length; i += 2) {
        const lower = headers[i].toLowerCase();
        if (HOP.has(lower)) continue;
        if (lower === 'content-length') bodyLeft = Number(headers[i + 1]);
        out += `${headers[i]}: ${headers[i + 1]}\r\n`;
      }
      out += `x-request-id: ${span.correlationId}\r\ntraceresponse: 00-${span.traceId}-${span.spanId}-01\r\n`;
      out += `Date: ${date}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`;
      bodyLeft -= rest.length;
      client.cork();
      client.write(out, 'latin1');
      if (rest.length > 0) client.write(rest);
      client.uncork();
    } else {
      bodyLeft -= chunk.length;
      client.write(chunk);
    }
    if (bodyLeft === 0) {
      bodyLeft = -1;
      span.end = performance.now();
      span = undefined;
    }
  });
}).listen(0, '127.0.0.1', function () {
  console.log(JSON.stringify({ port: this.address().port }));
});
process.on('SIGTERM', () => process.exit(0));
