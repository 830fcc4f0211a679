import { describe, expect, test } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { configToYaml, redactConfig } from '../../src/config/redact.js';
import type { TracecarConfig } from '../../src/config/types.js';

const FILE = `
ingress: { target: "http://user:s3cret@app:3000/" }
export:
  otlp:
    endpoint: http://collector:4317
    headers: { x-honeycomb-team: abc123, x-tenant: acme }
service:
  attributes: { deploy.token: t0k, region: eu }
sampling:
  rules:
    - match: { headers: { authorization: "Bearer x" } }
      ratio: 1
`;

describe('redactConfig', () => {
  const cfg = loadConfigText(FILE, 'r.yaml', {});
  // The redacted copy has the config's shape; only secret values are replaced.
  const red = redactConfig(cfg) as unknown as TracecarConfig;

  test('every OTLP header value is redacted, keys kept', () => {
    expect(red.export.otlp.headers).toEqual({ 'x-honeycomb-team': 'REDACTED', 'x-tenant': 'REDACTED' });
  });

  test('secret-looking keys anywhere are redacted', () => {
    expect(red.service.attributes).toEqual({ 'deploy.token': 'REDACTED', region: 'eu' });
    expect(red.sampling.rules[0].match.headers).toEqual({ authorization: 'REDACTED' });
  });

  test('passwords in URLs are redacted', () => {
    expect(red.ingress.target).toBe('http://user:redacted@app:3000/');
  });

  test('non-secret values and header-name lists are kept; the config itself is untouched', () => {
    expect(red.export.otlp.endpoint).toBe('http://collector:4317');
    expect(red.redact.headers).toContain('authorization');
    expect(cfg.export.otlp.headers['x-tenant']).toBe('acme');
  });
});

describe('configToYaml', () => {
  test('is redacted YAML that loads back to the same config', () => {
    const cfg = loadConfigText('service: { name: orders }\nchaos: { rules: [ { delay: { value: 2s } } ] }\n', 'a.yaml', {});
    const text = configToYaml(cfg);
    expect(text).toMatch(/^# effective tracecar configuration/);
    expect(loadConfigText(text, 'b.yaml', {})).toEqual(cfg);
  });

  test('never shows secrets', () => {
    const text = configToYaml(loadConfigText(FILE, 'r.yaml', {}));
    expect(text).not.toMatch(/abc123|s3cret|t0k|Bearer/);
  });
});
