import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { ConfigProblem } from '../../src/config/problems.js';

/** A real temp directory for this test file, removed afterwards. */
export function tempDir(): { dir: string; write(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'tracecar-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

/** Run fn, return the error it throws (fails the test if it does not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; hint?: string; problems?: readonly ConfigProblem[] } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}
