/**
 * POST /v1/traces: an OTLP/HTTP trace receiver, so other sidecars and instrumented apps can send
 * their spans to this viewer. application/x-protobuf and application/json (OTLP/JSON) bodies,
 * gzip or plain; the answer is an ExportTraceServiceResponse in the request's encoding, with
 * partial_success when spans were rejected. Errors carry a google.rpc.Status body.
 */
import { HttpError, mediaType, readBody, sendBytes, sendText, type Handler } from '../http.js';
import type { Metrics } from '../metrics.js';
import type { TraceStore } from '../../telemetry/store.js';
import type { AdminLogger } from '../server.js';

const CONTENT_TYPES = { protobuf: 'application/x-protobuf', json: 'application/json' } as const;
/** gRPC INVALID_ARGUMENT, used in the Status body of a 400. */
const INVALID_ARGUMENT = 3;

type Codec = typeof import('../otlp/decode.js');

export function otlpHandler(deps: { store: TraceStore; metrics: Metrics; maxBodyBytes: number; logger?: AdminLogger }): Handler {
  // protobufjs and the OTLP descriptor are loaded by the first request, not by every start.
  let codec: Promise<Codec> | undefined;
  return async ({ req, res }) => {
    const type = mediaType(req.headers['content-type']);
    const encoding = type === CONTENT_TYPES.protobuf ? 'protobuf' : type === CONTENT_TYPES.json ? 'json' : undefined;
    if (!encoding) {
      req.resume();
      throw new HttpError(415, `unsupported Content-Type "${type || '(none)'}": send application/x-protobuf or application/json`);
    }
    const { OtlpDecodeError, decodeOtlpJson, decodeOtlpProtobuf, encodeOtlpResponse, encodeRpcStatus } = await (codec ??= import('../otlp/decode.js'));
    const reply = (status: number, body: Uint8Array | string, headers: Record<string, string> = {}): void => {
      if (typeof body === 'string') sendText(res, status, body, 'application/json', headers);
      else sendBytes(res, status, body, CONTENT_TYPES.protobuf, headers);
    };

    let body: Buffer;
    try {
      body = await readBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof HttpError) {
        reply(err.status, encodeRpcStatus(encoding, INVALID_ARGUMENT, err.message), err.headers);
        return;
      }
      throw err;
    }

    let decoded;
    try {
      decoded = encoding === 'protobuf' ? decodeOtlpProtobuf(body) : decodeOtlpJson(body);
    } catch (err) {
      if (err instanceof OtlpDecodeError) {
        deps.logger?.warn({ err: err.message, remote: req.socket.remoteAddress }, 'OTLP/HTTP request rejected');
        reply(400, encodeRpcStatus(encoding, INVALID_ARGUMENT, err.message));
        return;
      }
      throw err;
    }
    for (const span of decoded.spans) deps.store.add(span);
    deps.metrics.otlpReceived(encoding, decoded.spans.length, decoded.rejected);
    reply(200, encodeOtlpResponse(encoding, decoded));
  };
}
