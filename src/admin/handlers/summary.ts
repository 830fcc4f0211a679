/** GET /api/summary: per-route latency percentiles, error patterns and the service dependency graph. */
import { sendJson, type Handler } from '../http.js';
import type { TraceStore } from '../../telemetry/store.js';
import type { SummaryResponse } from '../api-types.js';

export function summaryHandler(store: TraceStore): Handler {
  return ({ res }) => {
    const body: SummaryResponse = { ...store.summary(), stats: store.stats(), now: Date.now() };
    sendJson(res, 200, body);
  };
}
