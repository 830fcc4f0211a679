/** GET /api/summary: per-route latency percentiles, error patterns and the service dependency graph. */
import { sendJson, type Handler } from '../http.js';
import type { TraceStore } from '../../telemetry/store.js';

export function summaryHandler(store: TraceStore): Handler {
  return ({ res }) => sendJson(res, 200, { ...store.summary(), stats: store.stats(), now: Date.now() });
}
