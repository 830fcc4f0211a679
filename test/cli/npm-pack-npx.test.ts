import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../helpers/cli.js';
import { VIEWER_FILES } from '../../src/admin/handlers/viewer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm pack produces a tarball that npx can run', () => {
  it('`npx <tarball> --help` works in an empty directory', () => {
    const work = mkdtempSync(join(tmpdir(), 'tracecar-pack-'));
    try {
      // --ignore-scripts: `npm test` has just built dist/; prepack would build it again.
      const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, env: cleanEnv(), encoding: 'utf8' });
      const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
      expect(tarball).toBeDefined();
      // The viewer is served from dist/admin/viewer/: every one of its files ships (no build step makes them).
      const files = (JSON.parse(packed) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
      for (const file of VIEWER_FILES) expect(files, file).toContain(`dist/admin/viewer/${file}`);
      const empty = mkdtempSync(join(tmpdir(), 'tracecar-npx-'));
      try {
        const out = execFileSync('npx', ['--yes', '--package', join(work, tarball!), 'tracecar', '--help'], {
          cwd: empty,
          env: cleanEnv({ npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' }),
          encoding: 'utf8',
          timeout: 180_000,
        });
        expect(out).toContain('tracecar --target URL');
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 200_000);
});
