/**
 * gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): the canonical
 * names, which of them are errors for a server, and the mapping from an HTTP status for answers
 * that carry no grpc-status (doc/http-grpc-status-mapping.md).
 */

/** Canonical names by code, as they appear in rpc.status_code. */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

export const GRPC_OK = 0;
export const GRPC_CANCELLED = 1;
export const GRPC_UNKNOWN = 2;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/** The name of a code; codes outside the table are reported as they are. */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? String(code);
}

/**
 * OpenTelemetry gRPC conventions: on a SERVER span only these codes are errors (the others are the
 * client's doing); on a CLIENT span every code but OK is.
 */
const SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]); // UNKNOWN DEADLINE_EXCEEDED UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS

export function isGrpcError(code: number, kind: 'server' | 'client'): boolean {
  return kind === 'server' ? SERVER_ERRORS.has(code) : code !== GRPC_OK;
}

/** A grpc-status header value → its code (undefined when absent or not a code). */
export function parseGrpcStatus(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\d{1,2}$/.test(v)) return undefined;
  return Number(v);
}

/** The gRPC code a client infers from an HTTP status when no grpc-status came back. */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return GRPC_UNKNOWN;
  }
}

/**
 * grpc-message is percent-encoded (the spec's "Percent-Encoded": bytes outside 0x20-0x7E and "%").
 */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
