/**
 * An answer tracecar gives a gRPC caller itself (an upstream failure, a deadline, a chaos abort):
 * a "Trailers-Only" response (PROTOCOL-HTTP2.md) — HTTP 200 and one HEADERS frame that carries
 * grpc-status and grpc-message and ends the stream — so the caller's gRPC library reports that
 * status instead of an HTTP error it can only map to UNKNOWN/UNAVAILABLE.
 */
import type { ServerResponse } from 'node:http';
import { encodeGrpcMessage } from '../grpc/index.js';

/** `extra` is a flat [name, value, ...] list of headers to add (correlation id, traceresponse, ...). */
export function writeGrpcTrailersOnly(res: ServerResponse, code: number, message: string, extra: readonly string[] = []): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/grpc');
  res.setHeader('grpc-status', String(code));
  if (message) res.setHeader('grpc-message', encodeGrpcMessage(message));
  for (let i = 0; i < extra.length; i += 2) res.appendHeader(extra[i], extra[i + 1]);
  // HTTP/2: end() before the head went out sends one HEADERS frame with END_STREAM.
  res.end();
}
