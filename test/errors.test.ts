import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, TracecarError, statusForCode } from '../src/errors.js';

const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = [...docs.matchAll(/^## (TRC_ERR_[A-Z_]+)$/gm)].map((m) => m[1]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue and docs/errors.md stay in step', () => {
  it('every code in the catalogue is documented, and nothing else is', () => {
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('every TRC_ERR_* used in the source is in the catalogue', () => {
    const src = new URL('../src', import.meta.url).pathname;
    const used = new Set<string>();
    for (const f of sourceFiles(src)) for (const m of readFileSync(f, 'utf8').matchAll(/TRC_ERR_[A-Z_]+/g)) used.add(m[0]);
    for (const code of used) expect(Object.keys(ERROR_CODES), `${code} used in src but not catalogued`).toContain(code);
  });

  it('documented statuses match the catalogue', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      const status = statusForCode(code);
      if (status === undefined || status === 499) continue;
      const section = docs.split(`## ${code}\n`)[1].split('\n## ')[0];
      expect(section, code).toContain(`**${status}`);
    }
  });

  it('TracecarError carries a stable code and a hint', () => {
    const e = new TracecarError('TRC_ERR_LISTEN', 'ingress could not listen', { hint: 'pick another port' });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('TRC_ERR_LISTEN');
    expect(e.hint).toBe('pick another port');
  });
});
