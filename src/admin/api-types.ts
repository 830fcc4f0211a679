/**
 * The shapes of the admin JSON API (/api/*), shared by the handlers that answer and the viewer that
 * reads them: the viewer's modules import these types in JSDoc, so `npm run typecheck` fails when
 * an answer changes shape under the page. Derived facts (is this span an error, its HTTP status)
 * are decided here on the server, once, and the viewer only displays them.
 */
import type { SpanRecord } from '../telemetry/span.js';
import type { StoreSummary, TraceStoreStats, TraceSummary } from '../telemetry/store.js';

/** GET /api/traces */
export interface TracesResponse {
  /** Newest first. */
  traces: TraceSummary[];
  /** Services seen in stored traces, sorted. */
  services: string[];
  /** Store size and limits: the viewer bounds what it remembers by `maxTraces`. */
  stats: TraceStoreStats;
  now: number;
}

/** A stored span with what the server decided about it. */
export interface SpanView extends SpanRecord {
  /** The store's error rule (`isErrorSpan`): status ERROR, or a SERVER span that answered 5xx. */
  error: boolean;
  /** http.response.status_code (or the older http.status_code), when the span has one. */
  statusCode?: number;
  /** gRPC status name (rpc.status_code, or the older integer rpc.grpc.status_code), for gRPC calls. */
  rpcStatus?: string;
}

/** GET /api/traces/:id */
export interface TraceResponse {
  traceId: string;
  /** The same summary /api/traces lists for it: root, status, error count, correlation id. */
  summary: TraceSummary;
  /** Ordered by start time. */
  spans: SpanView[];
}

/** GET /api/summary */
export interface SummaryResponse extends StoreSummary {
  stats: TraceStoreStats;
  now: number;
}

/** GET /api/info */
export interface InfoResponse {
  service: string;
  receiveOtlp: boolean;
  store: TraceStoreStats;
  now: number;
}

/** Any /api/* answer other than 200. */
export interface ApiErrorBody {
  error: string;
}
