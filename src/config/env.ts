import type { Env } from './interpolate.js';

/**
 * Environment variables → a config layer in the file's shape (so the same schema validates it and
 * the same units apply), plus which variable set each key, for error messages.
 * Empty values count as unset, as the OpenTelemetry spec says.
 */
export interface EnvLayer {
  value: Record<string, unknown>;
  /** Variable that set the value at a path (longest matching prefix), for problem messages. */
  sourceOf(path: ReadonlyArray<string | number>): string | undefined;
  /** Problems found while reading the variables themselves (syntax of lists, unsupported values). */
  problems: Array<{ variable: string; path: string[]; message: string }>;
}

/** Every variable tracecar reads, with the key it sets (documented in config/tracecar.yaml). */
export const ENV_VARIABLES: Readonly<Record<string, string>> = {
  OTEL_SERVICE_NAME: 'service.name',
  OTEL_RESOURCE_ATTRIBUTES: 'service.version, service.attributes (service.name if OTEL_SERVICE_NAME is unset)',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'export.otlp.endpoint (a base URL: /v1/traces is appended for http/* protocols)',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'export.otlp.endpoint, used as given (wins over OTEL_EXPORTER_OTLP_ENDPOINT)',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'export.otlp.protocol: grpc | http/protobuf | http/json',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'export.otlp.protocol (wins over OTEL_EXPORTER_OTLP_PROTOCOL)',
  OTEL_EXPORTER_OTLP_HEADERS: 'export.otlp.headers',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'export.otlp.headers (wins per key)',
  OTEL_EXPORTER_OTLP_TIMEOUT: 'export.otlp.timeout (milliseconds)',
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 'export.otlp.timeout (wins)',
  OTEL_EXPORTER_OTLP_COMPRESSION: 'export.otlp.compression',
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'export.otlp.compression (wins)',
  OTEL_TRACES_SAMPLER: 'sampling.default.ratio, sampling.parentBased',
  OTEL_TRACES_SAMPLER_ARG: 'sampling.default.ratio for *traceidratio',
  OTEL_PROPAGATORS: 'propagation.extract, propagation.inject',
  OTEL_SDK_DISABLED: 'true: no spans (ratio 0, no tail keep, no force header, no OTLP export)',
  OTEL_BSP_MAX_QUEUE_SIZE: 'export.maxQueueSize',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'export.maxExportBatchSize',
  OTEL_BSP_SCHEDULE_DELAY: 'export.scheduledDelay (milliseconds)',
  TRACECAR_CONFIG: 'the config file path (when --config is not given)',
  TRACECAR_TARGET: 'ingress.target',
  TRACECAR_LISTEN: 'ingress.listen',
  TRACECAR_PORT: 'ingress.listen (TRACECAR_LISTEN wins)',
  TRACECAR_EGRESS_PORT: 'egress.listen',
  TRACECAR_ADMIN: 'admin.listen ("off" turns the admin listener off)',
  TRACECAR_LOG_LEVEL: 'log.level',
  TRACECAR_CONSOLE: 'export.console',
  TRACECAR_HEALTH_FILE: 'not a config key: where the running sidecar writes its bound addresses for `tracecar health` (set in the image)',
};

const SAMPLERS: Record<string, { parentBased: boolean; ratio?: number }> = {
  always_on: { parentBased: false, ratio: 1 },
  always_off: { parentBased: false, ratio: 0 },
  traceidratio: { parentBased: false },
  parentbased_always_on: { parentBased: true, ratio: 1 },
  parentbased_always_off: { parentBased: true, ratio: 0 },
  parentbased_traceidratio: { parentBased: true },
};

const PROPAGATORS: Record<string, string | null> = { tracecontext: 'w3c', b3: 'b3', b3multi: 'b3multi', baggage: null };

