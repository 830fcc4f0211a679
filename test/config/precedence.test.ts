import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir, thrown } from './helpers.js';

const tmp = tempDir();

const FILE = `
service: { name: from-file, version: 1.0.0, attributes: { team: file, region: eu } }
ingress: { listen: 7001, target: http://file:3000, timeout: { connect: 5s } }
egress: { listen: 7002 }
admin: { listen: 7003 }
log: { level: warn }
export:
  otlp: { endpoint: http://file-collector:4317, headers: { x-a: file-a, x-b: file-b }, timeout: 3s }
sampling: { default: { ratio: 0.5 }, rules: [ { match: { path: /healthz }, ratio: 0 } ] }
`;

describe('precedence: CLI flag > env > file > defaults', () => {
  const file = tmp.write('layers.yaml', FILE);

  test('defaults fill what nothing sets', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg).toEqual(DEFAULTS);
    expect(cfg).not.toBe(DEFAULTS);
  });

  test('the file wins over defaults, key by key', () => {
    const cfg = loadConfig({ file, env: {} });
    expect(cfg.ingress.listen).toBe('7001');
    expect(cfg.ingress.timeout).toEqual({ connect: 5000, response: 30_000, idle: 300_000 });
    expect(cfg.log.level).toBe('warn');
    expect(cfg.sampling.default.ratio).toBe(0.5);
    expect(cfg.sampling.parentBased).toBe(true);
  });

  test('env wins over the file', () => {
    const cfg = loadConfig({
      file,
      env: {
        TRACECAR_PORT: '8001',
        TRACECAR_TARGET: 'http://env:3000',
        TRACECAR_EGRESS_PORT: '8002',
        TRACECAR_ADMIN: '127.0.0.1:8003',
        TRACECAR_LOG_LEVEL: 'DEBUG',
        OTEL_SERVICE_NAME: 'from-env',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env-collector:4317',
      },
    });
    expect(cfg.ingress.listen).toBe('8001');
    expect(cfg.ingress.target).toBe('http://env:3000');
    expect(cfg.ingress.timeout.connect).toBe(5000);
    expect(cfg.egress.listen).toBe('8002');
    expect(cfg.admin.listen).toBe('127.0.0.1:8003');
    expect(cfg.log.level).toBe('debug');
    expect(cfg.service.name).toBe('from-env');
    expect(cfg.service.version).toBe('1.0.0');
    expect(cfg.export.otlp.endpoint).toBe('http://env-collector:4317');
  });

  test('CLI flags win over env and file', () => {
    const cfg = loadConfig({
      file,
      env: { TRACECAR_PORT: '8001', TRACECAR_TARGET: 'http://env:3000', OTEL_SERVICE_NAME: 'from-env', TRACECAR_LOG_LEVEL: 'debug' },
      cli: { ingress: { listen: '9001', target: 'http://cli:3000' }, service: { name: 'from-cli' }, egress: { inferParent: 'when-unambiguous' } },
    });
    expect(cfg.ingress.listen).toBe('9001');
    expect(cfg.ingress.target).toBe('http://cli:3000');
    expect(cfg.service.name).toBe('from-cli');
    expect(cfg.log.level).toBe('debug');
    expect(cfg.egress.inferParent).toBe('when-unambiguous');
    expect(cfg.egress.listen).toBe('7002');
  });

  test('maps merge by key across layers; lists replace', () => {
    const cfg = loadConfig({
      file,
      env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-b=env-b,x-c=env-c', OTEL_RESOURCE_ATTRIBUTES: 'team=env' },
      cli: { export: { otlp: { headers: { 'x-c': 'cli-c' } } }, sampling: { rules: [] } },
    });
    expect(cfg.export.otlp.headers).toEqual({ 'x-a': 'file-a', 'x-b': 'env-b', 'x-c': 'cli-c' });
    expect(cfg.service.attributes).toEqual({ team: 'env', region: 'eu' });
    expect(cfg.sampling.rules).toEqual([]);
  });

  test('redaction lists add to the built-in ones', () => {
    const cfg = loadConfig({ file: tmp.write('redact.yaml', 'redact: { headers: [X-Internal-Token], query: [session] }\n'), env: {} });
    expect(cfg.redact.headers).toEqual([...DEFAULTS.redact.headers, 'x-internal-token']);
    expect(cfg.redact.query).toEqual([...DEFAULTS.redact.query, 'session']);
  });

  test('TRACECAR_CONFIG names the file when none is given; an explicit file wins', () => {
    const other = tmp.write('other.yaml', 'log: { level: error }\n');
    expect(loadConfig({ env: { TRACECAR_CONFIG: file } }).log.level).toBe('warn');
    expect(loadConfig({ file: other, env: { TRACECAR_CONFIG: file } }).log.level).toBe('error');
  });

  test('TRACECAR_LISTEN wins over TRACECAR_PORT; TRACECAR_ADMIN=off turns admin off', () => {
    const cfg = loadConfig({ env: { TRACECAR_LISTEN: '127.0.0.1:8100', TRACECAR_PORT: '8200', TRACECAR_ADMIN: 'off' } });
    expect(cfg.ingress.listen).toBe('127.0.0.1:8100');
    expect(cfg.admin.listen).toBeNull();
  });

  test('a bad env value names the variable', () => {
    const err = thrown(() => loadConfig({ env: { TRACECAR_PORT: 'eighty', TRACECAR_TARGET: 'localhost:3000' } }));
    expect(err.code).toBe('TRC_ERR_CONFIG_INVALID');
    expect(err.message).toBe(
      [
        'env TRACECAR_PORT  ingress.listen: invalid listen address "eighty" (expected a port 0-65535 or "host:port", e.g. 8080 or 127.0.0.1:8080)',
        'env TRACECAR_TARGET  ingress.target: invalid URL "localhost:3000" (expected an http://, https:// or h2c:// URL like http://127.0.0.1:3000)',
      ].join('\n'),
    );
  });

  test('CLI keys left undefined do not override anything', () => {
    const cfg = loadConfig({ file, env: {}, cli: { ingress: { listen: undefined, target: undefined }, log: undefined } });
    expect(cfg.ingress.listen).toBe('7001');
    expect(cfg.log.level).toBe('warn');
  });

  test('a bad CLI value is reported as such', () => {
    const err = thrown(() => loadConfig({ env: {}, cli: { ingress: { timeout: { connect: -1 } } } }));
    expect(err.message).toBe(
      'command line  ingress.timeout.connect: -1 is out of range (expected a duration like "250ms", "2s", "1m" or a number of milliseconds)',
    );
  });

  test('file, env and CLI problems are reported together, file first', () => {
    const bad = tmp.write('bad.yaml', 'log: { level: loud }\n');
    const err = thrown(() => loadConfig({ file: bad, env: { OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }, cli: { ingress: { listen: 'x' } } }));
    expect(err.message.split('\n').map((l) => l.split('  ')[0])).toEqual([`${bad}:1:15`, 'env OTEL_EXPORTER_OTLP_TIMEOUT', 'command line']);
  });

  test('the result is deep-frozen', () => {
    const cfg = loadConfig({ file, env: {} });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.ingress.timeout)).toBe(true);
    expect(Object.isFrozen(cfg.sampling.rules[0]!.match)).toBe(true);
    expect(() => {
      (cfg.ingress as { listen: string }).listen = '1';
    }).toThrow(TypeError);
    expect(Object.isFrozen(DEFAULTS.ingress)).toBe(false);
  });
});

