/**
 * One base class with a stable `code`, one catalogue. Codes never change meaning once released;
 * docs/errors.md lists every code (test/errors.test.ts keeps the two in step).
 */
export class TracecarError extends Error {
  readonly code: string;
  /** A one-line suggestion shown after the message by the CLI. */
  readonly hint?: string;

  constructor(code: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TracecarError';
    this.code = code;
    this.hint = options?.hint;
  }
}

interface ErrorSpec {
  /** What the code means, shown in docs/errors.md. */
  description: string;
  /** HTTP status a request gets when this error ends it, if it is a request-path error. */
  status?: number;
}

/** The catalogue: every TRC_ERR_* code tracecar raises or reports. */
export const ERROR_CODES = {
  TRC_ERR_INVALID_ARGUMENT: { description: 'A command-line flag or its value is not valid.' },
  TRC_ERR_INVALID_URL: { description: 'A target or endpoint URL cannot be parsed or uses an unsupported scheme.' },
  TRC_ERR_CONFIG_INVALID: { description: 'The configuration is invalid: a schema violation in the file, an unset ${VAR}, or a bad OTEL_*/TRACECAR_* or flag value.' },
  TRC_ERR_CONFIG_PARSE: { description: 'The configuration file is not valid YAML.' },
  TRC_ERR_CONFIG_READ: { description: 'The configuration file cannot be read.' },
  TRC_ERR_CONFIG_VALUE: { description: 'A single value (duration, percent, ratio, size or listen address) cannot be parsed; raised by the unit parsers the CLI and the chaos header use.' },
  TRC_ERR_INJECT_INPUT: { description: '`tracecar inject` cannot read its input or the input is not valid YAML.' },
  TRC_ERR_LISTEN: { description: 'A listener could not bind its address (port busy, permission denied, bad host).' },
  TRC_ERR_UPSTREAM_CONNECT: { description: 'The upstream refused the connection or could not be reached.', status: 502 },
  TRC_ERR_UPSTREAM_CONNECT_TIMEOUT: { description: 'The upstream did not accept the connection within timeout.connect.', status: 504 },
  TRC_ERR_UPSTREAM_TIMEOUT: { description: 'The upstream did not send response headers within timeout.response.', status: 504 },
  TRC_ERR_UPSTREAM_IDLE_TIMEOUT: { description: 'The upstream body went silent for longer than timeout.idle.', status: 504 },
  TRC_ERR_UPSTREAM_RESET: { description: 'The upstream closed the connection before finishing the response.', status: 502 },
  TRC_ERR_UPSTREAM_PROTOCOL: { description: 'The upstream sent a response that is not valid HTTP.', status: 502 },
  TRC_ERR_CLIENT_ABORTED: { description: 'The client disconnected before the response was complete; the upstream request was aborted.', status: 499 },
  TRC_ERR_BAD_PROXY_REQUEST: { description: 'An egress request has no usable absolute-form URL or Host.', status: 400 },
  TRC_ERR_CHAOS_ABORT: { description: 'A chaos rule aborted the request on purpose.' },
  TRC_ERR_CHAOS_RESET: { description: 'A chaos rule reset the connection on purpose.' },
  TRC_ERR_EXPORT: { description: 'The OTLP exporter failed to deliver a batch (spans are dropped and counted, requests unaffected).' },
  TRC_ERR_EXPORT_QUEUE_FULL: { description: 'The span queue was full; the span was dropped and counted.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function tracecarError(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }): TracecarError {
  return new TracecarError(code, message, options);
}

export function statusForCode(code: string): number | undefined {
  const spec = (ERROR_CODES as Record<string, ErrorSpec>)[code];
  return spec?.status;
}
