/**
 * export.otlp.protocol and how the endpoint is resolved for it, following the OpenTelemetry
 * exporter spec: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL (http/*: /v1/traces appended),
 * the traces-specific variable, the key and the CLI flag are used as given (a bare URL with no
 * path gets /v1/traces for http/*), gRPC endpoints are never changed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { ENV_VARIABLES } from '../../src/config/env.js';
import { loadConfig, loadConfigText, type LoadOptions } from '../../src/config/load.js';
import { appendTracesPath, otlpProtocolLabel, otlpTracesUrl } from '../../src/config/otlp-endpoint.js';
import { restartRequired } from '../../src/config/restart.js';
import { tempDir, thrown } from './helpers.js';

const tmp = tempDir();
const EXAMPLE = fileURLToPath(new URL('../../config/tracecar.yaml', import.meta.url));

describe('export.otlp.protocol', () => {
  test('defaults to grpc', () => {
    expect(DEFAULTS.export.otlp.protocol).toBe('grpc');
    expect(loadConfig({ env: {} }).export.otlp.protocol).toBe('grpc');
  });

  test.each(['grpc', 'http/protobuf', 'http/json'])('the file accepts %s', (protocol) => {
    expect(loadConfigText(`export: { otlp: { protocol: ${protocol} } }\n`, 't.yaml').export.otlp.protocol).toBe(protocol);
  });

  test('an unknown value in the file: file:line:col, the allowed values, a did-you-mean', () => {
    const err = thrown(() => loadConfigText('export:\n  otlp:\n    protocol: http/protobf\n', 't.yaml'));
    expect(err.code).toBe('TRC_ERR_CONFIG_INVALID');
    expect(err.message).toBe('t.yaml:3:15  export.otlp.protocol: unknown value "http/protobf" (did you mean "http/protobuf"?)');
  });

  test('OTEL_EXPORTER_OTLP_PROTOCOL overrides the file; OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins over it', () => {
    const file = tmp.write('grpc.yaml', 'export: { otlp: { protocol: grpc } }\n');
    expect(loadConfig({ file, env: {} }).export.otlp.protocol).toBe('grpc');
    expect(loadConfig({ file, env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } }).export.otlp.protocol).toBe('http/protobuf');
    expect(
      loadConfig({ file, env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' } }).export.otlp.protocol,
    ).toBe('http/json');
    expect(loadConfig({ file, env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }).export.otlp.protocol).toBe(
      'grpc',
    );
  });

  test('env values are case-insensitive; empty counts as unset', () => {
    expect(loadConfig({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/Protobuf' } }).export.otlp.protocol).toBe('http/protobuf');
    expect(loadConfig({ env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }).export.otlp.protocol).toBe(
      'http/json',
    );
  });

  test('a bad env value names the variable and the allowed values', () => {
    expect(thrown(() => loadConfig({ env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' } })).message).toBe(
      'env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL  export.otlp.protocol: unknown value "thrift" (expected one of: grpc, http/protobuf, http/json)',
    );
  });

  test('a protocol change needs a restart (the exporter is built once)', () => {
    const before = loadConfig({ env: {} });
    const after = loadConfig({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } });
    expect(restartRequired(before, after)).toEqual(['export.otlp']);
  });

  test('the example config documents the key and both variables', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    expect(text).toMatch(/^ {4}protocol: grpc +# grpc \(port 4317\) \| http\/protobuf \| http\/json/m);
    expect(loadConfig({ file: EXAMPLE, env: {} }).export.otlp.protocol).toBe('grpc');
    for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
      expect(ENV_VARIABLES[name]).toContain('export.otlp.protocol');
      expect(text).toContain(name);
    }
  });
});

describe('the endpoint, resolved for the protocol', () => {
  const endpoint = (env: Record<string, string>, options: { file?: string; cli?: LoadOptions['cli'] } = {}) =>
    loadConfig({ env, ...options }).export.otlp.endpoint;

  test('grpc: every endpoint is used as given', () => {
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' })).toBe('http://collector:4317');
    expect(endpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector:4317/' })).toBe('https://collector:4317/');
  });

  test('http: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL, /v1/traces is appended to its path', () => {
    const http = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/traces');
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example.com/otlp' })).toBe('https://gw.example.com/otlp/v1/traces');
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example.com/otlp/' })).toBe('https://gw.example.com/otlp/v1/traces');
    // even when the base already ends in /v1/traces: the spec says append, and so does the OTel SDK
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/v1/traces' })).toBe('http://c:4318/v1/traces/v1/traces');
  });

  test('http: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given (a URL with no path gets /v1/traces)', () => {
    const http = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom/traces' })).toBe('http://c:4318/custom/traces');
    expect(endpoint({ ...http, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318' })).toBe('http://c:4318/v1/traces');
    expect(
      endpoint({ ...http, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://specific:4318/in' }),
    ).toBe('http://specific:4318/in');
  });

  test('http: the config key is used as given, a URL with no path (or "/") gets /v1/traces', () => {
    const load = (url: string) => loadConfigText(`export: { otlp: { protocol: http/protobuf, endpoint: "${url}" } }\n`, 't.yaml', {}).export.otlp.endpoint;
    expect(load('http://127.0.0.1:9901')).toBe('http://127.0.0.1:9901/v1/traces');
    expect(load('http://127.0.0.1:9901/')).toBe('http://127.0.0.1:9901/v1/traces');
    expect(load('http://127.0.0.1:9901/v1/traces')).toBe('http://127.0.0.1:9901/v1/traces');
    expect(load('https://gw.example.com/tenant-a/otlp')).toBe('https://gw.example.com/tenant-a/otlp');
    expect(load('')).toBe('');
  });

  test('protocol and endpoint may come from different layers', () => {
    const httpFile = tmp.write('http.yaml', 'export: { otlp: { protocol: http/protobuf } }\n');
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, { file: httpFile })).toBe('http://collector:4318/v1/traces');
    const endpointFile = tmp.write('endpoint.yaml', 'export: { otlp: { endpoint: "http://collector:4318/base" } }\n');
    expect(endpoint({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, { file: endpointFile })).toBe('http://collector:4318/base');
    expect(endpoint({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, { file: endpointFile })).toBe('http://collector:4318/base');
  });

  test('the CLI flag wins over OTEL_EXPORTER_OTLP_ENDPOINT and is used like the key', () => {
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318/base' };
    expect(endpoint(env, { cli: { export: { otlp: { endpoint: 'http://cli:4318/exact' } } } })).toBe('http://cli:4318/exact');
    expect(endpoint(env, { cli: { export: { otlp: { endpoint: 'http://cli:4318' } } } })).toBe('http://cli:4318/v1/traces');
    expect(endpoint(env, { cli: {} })).toBe('http://generic:4318/base/v1/traces');
  });

  test('OTEL_SDK_DISABLED still means no export at all', () => {
    expect(endpoint({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe('');
  });
});

describe('otlp-endpoint helpers', () => {
  test('otlpTracesUrl: grpc untouched, http bare URLs get /v1/traces, idempotent, query kept', () => {
    expect(otlpTracesUrl('http://c:4317', 'grpc')).toBe('http://c:4317');
    expect(otlpTracesUrl('http://c:4318', 'http/protobuf')).toBe('http://c:4318/v1/traces');
    expect(otlpTracesUrl(otlpTracesUrl('http://c:4318', 'http/json'), 'http/json')).toBe('http://c:4318/v1/traces');
    expect(otlpTracesUrl('http://c:4318/?tenant=a', 'http/protobuf')).toBe('http://c:4318/v1/traces?tenant=a');
    expect(otlpTracesUrl('', 'http/protobuf')).toBe('');
    expect(otlpTracesUrl('not a url', 'http/protobuf')).toBe('not a url');
  });

  test('appendTracesPath follows the spec for base URLs', () => {
    expect(appendTracesPath('http://c:4318')).toBe('http://c:4318/v1/traces');
    expect(appendTracesPath('http://c:4318/a/b')).toBe('http://c:4318/a/b/v1/traces');
    expect(appendTracesPath('http://c:4318/a/b/')).toBe('http://c:4318/a/b/v1/traces');
  });

  test('labels for the start-up line', () => {
    expect(otlpProtocolLabel('grpc')).toBe('OTLP gRPC');
    expect(otlpProtocolLabel('http/protobuf')).toBe('OTLP/HTTP protobuf');
    expect(otlpProtocolLabel('http/json')).toBe('OTLP/HTTP JSON');
  });
});
