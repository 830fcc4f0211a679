/**
 * `http.request.method` as the OpenTelemetry semantic conventions want it, for span attributes and
 * metric labels alike: a well-known method (RFC 9110's, PATCH, and QUERY, which semconv lists too)
 * as it is, anything else as "_OTHER" so a client inventing methods cannot blow up cardinality.
 */
import { HTTP_REQUEST_METHOD_VALUE_OTHER } from '@opentelemetry/semantic-conventions';

export const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** The well-known method `method` names (matched case-insensitively, returned upper case), else "_OTHER". */
export function knownMethod(method: string): string {
  if (KNOWN_METHODS.has(method)) return method; // the usual case: no allocation
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : HTTP_REQUEST_METHOD_VALUE_OTHER;
}
