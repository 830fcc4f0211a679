// A tiny uninstrumented demo service: no tracing code at all. It answers its own routes and,
// when DOWNSTREAM is set, calls the next service through tracecar's egress (HTTP_PROXY style:
// absolute-form request to the egress port) forwarding only x-request-id, like many real apps.
// A path containing /fail fails (500) at the last service of the chain, so the error crosses
// services: orders answers 502 when payments failed.
import { createServer, request } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const name = process.env.SERVICE ?? 'demo';
const downstream = process.env.DOWNSTREAM; // e.g. http://127.0.0.1:8082 (the next sidecar)
const egress = process.env.EGRESS_PROXY; // e.g. http://127.0.0.1:15001

function callDownstream(path, requestId) {
  return new Promise((resolve) => {
    const target = new URL(path, downstream);
    const via = egress ? new URL(egress) : target;
    const req = request(
      {
        host: via.hostname,
        port: via.port,
        method: 'GET',
        // Forward-proxy form when going through egress: the full URL is the request target.
        path: egress ? target.href : target.pathname + target.search,
        headers: { 'x-request-id': requestId ?? '', host: target.host },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', (err) => resolve({ status: 502, body: err.message }));
    req.end();
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const delay = Number(url.searchParams.get('delay') ?? Math.round(Math.random() * 30));
  await new Promise((r) => setTimeout(r, delay));
  const callsDownstream = Boolean(downstream) && !url.pathname.startsWith('/leaf');
  if (!callsDownstream && url.pathname.includes('/fail')) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`${name}: failing on purpose\n`);
    return;
  }
  let downstreamResult = null;
  if (callsDownstream) {
    downstreamResult = await callDownstream(`/leaf${url.pathname}`, req.headers['x-request-id']);
  }
  res.writeHead(downstreamResult && downstreamResult.status >= 500 ? 502 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ service: name, path: url.pathname, downstream: downstreamResult }) + '\n');
}).listen(port, '127.0.0.1', () => console.error(`${name} app on http://127.0.0.1:${port}`));

// In a container this process is PID 1, which gets no default action for SIGTERM: without a handler
// `docker stop` waits out its grace period and kills it (exit 137). Finish in-flight requests, exit 0.
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close(() => process.exit(0)));
