// The app behind the proxies: answers every request with a small JSON body. Prints its port.
import { createServer } from 'node:http';

const body = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'bench upstream' });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
