/**
 * Where finished spans go, built once from the config: the OTLP exporter (when an endpoint is
 * set), the admin trace store (when the admin listener is on), the access log. Two span ends:
 * one for requests (access line, then the caller's request accounting) and one for spans that
 * are not requests (a WebSocket's connection span: sinks only).
 */
import type { TracecarConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createAccessLog } from './access-log.js';
import { createSpanExporter, type SpanExporter } from './export/index.js';
import { createFinisher, type FinishContext, type SpanSink } from './finish.js';
import type { Hop, ResourceInfo } from './hop.js';
import { createTraceStore, type TraceStore } from './store.js';

export interface TelemetrySinks {
  readonly exporter: SpanExporter | undefined;
  readonly store: TraceStore;
  /** Span end of a request: tail rule, sinks, access line, then `requestFinished`. */
  finishRequest(hop: Hop, ctx: FinishContext): void;
  /** Span end of a span that is not a request: tail rule and sinks only. */
  exportSpan(hop: Hop, ctx: FinishContext): void;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

export interface TelemetrySinksOptions {
  logger: Logger;
  /** Access log format, already resolved from export.console ("auto" → pretty on a TTY). */
  accessLog: 'pretty' | 'json' | 'off';
  /** Colour in pretty access lines. */
  color: boolean;
  /** The viewer's link to a trace, once the viewer listens (pretty access lines show it). */
  traceLink(traceId: string): string | undefined;
  resource: ResourceInfo;
  /** After a request's span ended (metrics, drain accounting). */
  requestFinished(hop: Hop): void;
}

/** How long shutdown waits for the last export. */
const EXPORT_SHUTDOWN_MS = 5_000;

export function createTelemetrySinks(config: TracecarConfig, options: TelemetrySinksOptions): TelemetrySinks {
  const { logger } = options;
  const exporter = config.export.otlp.endpoint
    ? createSpanExporter({
        otlp: config.export.otlp,
        maxQueueSize: config.export.maxQueueSize,
        maxExportBatchSize: config.export.maxExportBatchSize,
        scheduledDelay: config.export.scheduledDelay,
        retry: config.export.retry,
        resource: { serviceName: config.service.name, attributes: options.resource.resource as Record<string, string> },
        onError: (err) => {
          const { code, hint } = err as { code?: string; hint?: string };
          logger.warn({ code, err: err.message, ...(hint ? { hint } : {}) }, code === 'TRC_ERR_EXPORT_QUEUE_FULL' ? 'span queue full: spans dropped' : 'span export failed');
        },
        onRecovered: (message, fields) => logger.info(fields, message),
      })
    : undefined;
  const store = createTraceStore(config.admin.store);

  const sinks: SpanSink[] = [];
  if (exporter) sinks.push(exporter);
  if (config.admin.listen !== null) sinks.push(store);

  // A terminal line links to its trace only if the store took it (over admin.store.maxSpansPerSecond
  // it skips some): a link to a trace the viewer does not have would open on "not in the store".
  const storedTraceLink = (traceId: string): string | undefined => (store.has(traceId) ? options.traceLink(traceId) : undefined);
  const accessLog = createAccessLog(logger, options.accessLog, storedTraceLink, options.color);
  return {
    exporter,
    store,
    finishRequest: createFinisher({ sinks, accessLog, requestFinished: options.requestFinished }),
    exportSpan: createFinisher({ sinks, accessLog: { write() {} } }),
    shutdown: async () => {
      await exporter?.shutdown(EXPORT_SHUTDOWN_MS);
    },
  };
}
