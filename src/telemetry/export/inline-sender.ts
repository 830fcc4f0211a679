/**
 * The batch sender that converts, encodes and exports on the calling thread. Used directly in
 * "inline" mode, and inside the export worker in "worker" mode.
 */
import { createSpanConverter } from './convert.js';
import type { BatchSender, ExportBackendOptions } from './types.js';
import { createOtlpTraceExporter, exportOnce } from './otlp-exporter.js';

export function createInlineSender(options: ExportBackendOptions): BatchSender {
  const exporter = createOtlpTraceExporter(options.otlp);
  const convert = createSpanConverter(options.resource, options.scopeVersion);
  return {
    async send(batch) {
      await exportOnce(exporter, batch.map(convert));
    },
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      try {
        await Promise.race([exporter.shutdown(), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
