// Copies non-TypeScript runtime assets (the viewer's page and ES modules, proto descriptors) from
// src/ into dist/. The viewer ships as written (no bundling), so dist/admin/viewer/ is first emptied:
// it then holds exactly the files of src/admin/viewer/, never a module left over from an older build.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';

const ASSET_EXTENSIONS = new Set(['.html', '.css', '.js', '.json', '.svg', '.proto']);

function copyAssets(fromDir, toDir) {
  if (!existsSync(fromDir)) return;
  for (const name of readdirSync(fromDir)) {
    const from = join(fromDir, name);
    const to = join(toDir, name);
    if (statSync(from).isDirectory()) copyAssets(from, to);
    else if (ASSET_EXTENSIONS.has(extname(name))) cpSync(from, to);
  }
}

rmSync(join('dist', 'admin', 'viewer'), { recursive: true, force: true });
copyAssets('src', 'dist');
