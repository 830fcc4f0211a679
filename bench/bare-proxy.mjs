// The baseline: a bare undici reverse proxy with the same streaming shape as tracecar's exchange
// (node:http server → undici Agent dispatch → stream back), no tracing. Prints its port on stdout.
import { createServer } from 'node:http';
import { Agent } from 'undici';

const target = new URL(process.argv[2]);
const agent = new Agent({ keepAliveTimeout: 4_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const server = createServer((req, res) => {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  agent.dispatch(
    { origin: target.origin, path: req.url, method: req.method, headers, body: hasBody ? req : null },
    {
      onConnect() {},
      onHeaders(status, raw, resume, statusText) {
        const out = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1');
          if (!HOP.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
        }
        res.on('drain', resume);
        res.writeHead(status, statusText, out);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
      onError(err) {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err.message));
      },
    },
  );
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
