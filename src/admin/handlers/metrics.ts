/** GET /metrics: Prometheus text exposition of tracecar's own registry. */
import { sendText, type Handler } from '../http.js';
import type { Metrics } from '../metrics.js';

export function metricsHandler(metrics: Metrics): Handler {
  return async ({ res }) => {
    const body = await metrics.render();
    sendText(res, 200, body, metrics.contentType);
  };
}
