// The app behind the proxies: a minimal HTTP/1.1 server on raw sockets that answers every request
// with the same 100-byte JSON body. Raw rather than node:http so the load core (shared with the load
// generator and the OTLP sink) is not the bottleneck: the proxy under test must be.
//
// It also counts what the proxies forwarded, for the harness: `requests` answered, and `sampled`,
// the requests whose W3C traceparent carried the sampled flag — the exact number of spans a
// proxy at any sampling ratio owes the sink.
// IPC (when forked): sends {port} once bound; answers {type:'count'} with {requests, sampled}.
// Without IPC it prints {"port":N} on stdout. Bodies: content-length only (the bench sends GETs).
import { createServer } from 'node:net';
import { serveForHarness } from './lib/upstream-ipc.mjs';

const BODY = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'bench upstream, a 100-byte body' }).padEnd(100, ' ');
const RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\nkeep-alive: timeout=10\r\n\r\n${BODY}`,
  'latin1',
);
const TRACEPARENT = /\r\ntraceparent:[ \t]*[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-([0-9a-f]{2})/i;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CLOSE = /\r\nconnection:[ \t]*close/i;

let requests = 0;
let sampled = 0;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = '';
  let bodyLeft = 0;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    let data = chunk.toString('latin1');
    let answers = 0;
    let close = false;
    while (data.length > 0) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, data.length);
        bodyLeft -= n;
        data = data.slice(n);
        continue;
      }
      pending += data;
      data = '';
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = pending.slice(0, end + 2);
      data = pending.slice(end + 4);
      pending = '';
      const tp = TRACEPARENT.exec(head);
      if (tp && (parseInt(tp[1], 16) & 1) === 1) sampled++;
      const cl = CONTENT_LENGTH.exec(head);
      if (cl) bodyLeft = Number(cl[1]);
      if (CLOSE.test(head)) close = true;
      requests++;
      answers++;
    }
    if (answers === 1) socket.write(RESPONSE);
    else if (answers > 1) socket.write(Buffer.concat(Array(answers).fill(RESPONSE)));
    if (close) socket.end();
  });
});

serveForHarness(server, () => ({ requests, sampled }));
