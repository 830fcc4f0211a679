/**
 * GET / and the viewer's files, served from admin/viewer/ next to this module (copied to dist/ by
 * scripts/copy-assets.mjs). The page is native ES modules with no build step; only the files
 * listed here are served (test/admin/server.test.ts checks the list against the directory and
 * against every module's imports). The page fetches nothing but this listener's own /api, which
 * the Content-Security-Policy enforces.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { HttpError, type Handler } from '../http.js';

/** Every file of src/admin/viewer/. */
export const VIEWER_FILES = [
  'index.html',
  'style.css',
  'favicon.svg',
  // ES modules: app.js is the entry; the others are its imports.
  'app.js',
  'api.js',
  'dom.js',
  'format.js',
  'widgets.js',
  'trace-list.js',
  'trace-view.js',
  'summary.js',
] as const;

/** Module scripts are refused unless served with a JavaScript MIME type. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const ASSETS = new Map<string, { file: string; type: string }>([
  ['/', { file: 'index.html', type: CONTENT_TYPES['.html'] }],
  ['/favicon.ico', { file: 'favicon.svg', type: CONTENT_TYPES['.svg'] }],
  ...VIEWER_FILES.map((file) => [`/${file}`, { file, type: CONTENT_TYPES[extname(file)] }] as const),
]);

export const VIEWER_PATHS = [...ASSETS.keys()];

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
    const asset = ASSETS.get(url.pathname);
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
