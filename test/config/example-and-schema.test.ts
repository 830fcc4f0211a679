import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { normalizeLayer } from '../../src/config/normalize.js';
import { configSchema, deref, validateShape, type JsonSchema } from '../../src/config/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../config/tracecar.yaml', import.meta.url));

/** Every key path the schema allows, arrays as "[]": "egress.routes[].listen". */
function schemaPaths(node: JsonSchema | undefined, prefix = ''): string[] {
  const s = deref(node);
  if (!s) return [];
  const out: string[] = [];
  if (s.items) out.push(...schemaPaths(s.items, `${prefix}[]`));
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.push(path, ...schemaPaths(child, path));
  }
  return out;
}

/** Every key path present in a value, arrays as "[]". */
function valuePaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) for (const v of value) for (const p of valuePaths(v, `${prefix}[]`)) out.add(p);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      for (const p of valuePaths(v, path)) out.add(p);
    }
  }
  return out;
}

/** The schema's `default` annotations, assembled into one file-shaped object. */
function schemaDefaults(node: JsonSchema | undefined): unknown {
  const s = deref(node);
  if (!s?.properties) return s?.default;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(s.properties)) {
    const v = deref(child)?.default !== undefined ? deref(child)!.default : schemaDefaults(child);
    if (v !== undefined && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0 && deref(child)?.default === undefined)) {
      out[k] = v;
    }
  }
  return out;
}

describe('the example config/tracecar.yaml', () => {
  test('is valid and loads', () => {
    const cfg = loadConfig({ file: EXAMPLE, env: {} });
    expect(cfg.service.name).toBe('orders');
    expect(cfg.egress.routes[0]).toEqual({ name: 'payments', listen: '9001', target: 'http://payments:8080' });
    expect(cfg.egress.routes[2]).toMatchObject({ name: 'ledger', protocol: 'h2', targetTls: { servername: 'ledger.internal' } });
    expect(cfg.chaos.rules[1]!.delay).toEqual({ min: 100, max: 300, distribution: 'uniform', percent: 100 });
    expect(cfg.sampling.rules[1]!.ratio).toBe(1);
    expect(cfg.admin.store.maxBytes).toBe(64 * 1024 * 1024);
  });

  test('uses every key the schema knows', () => {
    const used = valuePaths(parse(readFileSync(EXAMPLE, 'utf8')));
    const text = readFileSync(EXAMPLE, 'utf8');
    const missing = schemaPaths(configSchema()).filter((p) => !used.has(p));
    // correlationHeader and correlationHeaders exclude each other: the shorthand is shown in a comment.
    // The ingress TLS files are shown in comments too: set, they would be read when tracecar starts.
    const commented = [
      'egress.routes[].targetTls.ca',
      'egress.routes[].targetTls.cert',
      'egress.routes[].targetTls.key',
      'ingress.targetTls.ca',
      'ingress.targetTls.cert',
      'ingress.targetTls.key',
      'ingress.targetTls.servername',
      'ingress.tls.cert',
      'ingress.tls.key',
      'propagation.correlationHeader',
    ];
    expect(missing.sort()).toEqual(commented);
    for (const key of commented) expect(text).toMatch(new RegExp(`^\\s*# +${key.split('.').at(-1)}: `, 'm'));
  });

  test('names every environment variable tracecar reads', async () => {
    const { ENV_VARIABLES } = await import('../../src/config/env.js');
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const name of Object.keys(ENV_VARIABLES)) expect(text).toContain(name);
  });
});

describe('schema and defaults agree', () => {
  test('every key in the schema has a description', () => {
    const undocumented: string[] = [];
    const visit = (node: JsonSchema | undefined, path: string) => {
      if (!node) return;
      for (const [k, child] of Object.entries(node.properties ?? {})) {
        if (!child.description && !deref(child)?.description) undocumented.push(`${path}${k}`);
        visit(child, `${path}${k}.`);
      }
      if (node.items) visit(node.items, `${path}[].`);
    };
    visit(configSchema(), '');
    for (const [name, def] of Object.entries(configSchema().definitions ?? {})) visit(def, `#${name}.`);
    expect(undocumented).toEqual([]);
  });

  test('every object in the schema rejects unknown keys', () => {
    const open: string[] = [];
    const visit = (node: JsonSchema | undefined, path: string) => {
      if (!node) return;
      if (node.properties && node.additionalProperties !== false) open.push(path || '(root)');
      for (const [k, child] of Object.entries(node.properties ?? {})) visit(child, `${path}${k}.`);
      if (node.items) visit(node.items, `${path}[].`);
    };
    visit(configSchema(), '');
    for (const [name, def] of Object.entries(configSchema().definitions ?? {})) visit(def, `#${name}.`);
    expect(open).toEqual([]);
  });

  test('the built-in defaults pass the schema', () => {
    expect(validateShape(DEFAULTS)).toEqual([]);
  });

  test('the schema default annotations are the built-in defaults', () => {
    const fromSchema = normalizeLayer(schemaDefaults(configSchema()));
    const check = (value: unknown, expected: unknown, path: string) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) check(v, (expected as Record<string, unknown>)?.[k], `${path}.${k}`);
      } else {
        expect({ path, value }).toEqual({ path, value: expected });
      }
    };
    check(fromSchema, DEFAULTS, 'config');
    // and they cover every built-in default
    const covered = valuePaths(fromSchema);
    const uncovered = [...valuePaths(DEFAULTS)].filter((p) => !covered.has(p));
    expect(uncovered).toEqual([]);
  });

  test('an empty file gives exactly the defaults', () => {
    expect(loadConfigText('', 'empty.yaml', {})).toEqual(DEFAULTS);
  });
});
