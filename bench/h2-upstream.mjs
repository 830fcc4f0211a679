// The app behind the HTTP/2 rows: an h2c server (node:http2, prior knowledge) answering every
// stream with the same 100-byte JSON body as bench/upstream.mjs, and counting the requests and
// the sampled traceparents it saw, for the harness (same IPC: {port} once bound, then
// {type:'count'} → {requests, sampled}).
import { createServer } from 'node:http2';
import { serveForHarness } from './lib/upstream-ipc.mjs';

const BODY = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'bench upstream, a 100-byte body' }).padEnd(100, ' ');
const HEADERS = { ':status': 200, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)) };

let requests = 0;
let sampled = 0;

const server = createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('session', (s) => s.on('error', () => {}));
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const tp = headers.traceparent;
  if (typeof tp === 'string' && tp.length === 55 && (parseInt(tp.slice(53), 16) & 1) === 1) sampled++;
  requests++;
  stream.respond(HEADERS);
  stream.end(BODY);
});

serveForHarness(server, () => ({ requests, sampled }));
