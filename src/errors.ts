/**
 * The error catalogue: every TRC_ERR_* code tracecar raises, with its message template and, for
 * request-path codes, the HTTP status the caller gets. This is the single source: code elsewhere
 * names a code (typed `ErrorCode`) and the parameters of its template, never a status or a
 * message shape of its own. docs/errors.md documents every code; test/errors.test.ts keeps
 * catalogue, docs and source in step in both directions. Codes never change meaning once released.
 */

interface ErrorSpec {
  /**
   * Message template; `{name}` placeholders are the parameters a raiser must give. `{detail}`
   * alone means the message is composed where the error is raised (config problem lists, CLI
   * usage, export failures) and passed as a plain string.
   */
  message: string;
  /** What the code means, in one sentence (docs/errors.md says more). */
  description: string;
  /** HTTP status a request gets when this error ends it (request-path codes only). */
  status?: number;
}

export const ERROR_CODES = {
  TRC_ERR_INVALID_ARGUMENT: { message: '{detail}', description: 'A command-line flag or its value is not valid.' },
  TRC_ERR_INVALID_URL: { message: '{detail}', description: 'A target or endpoint URL cannot be parsed or uses an unsupported scheme.' },
  TRC_ERR_CONFIG_INVALID: {
    message: '{detail}',
    description: 'The configuration is invalid: a schema violation in the file, an unset ${VAR}, or a bad OTEL_*/TRACECAR_* or flag value.',
  },
  TRC_ERR_CONFIG_PARSE: { message: '{detail}', description: 'The configuration file is not valid YAML.' },
  TRC_ERR_CONFIG_READ: { message: '{detail}', description: 'The configuration file cannot be read.' },
  TRC_ERR_CONFIG_VALUE: {
    message: 'invalid {what} {value} (expected {expected})',
    description: 'A single value (duration, percent, ratio, size or listen address) cannot be parsed; raised by the unit parsers the CLI and the chaos header use.',
  },
  TRC_ERR_INJECT_INPUT: { message: '{detail}', description: '`tracecar inject` cannot read its input or the input is not valid YAML.' },
  TRC_ERR_LISTEN: {
    message: '{listener} could not listen on {address}: {reason}',
    description: 'A listener could not bind its address (port busy, permission denied, bad host).',
  },
  TRC_ERR_TLS: {
    message: '{setting} {file}: {reason}',
    description: 'A TLS certificate, private key or CA file named in the config cannot be read or is not usable (missing, not PEM, expired, key and certificate do not match).',
  },
  TRC_ERR_UPSTREAM_CONNECT: { message: 'upstream {target} {reason}', description: 'The upstream refused the connection or could not be reached.', status: 502 },
  TRC_ERR_UPSTREAM_TLS: {
    message: 'upstream {target} failed TLS verification: {reason}',
    description: "The upstream's certificate could not be verified (unknown CA, wrong name, expired) or it refused tracecar's client certificate.",
    status: 502,
  },
  TRC_ERR_UPSTREAM_CONNECT_TIMEOUT: {
    message: 'upstream {target} did not accept the connection in time',
    description: 'The upstream did not accept the connection within timeout.connect.',
    status: 504,
  },
  TRC_ERR_UPSTREAM_TIMEOUT: {
    message: 'upstream {target} did not respond in time',
    description: 'The upstream did not send response headers within timeout.response.',
    status: 504,
  },
  TRC_ERR_UPSTREAM_IDLE_TIMEOUT: {
    message: 'upstream {target} stopped sending the response body',
    description: 'The upstream body went silent for longer than timeout.idle.',
    status: 504,
  },
  TRC_ERR_UPSTREAM_RESET: {
    message: 'upstream {target} closed the connection {when}',
    description: 'The upstream closed the connection before finishing the response.',
    status: 502,
  },
  TRC_ERR_UPSTREAM_DEADLINE: {
    message: 'upstream {target} did not finish the gRPC call within its grpc-timeout ({timeout})',
    description: "A gRPC call's grpc-timeout ran out before the upstream finished the response; the call is cancelled upstream.",
    status: 504,
  },
  TRC_ERR_UPSTREAM_PROTOCOL: {
    message: 'upstream {target} sent an invalid HTTP response ({reason})',
    description: 'The upstream sent a response that is not valid HTTP.',
    status: 502,
  },
  TRC_ERR_UPSTREAM_TRUNCATED: {
    message: 'upstream {target} ended the response early: {detail}; the client connection was cut',
    description: 'The upstream closed or reset the connection in the middle of a response body; the client already has the status, so its connection is cut rather than the body ended.',
  },
  TRC_ERR_BAD_REQUEST: {
    message: 'bad request: {reason}',
    description: 'The request is malformed or its framing is ambiguous (Node\'s parser refused it, or tracecar did); it is answered and the connection closed.',
    status: 400,
  },
  TRC_ERR_TRANSFER_CODING: {
    message: 'transfer coding {coding} is not supported: only chunked is forwarded',
    description: 'The request applies a transfer coding other than chunked.',
    status: 501,
  },
  TRC_ERR_HEADERS_TOO_LARGE: {
    message: 'request header section too large: {reason}',
    description: 'The request head is over limits.maxHeaderBytes or has more fields than limits.maxHeaderCount.',
    status: 431,
  },
  TRC_ERR_URL_TOO_LONG: {
    message: 'request target of {length} bytes is longer than limits.maxUrlBytes ({limit})',
    description: 'The request target is over limits.maxUrlBytes.',
    status: 414,
  },
  TRC_ERR_BODY_TOO_LARGE: {
    message: 'request body larger than limits.maxBodyBytes ({limit} bytes)',
    description: 'The request body is over limits.maxBodyBytes.',
    status: 413,
  },
  TRC_ERR_REQUEST_TIMEOUT: {
    message: 'request timeout: {what}',
    description: 'The client did not send the request head within limits.headersTimeout, or the whole request within limits.requestTimeout.',
    status: 408,
  },
  TRC_ERR_CLIENT_ABORTED: {
    message: 'client disconnected {when}',
    description: 'The client disconnected before the response was complete; the upstream request was aborted.',
    status: 499,
  },
  TRC_ERR_BAD_PROXY_REQUEST: {
    message: 'tracecar egress: {reason}',
    description: 'An egress request has no usable destination: no absolute-form URL or Host, a malformed CONNECT target, or a named route a reload removed.',
    status: 400,
  },
  TRC_ERR_CHAOS_ABORT: { message: 'chaos: aborted with {status}', description: 'A chaos rule aborted the request on purpose.' },
  TRC_ERR_CHAOS_RESET: { message: 'chaos: connection reset {when}', description: 'A chaos rule reset the connection on purpose.' },
  TRC_ERR_EXPORT: { message: '{detail}', description: 'The OTLP exporter could not deliver spans: retried with backoff, dropped and counted once retries are exhausted (requests unaffected).' },
  TRC_ERR_EXPORT_QUEUE_FULL: {
    message: 'span queue full (maxQueueSize={max}): {count} spans dropped',
    description: 'The span queue was full; the span was dropped and counted.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that end a request with a status of their own. */
export type RequestErrorCode = { [C in ErrorCode]: (typeof ERROR_CODES)[C] extends { status: number } ? C : never }[ErrorCode];

type Placeholders<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;

/** What a code's template needs: a plain string for `{detail}`, else one value per placeholder. */
export type MessageParams<C extends ErrorCode> = [Placeholders<(typeof ERROR_CODES)[C]['message']>] extends ['detail']
  ? string
  : { readonly [K in Placeholders<(typeof ERROR_CODES)[C]['message']>]: string | number };

/** The message of `code` with its template filled in. */
export function errorMessage<C extends ErrorCode>(code: C, params: MessageParams<C>): string {
  const template: string = ERROR_CODES[code].message;
  if (typeof params === 'string') return params;
  const values = params as Record<string, string | number>;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name]));
}

