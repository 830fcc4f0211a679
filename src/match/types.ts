import type { IncomingHttpHeaders } from 'node:http';

/** What a request matcher looks at. Built once per request by the pipeline, shared by sampling and chaos. */
export interface MatchInput {
  method: string;
  /** Request path, optionally with a query string (ignored for matching). */
  path: string;
  /** Host header value (a port, if any, is ignored unless the pattern names one). */
  host: string;
  /** Node's lowercased incoming headers. */
  headers: IncomingHttpHeaders;
  /**
   * W3C baggage entries, already parsed by the caller. When absent and a rule needs baggage,
   * the matcher parses the `baggage` request header itself (once per call, only then).
   */
  baggage?: Map<string, string>;
  /** gRPC calls: the service (package.Service) and method called; absent for other requests. */
  grpc?: { service: string; method: string };
}

/** A compiled MatchConfig. `toString()` describes the conditions, e.g. `{method=POST, path=/checkout/**}`. */
export interface Matcher {
  (req: MatchInput): boolean;
  toString(): string;
}
