import { readFileSync } from 'node:fs';
import { otlpTracesUrl } from '../../config/otlp-endpoint.js';
import type { FinishedSpan } from '../finish.js';
import type { SpanRecord } from '../span.js';
import { BatchFormat } from './batch.js';
import { createGrpcTransport } from './grpc-transport.js';
import { createHttpTransport } from './http-transport.js';
import { DEFAULT_RETRY, SpanQueue } from './queue.js';
import { tlsFilesFromEnv } from './tls.js';
import type { SpanExporter, SpanExporterOptions, Transport } from './types.js';
import { tracecarError } from '../../errors.js';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/** Extra time past the OTLP timeout before the queue gives up on an export that never settled. */
const EXPORT_WATCHDOG_GRACE_MS = 5_000;

/**
 * The OTLP exporter: spans are encoded on the main thread as they end (straight into the open
 * batch's buffer, a few hundred nanoseconds each), batches go out one request at a time on the
 * configured transport. No worker thread: encoding costs less than posting a span to one, and
 * the transport's work per batch is small (bench/export-cost.mjs).
 */
export function createSpanExporter(options: SpanExporterOptions): SpanExporter {
  const version = options.scopeVersion ?? packageVersion();
  const timeout = Number.isFinite(options.otlp.timeout) && options.otlp.timeout > 0 ? options.otlp.timeout : DEFAULT_OTLP_TIMEOUT_MS;
  const protocol = options.otlp.protocol ?? 'grpc';
  const tls = tlsFilesFromEnv();
  const common = {
    headers: { ...(options.otlp.headers ?? {}) },
    timeout,
    gzip: options.otlp.compression === 'gzip',
    userAgent: `tracecar/${version}`,
    tls,
  };
  const transport: Transport =
    protocol === 'grpc'
      ? createGrpcTransport({ ...common, endpoint: options.otlp.endpoint })
      : createHttpTransport({ ...common, url: otlpTracesUrl(options.otlp.endpoint, protocol), json: protocol === 'http/json' });
  const format = new BatchFormat(protocol === 'http/json', { serviceName: options.resource.serviceName, attributes: options.resource.attributes }, version);
  const queue = new SpanQueue(transport, {
    maxQueueSize: options.maxQueueSize,
    maxExportBatchSize: options.maxExportBatchSize,
    scheduledDelay: options.scheduledDelay,
    exportTimeout: timeout + EXPORT_WATCHDOG_GRACE_MS,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    random: options.random ?? Math.random,
    onError: options.onError,
    onRecovered: options.onRecovered,
  });
  for (const problem of tls.problems) {
    options.onError?.(tracecarError('TRC_ERR_EXPORT', `OTLP TLS setting ignored: ${problem}`));
  }

  return {
    spanEnded: (span: FinishedSpan) => {
      const batch = queue.begin(format.frameOfFinished(span.resource));
      if (batch === undefined) return;
      const pos = batch.w.pos;
      try {
        format.appendFinished(batch, span);
      } catch {
        queue.abandon(batch, pos);
        return;
      }
      queue.commit(batch);
    },
    enqueue: (record: SpanRecord) => {
      let batch;
      try {
        batch = queue.begin(format.frameOfRecord(record));
      } catch {
        return;
      }
      if (batch === undefined) return;
      const pos = batch.w.pos;
      try {
        format.appendRecord(batch, record);
      } catch {
        queue.abandon(batch, pos);
        return;
      }
      queue.commit(batch);
    },
    forceFlush: () => queue.forceFlush(),
    shutdown: (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) => queue.shutdown(timeoutMs),
    stats: () => queue.stats(),
  };
}

/** tracecar's version for the instrumentation scope; package.json is three levels up (src|dist/telemetry/export/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
