import type { Hop, ResourceInfo } from './hop.js';
import { toSpanRecord } from './hop.js';
import { nowMs, type SpanRecord } from './span.js';
import type { AccessLog } from './access-log.js';
import { tailKeep } from '../sampling/index.js';
import type { SamplingConfig } from '../config/types.js';

/** Where finished spans go. Each sink must be O(1) and must not throw (export is queued). */
export interface SpanSink {
  add(span: SpanRecord): void;
}

/** What span end reads from the config version the request ran under (the pipeline's Runtime fits). */
export interface FinishContext {
  readonly config: { readonly sampling: { readonly keep: SamplingConfig['keep'] } };
  readonly resource: ResourceInfo;
}

export interface FinishDeps {
  sinks: SpanSink[];
  accessLog: AccessLog;
  requestFinished?(hop: Hop): void;
}

/**
 * Span end: apply the tail-keep rule, build the span only if it leaves the process,
 * fan it out to the sinks, write the access line, count the request.
 */
export function createFinisher(deps: FinishDeps): (hop: Hop, rt: FinishContext) => void {
  return (hop, rt) => {
    if (hop.endTime === 0) hop.endTime = nowMs();
    if (!hop.sampled) hop.keptBy = tailKeep(rt.config.sampling.keep, { error: hop.isError, durationMs: hop.durationMs });
    // With no sink (no exporter, no admin store) the span is never built: only the log line remains.
    if ((hop.sampled || hop.keptBy !== null) && deps.sinks.length > 0) {
      const span = toSpanRecord(hop, rt.resource);
      for (const sink of deps.sinks) {
        try {
          sink.add(span);
        } catch {
          // A sink failure must never fail or slow the request that produced the span.
        }
      }
    }
    deps.accessLog.write(hop);
    deps.requestFinished?.(hop);
  };
}
