/**
 * Where an HTTP/2 request (node's compatibility API) differs from an HTTP/1.1 one for a proxy:
 * the authority is `:authority` rather than Host, a reset is RST_STREAM on the stream rather than
 * a TCP RST on a socket other requests share, and a body's presence is known from END_STREAM on
 * the HEADERS frame rather than from Content-Length / Transfer-Encoding.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';

const { NGHTTP2_INTERNAL_ERROR } = constants;

export function isHttp2(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2;
}

/** Host, or :authority over HTTP/2 (RFC 9113 §8.3.1: a client sends :authority instead of Host). */
export function requestAuthority(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

/** Whether an HTTP/2 request has a body: its HEADERS frame did not end the stream. */
export function h2HasBody(req: IncomingMessage): boolean {
  return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
}

/**
 * Cut the exchange abruptly: HTTP/2 resets this stream only (RST_STREAM, INTERNAL_ERROR unless
 * `code` is given); HTTP/1.1 resets the connection (TCP RST), the only signal it has.
 */
export function resetClient(req: IncomingMessage, res: ServerResponse, code: number = NGHTTP2_INTERNAL_ERROR): void {
  if (isHttp2(req)) {
    const stream = (res as unknown as Http2ServerResponse).stream;
    if (!stream.closed && !stream.destroyed) stream.close(code);
    return;
  }
  req.socket.resetAndDestroy();
}

/** The RST_STREAM code an HTTP/2 client saw, or 0 (HTTP/1.1, or the stream ended normally). */
export function clientResetCode(req: IncomingMessage, res: ServerResponse): number {
  if (!isHttp2(req)) return 0;
  return (res as unknown as Http2ServerResponse).stream.rstCode ?? 0;
}
