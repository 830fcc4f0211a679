/**
 * GET /api/traces/:id: the trace's summary and every stored span of it, ordered by start time, each
 * with the server's verdict on it (error, HTTP status) so the viewer never re-derives them.
 */
import { HttpError, sendJson, type Handler } from '../http.js';
import { httpStatusOf, rpcStatusOf, isErrorSpan, type TraceStore } from '../../telemetry/store.js';
import type { SpanRecord } from '../../telemetry/span.js';
import type { SpanView, TraceResponse } from '../api-types.js';

const TRACE_ID = /^[0-9a-f]{32}$/i;

export function traceHandler(store: TraceStore): Handler {
  return ({ res, params }) => {
    const id = params.id ?? '';
    if (!TRACE_ID.test(id)) throw new HttpError(400, 'trace id must be 32 hex characters');
    const traceId = id.toLowerCase();
    const spans = store.get(traceId);
    const summary = store.summaryOf(traceId);
    if (!spans || !summary) throw new HttpError(404, `trace ${traceId} is not in the store (never seen, evicted, or not chosen while more than admin.store.maxSpansPerSecond spans a second arrived)`);
    const body: TraceResponse = { traceId, summary, spans: spans.map(spanView) };
    sendJson(res, 200, body);
  };
}

function spanView(span: SpanRecord): SpanView {
  const view: SpanView = { ...span, error: isErrorSpan(span) };
  const statusCode = httpStatusOf(span);
  if (statusCode !== undefined) view.statusCode = statusCode;
  const rpcStatus = rpcStatusOf(span);
  if (rpcStatus !== undefined) view.rpcStatus = rpcStatus;
  return view;
}
