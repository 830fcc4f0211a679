/** GET /api/info: what the viewer shows in its header (service, receiver on/off, store size). */
import { sendJson, type Handler } from '../http.js';
import type { TraceStore } from '../../telemetry/store.js';
import type { InfoResponse } from '../api-types.js';

export function infoHandler(deps: { serviceName: string; receiveOtlp: boolean; store: TraceStore }): Handler {
  return ({ res }) => {
    const body: InfoResponse = { service: deps.serviceName, receiveOtlp: deps.receiveOtlp, store: deps.store.stats(), now: Date.now() };
    sendJson(res, 200, body);
  };
}
