/**
 * Where OTLP trace export goes, per protocol, following the OpenTelemetry exporter spec
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/):
 *
 * - `grpc`: the endpoint is used as given (gRPC has no URL path; conventional port 4317).
 * - `http/protobuf`, `http/json` (conventional port 4318):
 *   - OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: `v1/traces` is appended to its path
 *     (`http://c:4318` → `http://c:4318/v1/traces`, `http://c:4318/otlp/` → `…/otlp/v1/traces`).
 *     The loader does this, because only after merging does it know the final protocol.
 *   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, `export.otlp.endpoint` and `--otlp-endpoint` are used as
 *     given, with one convenience: a URL with no path (or just "/") gets `/v1/traces`, since no
 *     OTLP/HTTP receiver listens on "/". Any other path is kept exactly.
 */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** The OTLP/HTTP path for traces. */
export const OTLP_TRACES_PATH = '/v1/traces';

export function isHttpProtocol(protocol: OtlpProtocol | undefined): protocol is 'http/protobuf' | 'http/json' {
  return protocol === 'http/protobuf' || protocol === 'http/json';
}

/**
 * The spec's rule for OTEL_EXPORTER_OTLP_ENDPOINT with an HTTP protocol: append `v1/traces` to
 * the base URL's path. An unparsable URL is returned unchanged (validation reports it).
 */
export function appendTracesPath(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return base;
  }
  url.pathname = url.pathname.endsWith('/') ? `${url.pathname}v1/traces` : `${url.pathname}/v1/traces`;
  return url.href;
}

/**
 * The URL the exporter sends to: for HTTP protocols, an endpoint with an empty or "/" path gets
 * `/v1/traces`; every other endpoint (and every gRPC endpoint) is used as given. Idempotent.
 */
export function otlpTracesUrl(endpoint: string, protocol: OtlpProtocol | undefined): string {
  if (!endpoint || !isHttpProtocol(protocol)) return endpoint;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint;
  }
  if (url.pathname !== '/' && url.pathname !== '') return endpoint;
  url.pathname = OTLP_TRACES_PATH;
  return url.href;
}

/** "OTLP gRPC", "OTLP/HTTP protobuf", "OTLP/HTTP JSON": for start-up lines and messages. */
export function otlpProtocolLabel(protocol: OtlpProtocol | undefined): string {
  if (protocol === 'http/protobuf') return 'OTLP/HTTP protobuf';
  if (protocol === 'http/json') return 'OTLP/HTTP JSON';
  return 'OTLP gRPC';
}
