/** Messages between the main thread (worker-host.ts) and the export worker (worker.ts). Plain data only. */
import type { SpanRecord } from '../span.js';

export type ToWorker =
  | { type: 'export'; id: number; spans: SpanRecord[] }
  | { type: 'shutdown'; timeoutMs: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true }
  | { type: 'result'; id: number; ok: false; error: string }
  | { type: 'shutdown-done' };
