import type { ErrorObject } from 'ajv';
import { deref, type JsonSchema } from './schema.js';
import { didYouMean } from './suggest.js';

/** A problem found on a plain value, before it is given a file position. */
export interface RawProblem {
  path: Array<string | number>;
  /** Point at the key (unknown/missing keys) or at the value. */
  at: 'key' | 'value';
  message: string;
}

/**
 * Turns ajv's errors into one readable problem per key: "what is wrong (expected …)".
 * The "expected" part comes from the schema node's errorMessage (shared with editors), else from
 * its type/enum. Unknown keys and enum values get a "did you mean".
 */
export function explainErrors(errors: readonly ErrorObject[], data: unknown): RawProblem[] {
  const best = new Map<string, { rank: number; problem: RawProblem }>();
  for (const e of errors) {
    const explained = explainOne(e, data);
    if (!explained) continue;
    const key = JSON.stringify(explained.problem.path);
    const seen = best.get(key);
    if (!seen || explained.rank < seen.rank) best.set(key, explained);
  }
  return [...best.values()].map((b) => b.problem);
}

const RANK: Record<string, number> = { additionalProperties: 0, required: 0, type: 1, enum: 2, propertyNames: 9 };

function explainOne(e: ErrorObject, data: unknown): { rank: number; problem: RawProblem } | undefined {
  const base = pointerToPath(e.instancePath, data);
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const rank = RANK[e.keyword] ?? 3;
  const problem = (path: Array<string | number>, message: string, at: 'key' | 'value' = 'value') => ({
    rank,
    problem: { path, message, at },
  });
  const params = e.params as Record<string, unknown>;

  // A bad key name in a map (propertyNames): report the inner error at the key, skip the summary.
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    return problem([...base, propertyName], `invalid ${schema.title ?? 'key'} ${JSON.stringify(propertyName)} (expected ${expected(schema)})`, 'key');
  }

  switch (e.keyword) {
    case 'propertyNames':
      return undefined;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return problem([...base, key], unknownKey(key, schema), 'key');
    }
    case 'required': {
      const key = String(params.missingProperty);
      return problem([...base, key], `missing required key "${key}"`, 'key');
    }
    case 'type':
      return problem(base, `wrong type, got ${describe(e.data)} (expected ${expected(schema)})`);
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      return problem(
        base,
        guess
          ? `unknown value ${JSON.stringify(e.data)} (did you mean "${guess}"?)`
          : `unknown value ${JSON.stringify(e.data)} (expected one of: ${allowed.join(', ')})`,
      );
    }
    case 'pattern':
    case 'format':
      return problem(base, `invalid ${schema.title ?? 'value'} ${JSON.stringify(e.data)} (expected ${expected(schema)})`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return problem(base, `${JSON.stringify(e.data)} is out of range (expected ${expected(schema)})`);
    case 'minLength':
      return problem(base, `empty value (expected ${expected(schema)})`);
    case 'minItems': {
      const n = Number(params.limit);
      return problem(base, `empty list (expected at least ${n} item${n === 1 ? '' : 's'})`);
    }
    case 'uniqueItems': {
      const i = Number(params.i);
      const item = Array.isArray(e.data) ? e.data[i] : undefined;
      return problem([...base, i], `${JSON.stringify(item)} is listed twice (expected each value once)`);
    }
    default:
      return problem(base, `${e.message ?? 'is not valid'} (expected ${expected(schema)})`);
  }
}

function unknownKey(key: string, objectSchema: JsonSchema): string {
  const known = Object.keys(objectSchema.properties ?? {});
  const guess = didYouMean(key, known);
  if (guess) return `unknown key "${key}" (did you mean "${guess}"?)`;
  // A key written one level too high, e.g. `target:` at the top instead of under `ingress:`.
  const elsewhere = known.filter((k) => deref(objectSchema.properties![k])?.properties?.[key] !== undefined).map((k) => `"${k}.${key}"`);
  if (elsewhere.length > 0) {
    const list = elsewhere.length === 1 ? elsewhere[0] : `${elsewhere.slice(0, -1).join(', ')} or ${elsewhere.at(-1)}`;
    return `unknown key "${key}" (did you mean ${list}?)`;
  }
  return known.length > 0 ? `unknown key "${key}" (expected one of: ${known.join(', ')})` : `unknown key "${key}"`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys to values',
  array: 'a list',
  null: 'null',
};

function expected(schema: JsonSchema): string {
  if (schema.errorMessage) return schema.errorMessage;
  if (schema.enum) return `one of: ${schema.enum.map(String).join(', ')}`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return 'a valid value';
  const words = types.map((t) => TYPE_WORDS[t] ?? t);
  let text = words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') text += ` from ${schema.minimum} to ${schema.maximum}`;
  else if (typeof schema.minimum === 'number') text += ` of at least ${schema.minimum}`;
  return text;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** "/egress/routes/0/listen" → ["egress","routes",0,"listen"], indices where the data has arrays. */
export function pointerToPath(pointer: string, data: unknown): Array<string | number> {
  if (!pointer) return [];
  const out: Array<string | number> = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
