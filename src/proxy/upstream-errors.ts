import { statusForCode, type ErrorCode } from '../errors.js';

/** How a failed upstream exchange is reported: the status the caller gets and why. */
export interface UpstreamFailure {
  code: ErrorCode;
  /** HTTP status sent to the caller when headers have not gone out yet. */
  status: number;
  /** Short plain-text cause for the response body and the span status message. */
  message: string;
  /** OpenTelemetry `error.type`: the transport error code as the runtime named it. */
  errorType: string;
}

/**
 * Maps undici / socket errors to a status and a cause a person can act on.
 * Refused or unreachable → 502; too slow → 504 (h3's proxy maps the same way).
 */
export function classifyUpstreamError(err: unknown, target: string): UpstreamFailure {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? 'UNKNOWN';
  const fail = (c: ErrorCode, message: string): UpstreamFailure => ({
    code: c,
    status: statusForCode(c) ?? 502,
    message,
    errorType: code,
  });
  switch (code) {
    case 'ECONNREFUSED':
      return fail('TRC_ERR_UPSTREAM_CONNECT', `upstream ${target} refused the connection`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail('TRC_ERR_UPSTREAM_CONNECT', `upstream ${target} could not be resolved (${code})`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return fail('TRC_ERR_UPSTREAM_CONNECT', `upstream ${target} is unreachable (${code})`);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return fail('TRC_ERR_UPSTREAM_CONNECT_TIMEOUT', `upstream ${target} did not accept the connection in time`);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return fail('TRC_ERR_UPSTREAM_TIMEOUT', `upstream ${target} did not respond in time`);
    case 'UND_ERR_BODY_TIMEOUT':
      return fail('TRC_ERR_UPSTREAM_IDLE_TIMEOUT', `upstream ${target} stopped sending the response body`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return fail('TRC_ERR_UPSTREAM_RESET', `upstream ${target} closed the connection before responding`);
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INVALID_RETURN_VALUE' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        return fail('TRC_ERR_UPSTREAM_PROTOCOL', `upstream ${target} sent an invalid HTTP response`);
      }
      return fail('TRC_ERR_UPSTREAM_CONNECT', `upstream ${target} failed: ${e?.message ?? code}`);
  }
}
