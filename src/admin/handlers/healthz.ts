/** GET /healthz: the process is alive and its admin listener answers. */
import { sendText, type Handler } from '../http.js';

export function healthzHandler(): Handler {
  return ({ res }) => sendText(res, 200, 'ok\n');
}
