import type { Hop, ResourceInfo } from './hop.js';
import { nowMs } from './span.js';
import type { AccessLog } from './access-log.js';
import { SpanEncoder } from './otlp/encode.js';
import type { ProtoWriter } from './otlp/writer.js';
import { tailKeep } from '../sampling/index.js';
import type { SamplingConfig } from '../config/types.js';

/**
 * A span that just ended and leaves the process, as sinks see it: the Hop and the resource of the
 * config version it ran under. Each sink takes what it needs; the OTLP protobuf encoding is made
 * at most once per span, on the first sink's request, and shared. One instance per finisher,
 * reused for every span: a sink must not keep it (nor the writer protobuf() returns) after its call.
 */
export class FinishedSpan {
  hop!: Hop;
  resource!: ResourceInfo;
  private readonly encoder = new SpanEncoder();
  private encoded = false;

  /** @internal the finisher's reset before each span */
  reset(hop: Hop, resource: ResourceInfo): void {
    this.hop = hop;
    this.resource = resource;
    this.encoded = false;
  }

  /**
   * The span as OTLP protobuf: bytes [0, pos) of the returned writer's `buf` hold a ScopeSpans
   * `spans` field (tag, length, Span message), valid until the next span ends.
   */
  protobuf(): ProtoWriter {
    const encoder = this.encoder;
    if (!this.encoded) {
      encoder.w.pos = 0;
      encoder.hop(this.hop);
      this.encoded = true;
    }
    return encoder.w;
  }
}

/** Where finished spans go. Each sink must be O(span) and must not throw (export is queued). */
export interface SpanSink {
  spanEnded(span: FinishedSpan): void;
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
 * Span end: apply the tail-keep rule, hand the span to the sinks only if it leaves the process,
 * write the access line, count the request.
 */
export function createFinisher(deps: FinishDeps): (hop: Hop, rt: FinishContext) => void {
  const sinks = deps.sinks;
  const finished = new FinishedSpan();
  return (hop, rt) => {
    if (hop.endTime === 0) hop.endTime = nowMs();
    if (!hop.sampled) hop.keptBy = tailKeep(rt.config.sampling.keep, { error: hop.isError, durationMs: hop.durationMs });
    // With no sink (no exporter, no admin store) nothing is built: only the log line remains.
    if ((hop.sampled || hop.keptBy !== null) && sinks.length > 0) {
      finished.reset(hop, rt.resource);
      for (let i = 0; i < sinks.length; i++) {
        try {
          sinks[i]!.spanEnded(finished);
        } catch {
          // A sink failure must never fail or slow the request that produced the span.
        }
      }
    }
    deps.accessLog.write(hop);
    deps.requestFinished?.(hop);
  };
}
