// Copies non-TypeScript runtime assets (viewer files, proto descriptors) from src/ into dist/.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
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

copyAssets('src', 'dist');
