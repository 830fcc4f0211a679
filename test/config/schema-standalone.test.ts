/**
 * The config validator tracecar runs is ajv standalone code generated at build time
 * (src/config/schema.ts standaloneValidatorSource → dist/config/schema-validator.cjs). It must
 * give exactly the errors ajv compiling the schema at run time gives — the messages of
 * config/explain.ts are built from them — for valid files, the example, and many broken ones.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';
import { compileValidator, configSchema, deref, standaloneValidator, standaloneValidatorSource, STANDALONE_VALIDATOR_URL, type JsonSchema } from '../../src/config/schema.js';

// Inside the project, so that the generated code's require('ajv/dist/runtime/…') resolves.
const cache = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'tracecar-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generated = pathToFileURL(join(dir, 'schema-validator.cjs'));
writeFileSync(generated, standaloneValidatorSource());
const standalone = standaloneValidator(generated)!;
const compiled = compileValidator();

/** Each validator's verdict and errors (verbose: with schema, parentSchema and data). */
function both(value: unknown) {
  const run = (v: typeof compiled) => ({ valid: v(value), errors: structuredClone(v.errors ?? null) });
  return { standalone: run(standalone), compiled: run(compiled) };
}

/** Every property path of the schema, with its node: where mutations go. */
function schemaNodes(node: JsonSchema | undefined, path: string[] = []): Array<{ path: string[]; node: JsonSchema }> {
  const s = deref(node);
  if (!s) return [];
  const out = path.length ? [{ path, node: s }] : [];
  for (const [k, child] of Object.entries(s.properties ?? {})) out.push(...schemaNodes(child, [...path, k]));
  if (s.items) out.push(...schemaNodes(s.items, [...path, '0']));
  return out;
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root);
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = /^\d+$/.test(key) ? [] : {};
    at = at[key] as Record<string, unknown>;
  }
  at[path[path.length - 1]] = value;
  return copy;
}

const EXAMPLE = parse(readFileSync(new URL('../../config/tracecar.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('standalone config validator', () => {
  it('is what the build wrote for this schema, and what validateShape uses from dist/', () => {
    // npm test builds first; a build from another schema would be ignored at run time (hash).
    expect(standaloneValidator(STANDALONE_VALIDATOR_URL)).toBeUndefined(); // src/ never holds it
    const dist = new URL('../../dist/config/schema-validator.cjs', import.meta.url);
    expect(standaloneValidator(dist), 'dist/config/schema-validator.cjs is missing or stale: run npm run build').toBeTypeOf('function');
  });

  it('accepts and rejects exactly as ajv does: the example, defaults, fixed broken files', () => {
    const cases: unknown[] = [
      {},
      EXAMPLE,
      DEFAULTS,
      { ingress: { target: 'http://localhost:3000', listen: '0.0.0.0:8080' } },
      { ingress: { target: 'ftp://x' } },
      { ingress: { target: 'http://' } },
      { export: { otlp: { endpoint: '' } } },
      { export: { otlp: { endpoint: 'not a url', protocol: 'grpc' } } },
      { nope: 1, service: { name: '' } },
      { egress: { routes: [{ name: 'a', listen: 1, target: 'http://a' }, { listen: 'x' }] } },
      { sampling: { ratio: 2, rules: [{ match: { path: 3 } }] } },
      { chaos: { rules: [{ delay: 'soon', percent: 200 }] } },
      [],
      'text',
      null,
    ];
    for (const value of cases) {
      const r = both(value);
      expect(r.standalone, JSON.stringify(value)).toEqual(r.compiled);
    }
  });

  it('gives the same errors for random values at random places of a valid file', () => {
    const nodes = schemaNodes(configSchema());
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('', '1s', '10%', 'http://x:1', 'https://', '127.0.0.1:0', -1, 0, 1.5, 65536, true, [], {}),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: nodes.length - 1 }), value), { minLength: 1, maxLength: 4 }), (edits) => {
        let file = EXAMPLE;
        for (const [i, v] of edits) file = setPath(file, nodes[i].path, v);
        const r = both(file);
        expect(r.standalone).toEqual(r.compiled);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});
