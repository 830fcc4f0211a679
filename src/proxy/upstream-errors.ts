import { failure, type Failure } from '../errors.js';

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

/**
 * Maps undici / socket errors to a catalogued failure a person can act on. Refused or
 * unreachable → 502; too slow → 504 (h3's proxy maps the same way). `error.type` is the
 * transport error code as the runtime named it.
 */
export function classifyUpstreamError(err: unknown, target: string): UpstreamFailure {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? 'UNKNOWN';
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
        return failure('TRC_ERR_UPSTREAM_TLS', code, { target, reason: `${e?.message ?? code} (${hint})` });
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
      if (code.startsWith('ERR_HTTP2_')) return failure('TRC_ERR_UPSTREAM_PROTOCOL', code, { target });
      if (code.startsWith('HPE_') || code === 'UND_ERR_INVALID_RETURN_VALUE' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        return failure('TRC_ERR_UPSTREAM_PROTOCOL', code, { target });
      }
      return failure('TRC_ERR_UPSTREAM_CONNECT', code, { target, reason: `failed: ${e?.message ?? code}` });
  }
}
