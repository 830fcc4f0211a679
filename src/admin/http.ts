/** Small helpers shared by the admin handlers: answers, bodies, errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters, e.g. { id } for /api/traces/:id. */
  params: Record<string, string>;
}

export type Handler = (ctx: HandlerContext) => void | Promise<void>;

/** An answer with a status other than 200, thrown by a handler and rendered by the server. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const NO_STORE = { 'cache-control': 'no-store' };

export function sendText(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...NO_STORE, 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(value), 'application/json; charset=utf-8', headers);
}

export function sendBytes(res: ServerResponse, status: number, body: Uint8Array, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...NO_STORE, 'content-type': contentType, 'content-length': body.byteLength, ...headers });
  res.end(body);
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Reads a request body of at most `limit` bytes (after decompression for gzip/deflate).
 * Over the limit → HttpError 413; an unknown Content-Encoding → 415.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const declared = Number(req.headers['content-length']);
    if (encoding === 'identity' && Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body of ${declared} bytes is over the ${limit} byte limit`, { connection: 'close' }));
      req.resume();
      return;
    }
    let source: NodeJS.ReadableStream = req;
    let decoder: Transform | undefined;
    if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
    else if (encoding === 'deflate') decoder = createInflate();
    else if (encoding !== 'identity') {
      reject(new HttpError(415, `unsupported Content-Encoding "${encoding}" (use gzip or none)`));
      req.resume();
      return;
    }
    if (decoder) source = req.pipe(decoder);

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      reject(err);
    };
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        fail(new HttpError(413, `request body is over the ${limit} byte limit`, { connection: 'close' }));
        if (decoder) req.unpipe(decoder);
        decoder?.destroy();
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    source.on('error', (err: Error) => fail(decoder ? new HttpError(400, `cannot decompress body: ${err.message}`) : err));
    req.on('close', () => {
      if (!req.complete) fail(new Error('request aborted'));
    });
  });
}
