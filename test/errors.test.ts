import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ERROR_CODES, TracecarError, errorMessage, failure, statusForCode, tracecarError, type ErrorCode } from '../src/errors.js';

const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = [...docs.matchAll(/^## (TRC_ERR_[A-Z_]+)$/gm)].map((m) => m[1]);
const section = (code: string): string => docs.split(`## ${code}\n`)[1].split('\n## ')[0];
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const srcDir = new URL('../src', import.meta.url).pathname;
const files = sourceFiles(srcDir);

/** Codes passed as the first argument of a call or `new` (tracecarError, failure, new ConfigError, …), comments excluded. */
function raisedCodes(): Map<string, string[]> {
  const raised = new Map<string, string[]>();
  for (const file of files) {
    if (file.endsWith('/errors.ts')) continue;
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.length) {
        const first = node.arguments[0];
        if (ts.isStringLiteral(first) && first.text.startsWith('TRC_ERR_')) {
          raised.set(first.text, [...(raised.get(first.text) ?? []), `${file.slice(srcDir.length + 1)} ${node.expression.getText(sf)}`]);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return raised;
}

describe('error catalogue, docs/errors.md and the source stay in step', () => {
  it('every code in the catalogue is documented, and nothing else is', () => {
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it('every TRC_ERR_* used in the source is in the catalogue', () => {
    const used = new Set<string>();
    for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/TRC_ERR_[A-Z_]+/g)) used.add(m[0]);
    for (const code of used) expect(codes, `${code} used in src but not catalogued`).toContain(code);
  });

  it('every catalogued code is raised somewhere in the source (not just mentioned)', () => {
    const raised = raisedCodes();
    const never = codes.filter((c) => !raised.has(c));
    expect(never, `catalogued but never raised: ${never.join(', ')}`).toEqual([]);
  });

  it('documented statuses and message shapes match the catalogue', () => {
    for (const code of codes) {
      const status = statusForCode(code);
      if (status !== undefined && status !== 499) expect(section(code), code).toContain(`**${status}`);
      const template: string = ERROR_CODES[code].message;
      if (template !== '{detail}') expect(section(code), `${code} documents its message`).toContain(`\`${template}\``);
    }
  });

  it('templates are filled from typed parameters; statuses come from the catalogue', () => {
    expect(errorMessage('TRC_ERR_UPSTREAM_CONNECT', { target: '127.0.0.1:3000', reason: 'refused the connection' })).toBe(
      'upstream 127.0.0.1:3000 refused the connection',
    );
    expect(failure('TRC_ERR_BAD_PROXY_REQUEST', 'bad_proxy_request', { reason: 'no Host' })).toEqual({
      code: 'TRC_ERR_BAD_PROXY_REQUEST',
      status: 400,
      message: 'tracecar egress: no Host',
      errorType: 'bad_proxy_request',
    });
    expect(tracecarError('TRC_ERR_EXPORT', 'free-form detail').message).toBe('free-form detail');
  });

  it('TracecarError carries a stable code and a hint', () => {
    const e = new TracecarError('TRC_ERR_LISTEN', 'ingress could not listen', { hint: 'pick another port' });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('TRC_ERR_LISTEN');
    expect(e.hint).toBe('pick another port');
  });
});
