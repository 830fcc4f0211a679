// Probe row (not a product, not in the default table): the bare proxy's node:http server with the
// upstream side on raw sockets instead of undici, no tracing — with bench/raw-probe-proxy.mjs it
// splits the bare proxy's cost between node:http (server side) and undici (client side).
// Only what the bench sends is handled: requests without a body, Content-Length responses, one
// request at a time per upstream connection (a pool of idle ones).
// Usage: node bench/http-raw-upstream-probe.mjs TARGET_URL   (BENCH_ROWS=http-raw-upstream npm run bench)
import { createServer } from 'node:http';
import { connect } from 'node:net';

const target = new URL(process.argv[2]);
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const idle = [];

/** One upstream connection: parses one response at a time and hands it to `onResponse`. */
class Upstream {
  constructor() {
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.head = '';
    this.bodyLeft = -1;
    this.status = 0;
    this.headers = [];
    this.res = null;
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', () => this.res?.destroy());
  }

  onData(chunk) {
    let body = chunk;
    if (this.bodyLeft < 0) {
      this.head += chunk.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.head.slice(0, end).split('\r\n');
      const used = chunk.length - (this.head.length - end - 4);
      this.head = '';
      this.status = Number(lines[0].slice(9, 12));
      const out = [];
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':');
        const name = lines[i].slice(0, colon);
        const lower = name.toLowerCase();
        const value = lines[i].slice(colon + 1).trim();
        if (lower === 'content-length') this.bodyLeft = Number(value);
        if (!HOP.has(lower)) out.push(name, value);
      }
      this.res.writeHead(this.status, out);
      body = chunk.subarray(used);
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
