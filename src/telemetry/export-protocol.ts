/** Messages between the main thread (export-worker-host) and the export worker. Plain data only. */
import type { SpanRecord } from './span.js';

export type ToWorker =
  | { type: 'export'; id: number; spans: SpanRecord[] }
  | { type: 'shutdown'; timeoutMs: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true }
  | { type: 'result'; id: number; ok: false; error: string }
  | { type: 'shutdown-done' };
