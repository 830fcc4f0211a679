/**
 * GET / and the viewer's assets (index.html, app.js, style.css, favicon.svg), served from
 * admin/viewer/ next to this module (copied to dist/ by scripts/copy-assets.mjs). The page fetches
 * nothing but this listener's own /api, which the Content-Security-Policy enforces.
 */
import { readFile } from 'node:fs/promises';
import { HttpError, type Handler } from '../http.js';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/favicon.ico': { file: 'favicon.svg', type: 'image/svg+xml' },
};

export const VIEWER_PATHS = Object.keys(ASSETS);

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function viewerHandler(dir: URL = new URL('../viewer/', import.meta.url)): Handler {
  const cache = new Map<string, Buffer>();
  return async ({ res, url }) => {
    const asset = ASSETS[url.pathname];
    if (!asset) throw new HttpError(404, 'not found');
    let body = cache.get(asset.file);
    if (!body) {
      try {
        body = await readFile(new URL(asset.file, dir));
      } catch {
        throw new HttpError(500, `viewer asset ${asset.file} is missing from this build`);
      }
      cache.set(asset.file, body);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  };
}
