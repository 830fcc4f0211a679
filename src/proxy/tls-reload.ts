/**
 * Re-reads a listener's certificate and key when either file changes on disk (cert-manager and
 * Kubernetes secret mounts replace files by rename or by swapping a `..data` symlink, so the
 * directories are watched, not the files). A pair that does not load (half-written, key and
 * certificate from different rotations) is reported and the last good pair stays in use.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ListenerTlsConfig } from '../config/types.js';
import { loadListenerTls, type ListenerTlsMaterial } from '../config/tls.js';

export interface TlsReloadOptions {
  /** Config path, e.g. "ingress.tls", for messages. */
  where: string;
  files: ListenerTlsConfig;
  /** The pair served now (reloads that read the same bytes are not reported). */
  initial: ListenerTlsMaterial;
  /** A new pair loaded: serve it. */
  apply(material: ListenerTlsMaterial): void;
  /** What happened: a reload that worked, or why it did not (the last good pair stays). */
  report(err: unknown, material?: ListenerTlsMaterial): void;
  /** Quiet time after the last file event. @default 200 */
  debounceMs?: number;
}

export interface TlsReloader {
  /** Load now (tests, SIGHUP). */
  reloadNow(): void;
  close(): void;
}

export function watchListenerTls(options: TlsReloadOptions): TlsReloader {
  const paths = [resolve(options.files.cert), resolve(options.files.key)];
  const names = new Set(paths.map((p) => basename(p)).concat('..data'));
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let current = options.initial;

  const reload = (): void => {
    timer = undefined;
    if (closed) return;
    let material: ListenerTlsMaterial;
    try {
      material = loadListenerTls(options.where, options.files);
    } catch (err) {
      options.report(err);
      return;
    }
    if (material.cert.equals(current.cert) && material.key.equals(current.key)) return;
    current = material;
    options.apply(material);
    options.report(null, material);
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    try {
      const w = watch(dir, { persistent: false }, (_event, changed) => {
        if (closed || (changed !== null && !names.has(changed))) return;
        clearTimeout(timer);
        timer = setTimeout(reload, debounceMs);
      });
      w.on('error', (err) => options.report(err));
      watchers.push(w);
    } catch (err) {
      options.report(err);
    }
  }

  return {
    reloadNow() {
      clearTimeout(timer);
      reload();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
