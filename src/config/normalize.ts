import type { TracecarConfigInput } from './types.js';
import { configSchema, type JsonSchema } from './schema.js';
import { delayDistribution } from './semantic.js';
import { parseDuration, parsePercent, parseRatio, parseSize } from './units.js';

/**
 * File shape (human units, shorthands) → effective shape (milliseconds, ratios, bytes), for a layer
 * that already passed the schema. Which unit a key uses is read from the schema ($ref to
 * #/definitions/duration, …), so units are declared in one place.
 */
type Obj = Record<string, unknown>;

const off = (v: unknown) => v === null || v === 'off';

const UNITS: Record<string, (v: unknown) => unknown> = {
  duration: (v) => parseDuration(v as string | number),
  durationOrOff: (v) => (off(v) ? null : parseDuration(v as string | number)),
  listen: (v) => String(v).trim(),
  listenOrOff: (v) => (off(v) ? null : String(v).trim()),
  ratio: (v) => parseRatio(v as string | number),
  percent: (v) => parsePercent(v as string | number),
  size: (v) => parseSize(v as string | number),
  sizeOrOff: (v) => (off(v) ? null : parseSize(v as string | number)),
  scalarMap: (v) => Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [k, String(x)])),
};

function convert(value: unknown, node: JsonSchema | undefined): unknown {
  if (value === undefined || !node) return value;
  const ref = node.$ref?.replace(/^#\/definitions\//, '');
  if (ref && UNITS[ref]) return UNITS[ref](value);
  const schema = ref ? configSchema().definitions?.[ref] : node;
  if (!schema) return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => convert(v, schema.items)) : value;
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = convert(v, child);
    }
    return out;
  }
  return value;
}

export function normalizeLayer(raw: unknown): TracecarConfigInput {
  const cfg = convert(raw ?? {}, configSchema()) as Obj;

  const service = cfg.service as Obj | undefined;
  if (service?.version !== undefined) service.version = String(service.version);

  const propagation = cfg.propagation as Obj | undefined;
  if (propagation) {
    if (typeof propagation.correlationHeader === 'string') propagation.correlationHeaders = [propagation.correlationHeader];
    delete propagation.correlationHeader;
    if (Array.isArray(propagation.correlationHeaders)) propagation.correlationHeaders = lower(propagation.correlationHeaders);
  }

  const otlp = (cfg.export as Obj | undefined)?.otlp as Obj | undefined;
  if (otlp && isObj(otlp.headers)) otlp.headers = Object.fromEntries(Object.entries(otlp.headers).map(([k, v]) => [k.toLowerCase(), v]));

  const sampling = cfg.sampling as Obj | undefined;
  if (sampling) {
    if (typeof sampling.forceHeader === 'string') sampling.forceHeader = sampling.forceHeader.toLowerCase();
    if (Array.isArray(sampling.rules)) sampling.rules = sampling.rules.map((r: Obj) => ({ ...r, match: normalizeMatch(r.match) }));
  }

  const chaos = cfg.chaos as Obj | undefined;
  if (chaos && Array.isArray(chaos.rules)) chaos.rules = chaos.rules.map(normalizeChaosRule);

  const redact = cfg.redact as Obj | undefined;
  if (redact && Array.isArray(redact.headers)) redact.headers = lower(redact.headers);

  return cfg as TracecarConfigInput;
}

function normalizeMatch(match: unknown): Obj {
  const m: Obj = { ...((match as Obj | undefined) ?? {}) };
  if (typeof m.method === 'string') m.method = m.method.toUpperCase();
  else if (Array.isArray(m.method)) m.method = m.method.map((x: string) => x.toUpperCase());
  if (isObj(m.headers)) m.headers = Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return m;
}

function normalizeChaosRule(rule: Obj): Obj {
  const out: Obj = { ...rule, match: normalizeMatch(rule.match), side: rule.side ?? 'ingress' };
  for (const fault of ['delay', 'abort', 'reset', 'throttle', 'slowBody']) {
    const f = out[fault] as Obj | undefined;
    if (f) out[fault] = { ...f, percent: f.percent ?? 100 };
  }
  const delay = out.delay as Obj | undefined;
  if (delay && delay.distribution === undefined) delay.distribution = delayDistribution(delay);
  return out;
}

function lower(list: unknown[]): string[] {
  return list.map((x) => String(x).toLowerCase());
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