export class TracecarError extends Error {
  readonly code: ErrorCode;
  /** A one-line suggestion shown after the message by the CLI. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TracecarError';
    this.code = code;
    this.hint = options?.hint;
  }
}

export function tracecarError<C extends ErrorCode>(code: C, params: MessageParams<C>, options?: { cause?: unknown; hint?: string }): TracecarError {
  return new TracecarError(code, errorMessage(code, params), options);
}

export function statusForCode(code: string): number | undefined {
  const spec = (ERROR_CODES as Record<string, ErrorSpec>)[code];
  return spec?.status;
}

/**
 * Why a request or connection failed, as a span records it: OpenTelemetry `error.type` (the
 * runtime's own error name where there is one), the tracecar code when one applies, and the
 * message for the span status (and the response body, when tracecar answers).
 */
export interface FailureCause {
  errorType: string;
  code?: ErrorCode;
  message: string;
}

/** A request-path failure: the cause plus the status the caller gets. */
export interface Failure extends FailureCause {
  code: ErrorCode;
  status: number;
}

/** The failure for `code`, with its catalogued status and its message template filled in. */
export function failure<C extends RequestErrorCode>(code: C, errorType: string, params: MessageParams<C>): Failure {
  return { code, status: ERROR_CODES[code].status, message: errorMessage(code, params), errorType };
}

/** The cause for a code with no status of its own (chaos faults: the status is the configured one). */
export function cause<C extends ErrorCode>(code: C, errorType: string, params: MessageParams<C>): FailureCause {
  return { code, message: errorMessage(code, params), errorType };
}
