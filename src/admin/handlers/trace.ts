/** GET /api/traces/:id: every stored span of one trace, ordered by start time. */
import { HttpError, sendJson, type Handler } from '../http.js';
import type { TraceStore } from '../../telemetry/store.js';

const TRACE_ID = /^[0-9a-f]{32}$/i;

export function traceHandler(store: TraceStore): Handler {
  return ({ res, params }) => {
    const id = params.id ?? '';
    if (!TRACE_ID.test(id)) throw new HttpError(400, 'trace id must be 32 hex characters');
    const spans = store.get(id.toLowerCase());
    if (!spans) throw new HttpError(404, `trace ${id.toLowerCase()} is not in the store (never seen, or evicted)`);
    sendJson(res, 200, { traceId: id.toLowerCase(), spans });
  };
}