export function envLayer(env: Env): EnvLayer {
  const value: Record<string, unknown> = {};
  const sources: Array<{ path: string[]; variable: string }> = [];
  const problems: EnvLayer['problems'] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const set = (key: string | string[], v: unknown, variable: string) => {
    const path = typeof key === 'string' ? key.split('.') : key;
    let cur = value;
    for (const seg of path.slice(0, -1)) cur = (cur[seg] ??= {}) as Record<string, unknown>;
    cur[path.at(-1)!] = v;
    sources.push({ path, variable });
  };
  const first = (...names: string[]) => names.find((n) => get(n) !== undefined);

  // Resource
  const attrs = get('OTEL_RESOURCE_ATTRIBUTES');
  if (attrs !== undefined) {
    const parsed = parseKeyValues(attrs);
    if ('error' in parsed) {
      problems.push({ variable: 'OTEL_RESOURCE_ATTRIBUTES', path: ['service', 'attributes'], message: parsed.error });
    } else {
      const { 'service.name': name, 'service.version': version, ...rest } = parsed.map;
      if (name !== undefined) set('service.name', name, 'OTEL_RESOURCE_ATTRIBUTES');
      if (version !== undefined) set('service.version', version, 'OTEL_RESOURCE_ATTRIBUTES');
      for (const [k, v] of Object.entries(rest)) set(['service', 'attributes', k], v, 'OTEL_RESOURCE_ATTRIBUTES');
    }
  }
  const serviceName = get('OTEL_SERVICE_NAME');
  if (serviceName !== undefined) set('service.name', serviceName, 'OTEL_SERVICE_NAME');

  // OTLP export: the traces-specific variable wins over the generic one.
  const endpointVar = first('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpointVar) set('export.otlp.endpoint', get(endpointVar), endpointVar);
  const protocolVar = first('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocolVar) set('export.otlp.protocol', get(protocolVar)!.toLowerCase(), protocolVar);
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const raw = get(variable);
    if (raw === undefined) continue;
    const parsed = parseKeyValues(raw);
    if ('error' in parsed) {
      problems.push({ variable, path: ['export', 'otlp', 'headers'], message: parsed.error });
      continue;
    }
    for (const [k, v] of Object.entries(parsed.map)) set(['export', 'otlp', 'headers', k.toLowerCase()], v, variable);
  }
  const timeoutVar = first('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT');
  if (timeoutVar) set('export.otlp.timeout', numeric(get(timeoutVar)!), timeoutVar);
  const compressionVar = first('OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (compressionVar) set('export.otlp.compression', get(compressionVar)!.toLowerCase(), compressionVar);
  for (const [variable, key] of [
    ['OTEL_BSP_MAX_QUEUE_SIZE', 'export.maxQueueSize'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'export.maxExportBatchSize'],
    ['OTEL_BSP_SCHEDULE_DELAY', 'export.scheduledDelay'],
  ] as const) {
    const v = get(variable);
    if (v !== undefined) set(key, numeric(v), variable);
  }

  // Sampling
  const sampler = get('OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (sampler !== undefined) {
    const spec = SAMPLERS[sampler];
    if (!spec) {
      problems.push({
        variable: 'OTEL_TRACES_SAMPLER',
        path: ['sampling', 'default', 'ratio'],
        message: `unsupported sampler "${sampler}" (expected one of: ${Object.keys(SAMPLERS).join(', ')})`,
      });
    } else {
      set('sampling.parentBased', spec.parentBased, 'OTEL_TRACES_SAMPLER');
      if (spec.ratio !== undefined) {
        set('sampling.default.ratio', spec.ratio, 'OTEL_TRACES_SAMPLER');
      } else {
        const arg = get('OTEL_TRACES_SAMPLER_ARG');
        set('sampling.default.ratio', arg === undefined ? 1 : numeric(arg), arg === undefined ? 'OTEL_TRACES_SAMPLER' : 'OTEL_TRACES_SAMPLER_ARG');
      }
    }
  }

  // Propagation: one list sets both directions.
  const propagators = get('OTEL_PROPAGATORS');
  if (propagators !== undefined) {
    const names = propagators.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const unknown = names.filter((n) => n !== 'none' && !(n in PROPAGATORS));
    if (unknown.length) {
      problems.push({
        variable: 'OTEL_PROPAGATORS',
        path: ['propagation', 'extract'],
        message: `unsupported propagator ${unknown.map((u) => `"${u}"`).join(', ')} (expected tracecontext, b3, b3multi, baggage or none)`,
      });
    } else {
      const formats = names.includes('none') ? [] : [...new Set(names.map((n) => PROPAGATORS[n]).filter((f): f is string => !!f))];
      set('propagation.extract', formats, 'OTEL_PROPAGATORS');
      set('propagation.inject', formats, 'OTEL_PROPAGATORS');
      if (formats.length === 0) set('propagation.injectIncomingB3', false, 'OTEL_PROPAGATORS');
    }
  }

  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    for (const [key, v] of [
      ['sampling.default.ratio', 0],
      ['sampling.parentBased', false],
      ['sampling.rules', []],
      ['sampling.keep.errors', false],
      ['sampling.keep.slowerThan', null],
      ['sampling.forceHeader', null],
      ['export.otlp.endpoint', ''],
    ] as const) {
      set(key, v, 'OTEL_SDK_DISABLED');
    }
  }

  // tracecar's own variables
  const listenVar = first('TRACECAR_LISTEN', 'TRACECAR_PORT');
  if (listenVar) set('ingress.listen', get(listenVar), listenVar);
  for (const [variable, key] of [
    ['TRACECAR_TARGET', 'ingress.target'],
    ['TRACECAR_EGRESS_PORT', 'egress.listen'],
    ['TRACECAR_ADMIN', 'admin.listen'],
    ['TRACECAR_LOG_LEVEL', 'log.level'],
    ['TRACECAR_CONSOLE', 'export.console'],
  ] as const) {
    const v = get(variable);
    if (v !== undefined) set(key, key === 'log.level' || key === 'export.console' ? v.toLowerCase() : v, variable);
  }

  return {
    value,
    problems,
    sourceOf(path) {
      let best: { path: string[]; variable: string } | undefined;
      for (const s of sources) {
        const n = s.path.length;
        if (n <= path.length && s.path.every((seg, i) => String(path[i]) === seg) && (!best || n >= best.path.length)) best = s;
      }
      return best?.variable;
    },
  };
}

/** "k=v,k2=v2" with percent-encoded keys and values (W3C Baggage-like, as OTEL_*_HEADERS uses). */
export function parseKeyValues(text: string): { map: Record<string, string> } | { error: string } {
  const map: Record<string, string> = {};
  for (const item of text.split(',')) {
    if (!item.trim()) continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (!key) return { error: `invalid entry ${JSON.stringify(item.trim())} (expected key=value pairs separated by commas)` };
    try {
      map[decodeURIComponent(key)] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      return { error: `invalid percent-encoding in ${JSON.stringify(item.trim())} (expected key=value with %XX escapes)` };
    }
  }
  return { map };
}

function numeric(v: string): string | number {
  return /^-?[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : v;
}
