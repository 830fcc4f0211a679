/**
 * Real HTTP/2 peers for tests: node:http2 upstreams (h2c, or h2 over TLS) that record what they
 * saw, and a client that makes one request on a session and returns everything about the answer.
 */
import {
  connect,
  constants,
  createSecureServer,
  createServer,
  type ClientHttp2Session,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

export interface SeenStream {
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  /** Index of the session (connection) it arrived on, in arrival order. */
  session: number;
  /** RST_STREAM code when the stream closed (0 = normal). */
  rstCode?: number;
}

export interface H2Upstream {
  port: number;
  /** h2c://127.0.0.1:PORT or https://localhost:PORT */
  url: string;
  server: Http2Server | Http2SecureServer;
  streams: SeenStream[];
  /** Server sessions in the order they connected. */
  sessions: ServerHttp2Session[];
  close(): Promise<void>;
}

export type H2Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, seen: SeenStream) => void;

/**
 * An HTTP/2 app. The default handler waits for the request body, then answers 200 with a JSON
 * echo of the headers and `x-trailer: done` as a trailer. With `raw`, `handler` gets the stream at
 * once (body still flowing).
 */
export async function startH2Upstream(handler?: H2Handler, options: { tls?: SecureContextOptions & { allowHTTP1?: boolean; requestCert?: boolean }; raw?: boolean } = {}): Promise<H2Upstream> {
  const streams: SeenStream[] = [];
  const sessions: ServerHttp2Session[] = [];
  const server = options.tls ? createSecureServer({ ...options.tls }) : createServer();
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const seen: SeenStream = { headers, body: Buffer.alloc(0), trailers: undefined, session: sessions.indexOf(stream.session as ServerHttp2Session) };
    streams.push(seen);
    stream.once('close', () => (seen.rstCode = stream.rstCode));
    stream.on('trailers', (t) => (seen.trailers = t));
    if (options.raw && handler) return handler(stream, headers, seen);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      seen.body = Buffer.concat(chunks);
      if (handler) return handler(stream, headers, seen);
      if (stream.closed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
      stream.end(JSON.stringify({ headers, bodyLength: seen.body.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: options.tls ? `https://localhost:${port}` : `h2c://127.0.0.1:${port}`,
    server,
    streams,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** HEADERS frame flags of the response (END_STREAM = 0x1 for Trailers-Only). */
  flags: number;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  /** RST_STREAM code the stream closed with (0 = clean). */
  rstCode: number;
  /** The stream ended cleanly ('end' seen). */
  ended: boolean;
  error?: Error;
}

/** One request on `session` (or a new h2c session to `url`, closed afterwards). */
export async function h2Request(
  target: string | ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer | Array<string | Buffer>,
  options: { trailers?: OutgoingHttpHeaders } = {},
): Promise<H2Answer> {
  const session = typeof target === 'string' ? connect(target) : target;
  session.on('error', () => {});
  try {
    return await new Promise<H2Answer>((resolve) => {
      const hasBody = body !== undefined;
      const stream = session.request({ ':method': hasBody ? 'POST' : 'GET', ...headers }, { endStream: !hasBody, waitForTrailers: options.trailers !== undefined });
      const answer: H2Answer = { status: 0, headers: {}, flags: 0, body: Buffer.alloc(0), trailers: undefined, rstCode: 0, ended: false };
      const chunks: Buffer[] = [];
      stream.on('response', (h, flags) => {
        answer.status = Number(h[':status']);
        answer.headers = h;
        answer.flags = flags;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('trailers', (t) => (answer.trailers = t));
      stream.on('end', () => (answer.ended = true));
      stream.on('error', (err) => (answer.error = err));
      stream.on('close', () => {
        answer.body = Buffer.concat(chunks);
        answer.rstCode = stream.rstCode ?? 0;
        resolve(answer);
      });
      if (options.trailers) stream.once('wantTrailers', () => stream.sendTrailers(options.trailers!));
      if (hasBody) {
        for (const part of Array.isArray(body) ? body : [body]) stream.write(part);
        stream.end();
      }
    });
  } finally {
    if (typeof target === 'string') session.close();
  }
}

export const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = constants;
