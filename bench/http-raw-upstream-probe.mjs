// Probe row (not a product, not in the default table): the bare proxy's node:http server with the
// upstream side on raw sockets instead of undici, no tracing — with bench/raw-probe-proxy.mjs it
// splits the bare proxy's cost between node:http (server side) and undici (client side).
// Only what the bench sends is handled: requests without a body, Content-Length responses, one
// request at a time per upstream connection (a pool of idle ones).
// Usage: node bench/http-raw-upstream-probe.mjs TARGET_URL   (BENCH_ROWS=http-raw-upstream npm run bench)
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { HOP, HeadReader } from './lib/raw-http.mjs';

const target = new URL(process.argv[2]);
/** Upstream connections between requests. */
const idle = [];

/** One upstream connection: reads one response at a time into the node:http response `res`. */
class Upstream {
  constructor() {
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.head = new HeadReader();
    this.bodyLeft = -1;
    this.res = null;
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', () => this.res?.destroy());
    // A connection the upstream closed is never handed out again.
    this.socket.on('close', () => {
      const at = idle.indexOf(this);
      if (at >= 0) idle.splice(at, 1);
    });
  }

  onData(chunk) {
    let body = chunk;
    if (this.bodyLeft < 0) {
      const head = this.head.push(chunk);
      if (head === undefined) return;
      const out = [];
      for (let i = 0; i < head.headers.length; i += 2) {
        const lower = head.headers[i].toLowerCase();
        if (lower === 'content-length') this.bodyLeft = Number(head.headers[i + 1]);
        if (!HOP.has(lower)) out.push(head.headers[i], head.headers[i + 1]);
      }
      this.res.writeHead(Number(head.first.slice(9, 12)), out);
      body = head.rest;
    }
    this.bodyLeft -= body.length;
    if (this.bodyLeft === 0) {
      const res = this.res;
      this.res = null;
      this.bodyLeft = -1;
      idle.push(this);
      res.end(body);
    } else if (body.length > 0) this.res.write(body);
  }
}

createServer((req, res) => {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  const up = idle.pop() ?? new Upstream();
  up.res = res;
  up.socket.write(`${head}connection: keep-alive\r\n\r\n`, 'latin1');
}).listen(0, '127.0.0.1', function () {
  console.log(JSON.stringify({ port: this.address().port }));
});
process.on('SIGTERM', () => process.exit(0));
