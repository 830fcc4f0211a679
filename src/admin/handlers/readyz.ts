/** GET /readyz: 200 when the listeners are up and not draining, else 503 with the reason. */
import { sendText, type Handler } from '../http.js';

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export function readyzHandler(readiness: () => Readiness): Handler {
  return ({ res }) => {
    let state: Readiness;
    try {
      state = readiness();
    } catch (err) {
      state = { ready: false, reason: `readiness check failed: ${(err as Error).message}` };
    }
    if (state.ready) sendText(res, 200, 'ready\n');
    else sendText(res, 503, `not ready: ${state.reason ?? 'starting'}\n`);
  };
}
