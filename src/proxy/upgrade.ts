/**
 * Requests node:http hands over as a bare socket (the `upgrade` and `connect` events): what they
 * are, how to answer one with a complete response, and how to serve an upgrade that is not a
 * WebSocket as the plain request it also is.
 */
import { ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A listener's `upgrade` / `connect` event handler. */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A WebSocket handshake (RFC 6455 §4.1): GET with `Upgrade: websocket`. Other upgrades (h2c) are not proxied as upgrades. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const up = req.headers.upgrade;
  return req.method === 'GET' && typeof up === 'string' && up.split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

/** A complete plain-text response written straight to a detached socket; the connection closes after it. */
export function writeRaw(socket: Duplex, status: number, body: string, headers: Record<string, string>): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.write(`${head}\r\n${body}`);
}

/**
 * An upgrade to something other than WebSocket (h2c, which HTTP/2-first clients such as Java's
 * HttpClient offer on every plain-http request): RFC 9110 §7.8 lets a server ignore Upgrade, so
 * it is served as the ordinary request it also is, on the normal request path, and the
 * connection closes after the response (node:http has already let go of the socket). The
 * listener's `shouldUpgradeCallback` can keep such requests off this path entirely.
 */
export function serveAsPlainRequest(req: IncomingMessage, socket: Duplex, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (!req.complete) {
    // A body after an upgrade request is no longer parsed by node:http: say so instead of guessing.
    writeRaw(socket, 501, 'tracecar: an Upgrade other than websocket on a request with a body is not supported; send it without Upgrade\n', {});
    socket.end();
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    (socket as Socket).destroySoon();
  });
  handle(req, res);
}
