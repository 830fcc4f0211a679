import { describe, expect, test } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir, thrown } from './helpers.js';

const tmp = tempDir();
const load = (name: string, text: string, env: Record<string, string | undefined>) => loadConfig({ file: tmp.write(name, text), env });

describe('${ENV} interpolation in values', () => {
  test('a set variable is substituted', () => {
    const cfg = load('set.yaml', 'ingress:\n  target: ${APP_URL}\n', { APP_URL: 'http://app:3000' });
    expect(cfg.ingress.target).toBe('http://app:3000');
  });

  test('${VAR:-default} uses the default when unset or empty, the variable when set', () => {
    const text = 'service:\n  name: ${SVC:-orders}\n';
    expect(load('d1.yaml', text, {}).service.name).toBe('orders');
    expect(load('d2.yaml', text, { SVC: '' }).service.name).toBe('orders');
    expect(load('d3.yaml', text, { SVC: 'billing' }).service.name).toBe('billing');
  });

  test('${VAR-default} uses the default only when unset', () => {
    expect(interpolate('${A-x}', {})).toEqual({ value: 'x' });
    expect(interpolate('${A-x}', { A: '' })).toEqual({ value: '' });
  });

  test('an empty default gives an empty string (config/tracecar.yaml: endpoint ${OTEL_EXPORTER_OTLP_ENDPOINT:-})', () => {
    const cfg = load('empty-default.yaml', 'export:\n  otlp: { endpoint: ${OTEL_EXPORTER_OTLP_ENDPOINT_X:-}, headers: {} }\n', {});
    expect(cfg.export.otlp.endpoint).toBe('');
  });

  test('works inside flow mappings and several times in one value', () => {
    const cfg = load('flow.yaml', 'ingress: { target: "http://${HOST:-localhost}:${PORT}/", listen: ${LISTEN:-9000} }\n', { PORT: '3000' });
    expect(cfg.ingress.target).toBe('http://localhost:3000/');
    expect(cfg.ingress.listen).toBe('9000');
  });

  test('an unquoted value that is one expression is typed after substitution; a quoted one stays a string', () => {
    const cfg = load('typed.yaml', 'chaos:\n  enabled: ${CHAOS:-false}\n  seed: ${SEED}\nservice:\n  version: "${VERSION}"\n', { SEED: '42', VERSION: '2' });
    expect(cfg.chaos.enabled).toBe(false);
    expect(cfg.chaos.seed).toBe(42);
    expect(cfg.service.version).toBe('2');
  });

  test('a value with YAML syntax in it stays one value', () => {
    const cfg = load('special.yaml', 'export:\n  otlp:\n    headers:\n      authorization: ${AUTH}\n', { AUTH: 'Bearer a: b # c, {d}' });
    expect(cfg.export.otlp.headers).toEqual({ authorization: 'Bearer a: b # c, {d}' });
  });

  test('$${VAR} is a literal ${VAR}', () => {
    const cfg = load('literal.yaml', 'chaos:\n  rules:\n    - abort: { status: 503, body: "cost $${PRICE}" }\n', {});
    expect(cfg.chaos.rules[0]!.abort!.body).toBe('cost ${PRICE}');
  });

  test('comments are never interpolated', () => {
    expect(() => load('comment.yaml', '# set ${UNSET_IN_COMMENT}\nlog: { level: info } # ${ALSO_UNSET}\n', {})).not.toThrow();
  });

  test('a missing variable without a default is an error at its line', () => {
    const file = tmp.write('missing.yaml', 'service:\n  name: orders\ningress:\n  target: ${APP_URL}\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_INVALID');
    expect(err.message).toBe(`${file}:4:11  ingress.target: environment variable APP_URL is not set (expected it set, or a default: \${APP_URL:-value})`);
  });

  test('${VAR:?message} fails with the message', () => {
    const file = tmp.write('required.yaml', 'ingress:\n  target: ${APP_URL:?set it to the app URL}\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.message).toBe(`${file}:2:11  ingress.target: environment variable APP_URL is not set: set it to the app URL`);
  });

  test('a substituted value is validated like a written one, at the same position', () => {
    const file = tmp.write('validated.yaml', 'sampling:\n  default:\n    ratio: ${RATIO}\n');
    const err = thrown(() => loadConfig({ file, env: { RATIO: '7' } }));
    expect(err.message).toBe(`${file}:3:12  sampling.default.ratio: 7 is out of range (expected a ratio from 0 to 1, or a percentage like "10%")`);
  });

  test('malformed expressions are reported', () => {
    expect(interpolate('${NOT VALID}', {})).toEqual({ error: 'invalid expression ${NOT VALID} (expected ${NAME}, ${NAME:-default} or ${NAME:?message})' });
    expect(interpolate('x ${OPEN', {})).toEqual({ error: 'unterminated "${OPEN" (expected ${NAME} or ${NAME:-default}; write $${ for a literal ${)' });
    expect(interpolate('price: $5', {})).toEqual({ value: 'price: $5' });
  });

  test('keys are not interpolated', () => {
    const file = tmp.write('key.yaml', '${SECTION}:\n  level: info\n');
    const err = thrown(() => loadConfig({ file, env: { SECTION: 'log' } }));
    expect(err.message).toBe(`${file}:1:1  ["\${SECTION}"]: unknown key "\${SECTION}" (expected one of: service, ingress, egress, propagation, export, sampling, chaos, routes, redact, admin, http2, grpc, limits, log, shutdownTimeout)`);
  });
});