describe('OTEL_* environment variables', () => {
  const load = (env: Record<string, string>) => loadConfig({ env });

  test('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (percent-decoded)', () => {
    const cfg = load({
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,service.version=2.1.0,deployment.environment=prod,team=a%2Cb%20c',
    });
    expect(cfg.service).toEqual({ name: 'from-attrs', version: '2.1.0', attributes: { 'deployment.environment': 'prod', team: 'a,b c' } });
    expect(load({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'explicit' }).service.name).toBe('explicit');
  });

  test('traces-specific exporter variables win over the generic ones', () => {
    const cfg = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces:4317',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=generic,x-tenant=t%201',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=traces',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    expect(cfg.export.otlp).toEqual({
      endpoint: 'https://traces:4317',
      protocol: 'grpc',
      headers: { 'api-key': 'traces', 'x-tenant': 't 1' },
      timeout: 2500,
      compression: 'gzip',
    });
  });

  test('generic exporter variables alone', () => {
    const cfg = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317', OTEL_EXPORTER_OTLP_TIMEOUT: '5000' });
    expect(cfg.export.otlp.endpoint).toBe('http://generic:4317');
    expect(cfg.export.otlp.timeout).toBe(5000);
  });

  test.each([
    ['always_on', undefined, { ratio: 1, parentBased: false }],
    ['always_off', undefined, { ratio: 0, parentBased: false }],
    ['traceidratio', '0.25', { ratio: 0.25, parentBased: false }],
    ['traceidratio', undefined, { ratio: 1, parentBased: false }],
    ['parentbased_always_on', undefined, { ratio: 1, parentBased: true }],
    ['parentbased_always_off', undefined, { ratio: 0, parentBased: true }],
    ['parentbased_traceidratio', '0.1', { ratio: 0.1, parentBased: true }],
  ])('OTEL_TRACES_SAMPLER=%s ARG=%s', (sampler, arg, expected) => {
    const cfg = load({ OTEL_TRACES_SAMPLER: sampler, ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}) });
    expect({ ratio: cfg.sampling.default.ratio, parentBased: cfg.sampling.parentBased }).toEqual(expected);
  });

  test('OTEL_TRACES_SAMPLER_ARG out of range or an unknown sampler is an error naming the variable', () => {
    expect(thrown(() => load({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).message).toBe(
      'env OTEL_TRACES_SAMPLER_ARG  sampling.default.ratio: 2 is out of range (expected a ratio from 0 to 1, or a percentage like "10%")',
    );
    expect(thrown(() => load({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).message).toMatch(
      /^env OTEL_TRACES_SAMPLER  sampling.default.ratio: unsupported sampler "jaeger_remote" \(expected one of: always_on, /,
    );
  });

  test('OTEL_PROPAGATORS sets extract and inject', () => {
    const cfg = load({ OTEL_PROPAGATORS: 'tracecontext,baggage,b3multi' });
    expect(cfg.propagation.extract).toEqual(['w3c', 'b3multi']);
    expect(cfg.propagation.inject).toEqual(['w3c', 'b3multi']);
    const none = load({ OTEL_PROPAGATORS: 'none' });
    expect([none.propagation.extract, none.propagation.inject, none.propagation.injectIncomingB3]).toEqual([[], [], false]);
    expect(thrown(() => load({ OTEL_PROPAGATORS: 'tracecontext,xray' })).message).toBe(
      'env OTEL_PROPAGATORS  propagation.extract: unsupported propagator "xray" (expected tracecontext, b3, b3multi, baggage or none)',
    );
  });

  test('OTEL_SDK_DISABLED=true traces nothing but keeps proxying', () => {
    const cfg = loadConfig({
      file: tmp.write('sampling.yaml', 'sampling: { rules: [ { match: { path: /x }, ratio: 1 } ], keep: { slowerThan: 1s } }\n'),
      env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', TRACECAR_TARGET: 'http://app:3000' },
    });
    expect(cfg.sampling).toEqual({ default: { ratio: 0 }, parentBased: false, rules: [], keep: { errors: false, slowerThan: null }, forceHeader: null });
    expect(cfg.export.otlp.endpoint).toBe('');
    expect(cfg.ingress.target).toBe('http://app:3000');
    expect(load({ OTEL_SDK_DISABLED: 'false' }).sampling.default.ratio).toBe(1);
  });

  test('OTEL_BSP_* batch settings', () => {
    const cfg = load({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10', OTEL_BSP_SCHEDULE_DELAY: '250' });
    expect([cfg.export.maxQueueSize, cfg.export.maxExportBatchSize, cfg.export.scheduledDelay]).toEqual([100, 10, 250]);
  });

  test('empty variables count as unset', () => {
    expect(load({ OTEL_SERVICE_NAME: '', OTEL_EXPORTER_OTLP_ENDPOINT: ' ', TRACECAR_PORT: '' })).toEqual(DEFAULTS);
  });

  test('malformed header lists are errors naming the variable', () => {
    expect(thrown(() => load({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).message).toBe(
      'env OTEL_EXPORTER_OTLP_HEADERS  export.otlp.headers: invalid entry "novalue" (expected key=value pairs separated by commas)',
    );
  });
});
