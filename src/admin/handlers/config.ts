/**
 * GET /config: the effective configuration (already redacted by the caller) as YAML;
 * `?format=json` for JSON.
 */
import { yamlLib } from '../../config/yaml.js';
import { sendJson, sendText, type Handler } from '../http.js';

export function configHandler(config: () => unknown): Handler {
  return ({ res, url }) => {
    const value = config();
    if (url.searchParams.get('format') === 'json') {
      sendJson(res, 200, value);
      return;
    }
    // text/plain so a browser shows it instead of downloading it; the body is YAML.
    sendText(res, 200, yamlLib().stringify(value, { aliasDuplicateObjects: false }), 'text/plain; charset=utf-8', { 'x-content-format': 'yaml' });
  };
}
