// The undici reverse proxy behind the baseline row and the stock-SDK anchor rows: a node:http
// server → undici Agent dispatch → response streamed back, the same streaming shape as tracecar's
// exchange. `tracing` (optional) is called at request start, on the response head and at the end;
// the bare row passes none.
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { HOP } from './raw-http.mjs';

/**
 * @param {URL} target
 * @param {{ start(req: import('node:http').IncomingMessage, headers: string[]): T,
 *           dispatch?(state: T, run: () => void): void,
 *           response(state: T, status: number): void,
 *           end(state: T, err?: Error): void,
 *           skip?: Set<string> }} [tracing]
 * @template T
 */
export function createUndiciProxy(target, tracing) {
  const agent = new Agent({ keepAliveTimeout: 4_000 });
  const skip = tracing?.skip ?? HOP;
  return createServer((req, res) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!skip.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const state = tracing?.start(req, headers);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // A client that goes away mid-exchange aborts the upstream request (else a paused stream would
    // wait for a 'drain' that never comes, and its span would never end).
    let abort;
    res.once('close', () => {
      if (!res.writableFinished) abort?.(new Error('client closed the connection'));
    });
    const run = () =>
      agent.dispatch(
        { origin: target.origin, path: req.url, method: req.method, headers, body: hasBody ? req : null },
        {
          onConnect(abortRequest) {
            abort = abortRequest;
          },
          onHeaders(status, raw, resume, statusText) {
            const out = [];
            for (let i = 0; i < raw.length; i += 2) {
              const name = raw[i].toString('latin1');
              if (!HOP.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
            }
            tracing?.response(state, status);
            res.on('drain', resume);
            res.writeHead(status, statusText, out);
            return true;
          },
          onData(chunk) {
            return res.write(chunk);
          },
          onComplete() {
            res.end();
            tracing?.end(state);
          },
          onError(err) {
            if (!res.headersSent) res.writeHead(502);
            res.end(String(err.message));
            tracing?.end(state, err);
          },
        },
      );
    if (tracing?.dispatch) tracing.dispatch(state, run);
    else run();
  });
}

/** Listens on 127.0.0.1:0 and prints {"port":N} on stdout, the harness's ready signal. */
export function serve(server) {
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
}
