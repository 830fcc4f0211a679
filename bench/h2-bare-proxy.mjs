// Baseline of the HTTP/2 rows: a bare node:http2 reverse proxy, no tracing. h2c in front (prior
// knowledge), one h2c session to the upstream multiplexing every stream, headers copied minus
// pseudo-headers, bodies piped both ways (the bench app sends no trailers). The same transport tracecar uses
// for h2c targets, so the ratio of the h2 row to this one is what tracing costs over HTTP/2.
// Usage: node bench/h2-bare-proxy.mjs http://HOST:PORT
import { connect, createServer } from 'node:http2';

const target = process.argv[2];
let session;
function upstream() {
  if (!session || session.closed || session.destroyed) {
    session = connect(target, { peerMaxConcurrentStreams: 1000 });
    session.on('error', () => {});
  }
  return session;
}

const server = createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('session', (s) => s.on('error', () => {}));
server.on('stream', (stream, headers, flags) => {
  stream.on('error', () => {});
  const out = {};
  for (const name in headers) if (name.charCodeAt(0) !== 58) out[name] = headers[name];
  out[':method'] = headers[':method'];
  out[':path'] = headers[':path'];
  const endStream = (flags & 1) === 1;
  const up = upstream().request(out, { endStream });
  up.on('error', () => stream.close(2));
  up.on('response', (h) => {
    const res = {};
    for (const name in h) if (name.charCodeAt(0) !== 58) res[name] = h[name];
    res[':status'] = h[':status'];
    stream.respond(res);
    up.pipe(stream);
  });
  stream.on('close', () => {
    if (!up.closed) up.close(8);
  });
  if (!endStream) stream.pipe(up);
});

server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
