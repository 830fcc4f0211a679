/**
 * The layers of docs/architecture.md, enforced: every import of every src file (static, type-only,
 * re-exports and dynamic imports alike, read with TypeScript's own pre-processor) must go to the
 * same unit or to a unit below it. A lower layer never imports a higher one, and units that share
 * a layer do not import each other.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';

/** Top to bottom. Each unit is a folder of src/ or a file at its root (without .ts). */
export const LAYERS: ReadonlyArray<readonly string[]> = [
  ['cli'],
  ['tracecar', 'listeners', 'drain', 'kubernetes'],
  ['pipeline', 'stitching', 'runtime'],
  ['proxy', 'admin'],
  ['telemetry'],
  ['chaos', 'sampling'],
  ['match'],
  ['propagation', 'grpc'],
  ['config'],
  ['log', 'errors'],
];

/** Units that are one part together even though they are separate files (the tracecar and pipeline layers). */
const GROUPS: Record<string, string> = { listeners: 'tracecar', drain: 'tracecar', stitching: 'pipeline', runtime: 'pipeline' };

const srcDir = resolve(new URL('../src', import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function unitOf(file: string): string {
  const rel = relative(srcDir, file).split('/');
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.ts$/, '');
}

function layerOf(unit: string): number {
  const i = LAYERS.findIndex((units) => units.includes(unit));
  if (i < 0) throw new Error(`src unit "${unit}" is in no layer: add it to LAYERS and docs/architecture.md`);
  return i;
}

/** Whether `from` may import `to`: same unit (or group), or a lower layer. */
export function allowed(from: string, to: string): boolean {
  if (from === to || (GROUPS[from] ?? from) === (GROUPS[to] ?? to)) return true;
  return layerOf(to) > layerOf(from);
}

function imports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((name) => name.startsWith('.'));
}

describe('architecture: imports follow the layers', () => {
  const files = sourceFiles(srcDir);

  it('every src unit has a layer', () => {
    for (const f of files) expect(() => layerOf(unitOf(f)), relative(srcDir, f)).not.toThrow();
  });

  it('no import goes up a layer or sideways to a sibling unit', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const spec of imports(file)) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        if (!target.startsWith(srcDir + '/')) continue;
        const to = unitOf(target);
        if (!allowed(from, to)) violations.push(`${relative(srcDir, file)} imports ${spec} (${from} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the check itself catches what the issue named (a lower layer importing a higher one)', () => {
    expect(allowed('proxy', 'pipeline')).toBe(false); // proxy/websocket.ts, proxy/tunnel.ts → pipeline.ts
    expect(allowed('telemetry', 'admin')).toBe(false); // telemetry/access-log.ts → admin/server.ts
    expect(allowed('config', 'telemetry')).toBe(false);
    expect(allowed('proxy', 'admin')).toBe(false);
    expect(allowed('pipeline', 'proxy')).toBe(true);
    expect(allowed('stitching', 'pipeline')).toBe(true);
  });

  it('docs/architecture.md lists the same layers', () => {
    const doc = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');
    for (const units of LAYERS) {
      const row = doc.split('\n').find((l) => l.startsWith('|') && units.every((u) => l.includes(`\`${u}\``)));
      expect(row, `a table row naming ${units.join(', ')}`).toBeDefined();
    }
  });
});
