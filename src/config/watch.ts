import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { TracecarConfig } from './types.js';

export { restartRequired } from './restart.js';

export interface WatchOptions {
  /** Load and validate the file; throws (ConfigError) when it is not valid. Usually () => loadConfig({ file }). */
  load: () => TracecarConfig;
  /** A new valid config that differs from the last good one; throwing rejects it (onError is called). */
  onChange: (next: TracecarConfig, prev: TracecarConfig) => void;
  /** The file could not be loaded; the last good config stays in force. */
  onError: (err: unknown) => void;
  /** The config in force now; default: load() once at start (throws if invalid). */
  initial?: TracecarConfig;
  /** Quiet time after the last file event before reloading. @default 100 */
  debounceMs?: number;
}

export interface ConfigWatcher {
  /** Reload at once (SIGHUP): cancels a pending debounced reload. */
  reloadNow(): void;
  close(): void;
}

/**
 * Watches the file's directory, not the file: editors and `kubectl` replace files by rename, and a
 * watch on the old inode would go quiet. Events for other names are ignored except Kubernetes'
 * `..data` symlink swap of a mounted ConfigMap. A burst of events gives one reload.
 */
export function watchConfig(file: string, options: WatchOptions): ConfigWatcher {
  const path = resolve(file);
  const name = basename(path);
  const debounceMs = options.debounceMs ?? 100;
  let last = options.initial ?? options.load();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const reload = () => {
    timer = undefined;
    if (closed) return;
    let next: TracecarConfig;
    try {
      next = options.load();
    } catch (err) {
      options.onError(err);
      return;
    }
    if (isDeepStrictEqual(next, last)) return;
    const prev = last;
    last = next;
    try {
      options.onChange(next, prev);
    } catch (err) {
      // Valid config that could not be applied (an unusable TLS file): the previous one stays.
      last = prev;
      options.onError(err);
    }
  };

  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
    if (closed) return;
    if (changed !== null && changed !== name && changed !== '..data') return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on('error', (err) => options.onError(err));

  return {
    reloadNow() {
      clearTimeout(timer);
      reload();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
