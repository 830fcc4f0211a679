import type { TracecarConfig } from './types.js';
import { yamlLib } from './yaml.js';

/** The replacement OpenTelemetry's URL semantic conventions prescribe; spans (telemetry/redact.ts) use it too. */
export const REDACTED = 'REDACTED';

/** Keys whose string values are secrets wherever they appear. */
const SECRET_KEY = /authorization|token|password|passwd|secret|api[-_.]?key|(^|[-_.])key$|cookie|credential|signature/i;

/**
 * A copy of the config safe to show (admin /config, startup logs): every OTLP header value, any
 * value under a secret-looking key, and user:password in URLs become "REDACTED".
 */
export function redactConfig(config: TracecarConfig): Record<string, unknown> {
  const copy = walk(config, []) as Record<string, unknown>;
  const otlp = (copy.export as Record<string, Record<string, unknown>> | undefined)?.otlp;
  if (otlp?.headers) otlp.headers = Object.fromEntries(Object.keys(otlp.headers).map((k) => [k, REDACTED]));
  return copy;
}

function walk(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, path));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && SECRET_KEY.test(k) ? REDACTED : walk(v, [...path, k])]),
    );
  }
  if (typeof value === 'string') return redactUrl(value);
  return value;
}

function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return value;
  }
}

/**
 * The effective config as YAML for the admin /config endpoint, always redacted. Durations are in
 * milliseconds, which the file format accepts, so the output is itself a valid tracecar.yaml.
 */
export function configToYaml(config: TracecarConfig): string {
  return `# effective tracecar configuration (secrets redacted; durations in milliseconds)\n${yamlLib().stringify(redactConfig(config), { lineWidth: 0 })}`;
}
