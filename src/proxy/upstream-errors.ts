import { cause, failure, type Failure, type FailureCause } from '../errors.js';

/** How a failed upstream exchange is reported: code, the status the caller gets, why, and `error.type`. */
export type UpstreamFailure = Failure;

/** Certificate verification failures (OpenSSL's names, as node reports them). */
const TLS_VERIFY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface TransportError {
  code?: string;
  name?: string;
  message?: string;
  cause?: { code?: string };
}

/** The transport error code as the runtime named it (`error.type`); undici's parser errors carry no code. */
function errorType(err: unknown): string {
  const e = err as TransportError | undefined;
  const code = e?.code ?? e?.cause?.code;
  if (code) return code;
  return e?.name === 'HTTPParserError' ? 'HTTPParserError' : 'UNKNOWN';
}

/** undici's parser phrase without its prefix: "Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)". */
function parserReason(err: unknown): string {
  const m = /\(([^()]*)\)\s*$/.exec((err as TransportError | undefined)?.message ?? '');
  return m ? m[1] : 'malformed response';
}

/**
 * Maps undici / socket errors before a response began to a catalogued failure a person can act
 * on. Refused or unreachable → 502; too slow → 504 (h3's proxy maps the same way).
 */
export function classifyUpstreamError(err: unknown, target: string): UpstreamFailure {
  const code = errorType(err);
  switch (code) {
    case 'ECONNREFUSED':
      return failure('TRC_ERR_UPSTREAM_CONNECT', code, { target, reason: 'refused the connection' });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return failure('TRC_ERR_UPSTREAM_CONNECT', code, { target, reason: `could not be resolved (${code})` });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return failure('TRC_ERR_UPSTREAM_CONNECT', code, { target, reason: `is unreachable (${code})` });
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return failure('TRC_ERR_UPSTREAM_CONNECT_TIMEOUT', code, { target });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return failure('TRC_ERR_UPSTREAM_TIMEOUT', code, { target });
    case 'UND_ERR_BODY_TIMEOUT':
      return failure('TRC_ERR_UPSTREAM_IDLE_TIMEOUT', code, { target });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return failure('TRC_ERR_UPSTREAM_RESET', code, { target, when: 'before responding' });
    default:
      if (TLS_VERIFY.has(code)) {
        const hint = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'set targetTls.servername to the name in its certificate' : 'set targetTls.ca to the CA that signed it';
        return failure('TRC_ERR_UPSTREAM_TLS', code, { target, reason: `${(err as TransportError | undefined)?.message ?? code} (${hint})` });
      }
      if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
        return failure('TRC_ERR_UPSTREAM_TLS', code, { target, reason: 'it requires a client certificate (set targetTls.cert and targetTls.key)' });
      }
      if (/^ERR_SSL_(SSLV3|TLSV1)_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|ACCESS_DENIED)$/.test(code)) {
        return failure('TRC_ERR_UPSTREAM_TLS', code, { target, reason: `it rejected the client certificate in targetTls.cert (${code})` });
      }
      if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
        return failure('TRC_ERR_UPSTREAM_TLS', code, { target, reason: code });
      }
      if (code.startsWith('ERR_HTTP2_')) return failure('TRC_ERR_UPSTREAM_PROTOCOL', code, { target, reason: code });
      if (isProtocolError(code)) return failure('TRC_ERR_UPSTREAM_PROTOCOL', code, { target, reason: parserReason(err) });
      return failure('TRC_ERR_UPSTREAM_CONNECT', code, { target, reason: `failed: ${(err as TransportError | undefined)?.message ?? code}` });
  }
}

function isProtocolError(code: string): boolean {
  return code.startsWith('HPE_') || code === 'HTTPParserError' || code === 'UND_ERR_INVALID_RETURN_VALUE' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
}

/** How far the response had gone when the upstream failed, for the span's message. */
export interface ResponseProgress {
  /** Body bytes received from the upstream so far. */
  received: number;
  /** The Content-Length the upstream announced, when it did. */
  expected: number | undefined;
}

/**
 * The cause of an upstream failure after the response began (the client already has the status,
 * so its connection is cut): a body that went silent (idle timeout), a response that stopped
 * making sense (protocol), or one that ended early (closed or reset: truncated).
 */
export function classifyMidResponse(err: unknown, target: string, progress: ResponseProgress): FailureCause {
  const code = errorType(err);
  if (code === 'UND_ERR_BODY_TIMEOUT') return failure('TRC_ERR_UPSTREAM_IDLE_TIMEOUT', code, { target });
  if (isProtocolError(code) && code !== 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return failure('TRC_ERR_UPSTREAM_PROTOCOL', code, { target, reason: `${parserReason(err)}, after ${progress.received} body bytes` });
  }
  const detail =
    progress.expected !== undefined ? `${progress.received} of ${progress.expected} body bytes (Content-Length)` : `after ${progress.received} body bytes, before the end of the body`;
  return cause('TRC_ERR_UPSTREAM_TRUNCATED', code, { target, detail });
}
