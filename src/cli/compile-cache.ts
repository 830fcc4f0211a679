/**
 * Node's module compile cache (node:module enableCompileCache, Node ≥ 22.1): V8 code caches of
 * every module tracecar loads, kept on disk so that the next start skips compiling them. The
 * directory is Node's: NODE_COMPILE_CACHE when set, else <os.tmpdir()>/node-compile-cache;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. Where the directory cannot be created or written
 * (a read-only root filesystem) Node reports a failed status and tracecar runs without it.
 */
import * as nodeModule from 'node:module';

/** Optional: enableCompileCache exists from Node 22.1. */
const api = nodeModule as { enableCompileCache?: () => unknown };

export function enableCompileCacheQuietly(): void {
  try {
    api.enableCompileCache?.();
  } catch {
    // An unusable cache never stops tracecar.
  }
}
