/**
 * Layer merge (defaults ← file ← env ← CLI) and deep freeze. Objects merge key by key (so env
 * OTLP headers add to the file's), arrays and scalars replace, undefined leaves the lower layer.
 * The redaction lists are the exception: they add to the built-in ones, so listing one extra
 * header never un-redacts `authorization`.
 */
type Obj = Record<string, unknown>;

const ADDITIVE = new Set(['redact.headers', 'redact.query']);

export function mergeLayers<T>(base: T, ...layers: unknown[]): T {
  let out: unknown = clone(base);
  for (const layer of layers) out = mergeInto(out, layer, '');
  return out as T;
}

function mergeInto(target: unknown, source: unknown, path: string): unknown {
  if (source === undefined) return target;
  if (ADDITIVE.has(path) && Array.isArray(target) && Array.isArray(source)) {
    return [...new Set([...target, ...source])];
  }
  if (isPlainObject(target) && isPlainObject(source)) {
    const out: Obj = { ...target };
    for (const [k, v] of Object.entries(source)) out[k] = mergeInto(out[k], v, path ? `${path}.${k}` : k);
    return out;
  }
  return clone(source);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Freeze an object graph all the way down; returns the same object. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
