import type { Document } from 'yaml';
import { yamlLib } from './yaml.js';

/**
 * `${NAME}`, `${NAME:-default}` (unset or empty → default), `${NAME-default}` (unset → default),
 * `${NAME:?message}` / `${NAME?message}` (unset → error with message), `$${…}` for a literal `${…}`.
 *
 * Interpolation happens on the parsed document, scalar by scalar, so an environment value can never
 * change the YAML structure (a value with ": " or "#" stays one value) and comments are never touched.
 * To let `${…}` sit where YAML would not accept "{" or "," (inside a flow mapping, as in
 * `otlp: { endpoint: ${OTEL_EXPORTER_OTLP_ENDPOINT:-} }`), each expression is first masked into
 * private-use characters of the same length; the parser sees an ordinary scalar, and every line and
 * column in the document stays exactly where it was in the file.
 */

const EXPRESSION = /\$?\$\{[^}\n]*\}/g;
const MASK_BASE = 0xe000;
const MASKED = /[\uE020-\uE07E]/g;
const HAS_MASKED = /[\uE020-\uE07E]/;

export function maskExpressions(text: string): string {
  if (HAS_MASKED.test(text)) return text; // the file already uses these code points: leave it alone
  return text.replace(EXPRESSION, (expr) =>
    expr.replace(/[\x20-\x7e]/g, (c) => String.fromCharCode(MASK_BASE + c.charCodeAt(0))),
  );
}

export function unmask(text: string): string {
  return text.replace(MASKED, (c) => String.fromCharCode(c.charCodeAt(0) - MASK_BASE));
}

export type Env = Record<string, string | undefined>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Interpolate one string; `{ error }` names the first problem. */
export function interpolate(text: string, env: Env): { value: string } | { error: string } {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('$', i);
    if (start < 0) break;
    out += text.slice(i, start);
    if (text.startsWith('$${', start)) {
      const end = text.indexOf('}', start);
      if (end < 0) return { error: unterminated(text.slice(start + 1)) };
      out += text.slice(start + 1, end + 1);
      i = end + 1;
      continue;
    }
    if (!text.startsWith('${', start)) {
      out += '$';
      i = start + 1;
      continue;
    }
    const end = text.indexOf('}', start);
    if (end < 0) return { error: unterminated(text.slice(start)) };
    const expr = text.slice(start + 2, end);
    const resolved = resolve(expr, env);
    if ('error' in resolved) return resolved;
    out += resolved.value;
    i = end + 1;
  }
  return { value: out + text.slice(i) };
}

function unterminated(fragment: string): string {
  return `unterminated ${JSON.stringify(fragment)} (expected \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`;
}

function resolve(expr: string, env: Env): { value: string } | { error: string } {
  const m = /^([^:?-]*)(:?[-?])?([\s\S]*)$/.exec(expr)!;
  const name = m[1]!;
  const op = m[2];
  const arg = m[3]!;
  if (!NAME.test(name) || (!op && arg)) {
    return { error: `invalid expression \${${expr}} (expected \${NAME}, \${NAME:-default} or \${NAME:?message})` };
  }
  const value = env[name];
  const unset = value === undefined;
  const empty = unset || value === '';
  switch (op) {
    case ':-':
      return { value: empty ? arg : value! };
    case '-':
      return { value: unset ? arg : value! };
    case ':?':
    case '?':
      if (op === ':?' ? empty : unset) {
        return { error: `environment variable ${name} is not set${arg ? `: ${arg}` : ''}` };
      }
      return { value: value! };
    default:
      if (unset) {
        return { error: `environment variable ${name} is not set (expected it set, or a default: \${${name}:-value})` };
      }
      return { value: value! };
  }
}

export interface InterpolationProblem {
  path: Array<string | number>;
  message: string;
}

/**
 * Unmask keys and interpolate every scalar value of a document parsed from masked text, in place.
 * A plain (unquoted) scalar that is exactly one expression is typed after substitution as YAML
 * would type it (`port: ${PORT:-8080}` is the number 8080); quoted scalars stay strings.
 */
export function interpolateDocument(doc: Document, env: Env): InterpolationProblem[] {
  const { isMap, isScalar, isSeq, Scalar } = yamlLib();
  const problems: InterpolationProblem[] = [];
  const walk = (node: unknown, path: Array<string | number>): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && typeof pair.key.value === 'string') pair.key.value = unmask(pair.key.value);
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const source = unmask(node.value);
      if (!source.includes('$')) {
        node.value = source;
        return;
      }
      const result = interpolate(source, env);
      if ('error' in result) {
        problems.push({ path, message: result.error });
        node.value = source;
        return;
      }
      node.value = node.type === Scalar.PLAIN && /^\$\{[^}]*\}$/.test(source) ? retype(result.value) : result.value;
    }
  };
  walk(doc.contents, []);
  return problems;
}

function retype(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const v: unknown = yamlLib().parse(text);
    return typeof v === 'number' || typeof v === 'boolean' || v === null ? v : text;
  } catch {
    return text;
  }
}
