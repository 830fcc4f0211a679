/**
 * The main-thread side of worker mode: a BatchSender that posts each batch (structured clone of
 * plain SpanRecords) to the export worker and settles when the worker reports the export result.
 * The worker is unref'd while idle so it never holds the process open, and ref'd while a batch or
 * the shutdown is outstanding. If the worker dies, later batches are exported inline instead;
 * if it dies before it ever started (bad execArgv, missing code), the batches it was handed are
 * exported inline too, so a broken worker never loses spans.
 */
import { Worker } from 'node:worker_threads';
import { tracecarError } from '../../errors.js';
import { createInlineSender } from './inline-sender.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import type { BatchSender, ExportBackendOptions, ExportMode } from './types.js';
import { exportWorkerEntry } from './worker-entry.js';
import type { SpanRecord } from '../span.js';

export interface WorkerSender extends BatchSender {
  /** "inline" once the worker died and batches are exported on this thread. */
  mode(): ExportMode;
}

interface Pending {
  batch: SpanRecord[];
  resolve(): void;
  reject(err: Error): void;
}

/** Flags of the parent that make no sense for (or break) a worker started from a file URL. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) out.push(arg);
  }
  return out;
}

/**
 * Starts the export worker. Throws (synchronously) when the worker code cannot be found.
 * `entry` is for tests (e.g. a worker that fails to start); production uses exportWorkerEntry().
 */
export function createWorkerSender(
  backend: ExportBackendOptions,
  onError: (err: Error) => void,
  entry: URL = exportWorkerEntry(),
): WorkerSender {
  const worker = new Worker(entry, {
    workerData: backend,
    name: 'tracecar-export',
    execArgv: workerExecArgv(),
  });

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | undefined;
  let ready = false;
  let fellBack = false;
  let shuttingDown = false;
  let onShutdownDone: (() => void) | undefined;
  let fallback: BatchSender | undefined;

  const post = (message: ToWorker): void => worker.postMessage(message);
  const refresh = (): void => {
    if (dead) return;
    if (pending.size > 0 || onShutdownDone !== undefined) worker.ref();
    else worker.unref();
  };

  const inline = (): BatchSender => (fallback ??= createInlineSender(backend));

  const die = (err: Error): void => {
    if (dead) return;
    dead = err;
    const orphans = [...pending.values()];
    pending.clear();
    for (const p of orphans) {
      // Never started: nothing was sent, so export those batches here. Otherwise the worker may
      // have delivered them already; count them failed rather than risk duplicates.
      if (!ready && !shuttingDown) inline().send(p.batch).then(p.resolve, p.reject);
      else p.reject(err);
    }
    onShutdownDone?.();
    if (!shuttingDown) {
      fellBack = true;
      onError(
        tracecarError('TRC_ERR_EXPORT', `export worker stopped (${err.message}); exporting on the main thread from now on`, {
          cause: err,
        }),
      );
    }
  };

  worker.on('message', (message: FromWorker) => {
    if (message.type === 'ready') {
      ready = true;
    } else if (message.type === 'result') {
      const p = pending.get(message.id);
      if (p === undefined) return;
      pending.delete(message.id);
      if (message.ok) p.resolve();
      else p.reject(new Error(message.error));
      refresh();
    } else if (message.type === 'shutdown-done') {
      onShutdownDone?.();
    }
  });
  worker.on('error', (err) => die(err));
  worker.on('exit', (code) => die(new Error(`export worker exited with code ${code}`)));
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();

  return {
    mode: () => (fellBack ? 'inline' : 'worker'),

    send(batch) {
      if (dead !== undefined) return inline().send(batch);
      return new Promise<void>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { batch, resolve, reject });
        try {
          post({ type: 'export', id, spans: batch });
        } catch (err) {
          // DataCloneError: a span carried something that is not plain data.
          pending.delete(id);
          reject(err instanceof Error ? err : new Error(String(err)));
        }
        refresh();
      });
    },

    async shutdown(timeoutMs) {
      shuttingDown = true;
      if (fallback !== undefined) await fallback.shutdown(timeoutMs);
      if (dead === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, timeoutMs);
          function done(): void {
            clearTimeout(timer);
            onShutdownDone = undefined;
            resolve();
          }
          onShutdownDone = done;
          refresh();
          post({ type: 'shutdown', timeoutMs: Math.max(0, timeoutMs - 100) });
        });
      }
      await worker.terminate();
    },
  };
}
