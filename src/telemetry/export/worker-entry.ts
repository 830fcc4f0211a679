/**
 * Where the export worker's code is, for `new Worker(...)`.
 *
 * - Built (dist/telemetry/export/*.js, what users run): the sibling `worker.js`.
 * - From TypeScript sources (vitest runs src/*.ts without a build): Node 22.18+ strips types
 *   natively, so the worker starts from a tiny data: URL bootstrap that registers a resolve hook
 *   mapping the `./x.js` imports our sources use to `./x.ts`, then imports `worker.ts`.
 *   Tests therefore always exercise the current sources, never a stale dist/.
 */
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { tracecarError } from '../../errors.js';

const BOOTSTRAP = (target: string): string => `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) {
        return next(specifier.slice(0, -3) + '.ts', context);
      }
      throw err;
    }
  },
});
await import(${JSON.stringify(target)});
`;

/** The URL to hand to `new Worker()`. Throws TRC_ERR_EXPORT when no runnable worker code exists. */
export function exportWorkerEntry(): URL {
  const built = new URL('./worker.js', import.meta.url);
  if (built.protocol !== 'file:' || existsSync(fileURLToPath(built))) return built;

  const source = new URL('./worker.ts', import.meta.url);
  const features = process.features as { typescript?: string | false };
  const hooksAvailable = typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function';
  if (existsSync(fileURLToPath(source)) && features.typescript && hooksAvailable) {
    return new URL(`data:text/javascript,${encodeURIComponent(BOOTSTRAP(source.href))}`);
  }
  throw tracecarError('TRC_ERR_EXPORT', `export worker code not found next to ${fileURLToPath(import.meta.url)}`, {
    hint: 'run `npm run build`, or use a Node 22.18+ that strips TypeScript types',
  });
}
