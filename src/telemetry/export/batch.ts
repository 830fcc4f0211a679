/**
 * Batches: the spans of one future export request, encoded as they end into one growable buffer
 * behind free room for the request header (RequestFrame / the JSON head), so sealing a batch
 * writes the header in place and the request body is a view of that buffer — no copy, no
 * per-span object kept. One batch holds spans of one resource and scope.
 */
import { toSpanRecord, type ResourceInfo } from '../hop.js';
import type { FinishedSpan } from '../finish.js';
import { encodeResource, encodeScope, SpanEncoder } from '../otlp/encode.js';
import { requestJsonFrame, spanJson } from '../otlp/json.js';
import { RequestFrame } from '../otlp/request.js';
import { ProtoWriter } from '../otlp/writer.js';
import type { Attributes, SpanRecord } from '../span.js';

/** How the request around a batch's spans is written. */
export interface Frame {
  /** Free bytes kept in front of the spans. */
  readonly headroom: number;
  /** Writes header (and trailer) around the spans; returns the request body. */
  seal(batch: Batch): Buffer;
}

export class Batch {
  readonly spansStart: number;
  count = 0;
  /** The request body, once sealed. */
  body: Buffer | undefined;
  /** Position in the queue's order (forceFlush waits by it). */
  seq = 0;
  attempts = 0;
  /** When the first attempt failed (0: none failed yet). */
  firstFailure = 0;

  constructor(
    readonly frame: Frame,
    readonly w: ProtoWriter,
  ) {
    w.pos = frame.headroom;
    this.spansStart = w.pos;
  }

  seal(): Buffer {
    this.body ??= this.frame.seal(this);
    return this.body;
  }
}

class ProtobufFrame implements Frame {
  readonly headroom: number;
  private readonly request: RequestFrame;
  constructor(resource: Attributes, scopeName: string, scopeVersion: string | undefined) {
    this.request = new RequestFrame(encodeResource(resource), encodeScope(scopeName, scopeVersion));
    this.headroom = this.request.headroom;
  }
  seal(batch: Batch): Buffer {
    const w = batch.w;
    const start = this.request.writeHeader(w.buf, batch.spansStart, w.pos - batch.spansStart);
    return w.buf.subarray(start, w.pos);
  }
}

class JsonFrame implements Frame {
  readonly headroom: number;
  private readonly head: Buffer;
  private readonly tail: Buffer;
  constructor(resource: Attributes, scopeName: string, scopeVersion: string | undefined) {
    const { head, tail } = requestJsonFrame(resource, scopeVersion ? { name: scopeName, version: scopeVersion } : { name: scopeName });
    this.head = Buffer.from(head);
    this.tail = Buffer.from(tail);
    this.headroom = this.head.length;
  }
  seal(batch: Batch): Buffer {
    const w = batch.w;
    this.head.copy(w.buf, batch.spansStart - this.head.length);
    w.raw(this.tail);
    return w.buf.subarray(batch.spansStart - this.head.length, w.pos);
  }
}

/** Resource attributes an exporter sends: who produced the spans (tracecar, on Node), then the service's own. */
export function telemetryInfo(version: string): Attributes {
  return {
    'telemetry.sdk.name': 'tracecar',
    'process.runtime.name': 'node',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': version,
  };
}

/** Distinct record resources remembered; beyond this, unusual resources get a frame per batch. */
const MAX_CACHED_FRAMES = 64;

/**
 * The wire format of a queue's batches (protobuf for grpc and http/protobuf, JSON for http/json):
 * frames per resource, and how a span is appended.
 */
export class BatchFormat {
  private readonly frames = new WeakMap<ResourceInfo, Frame>();
  private readonly recordFrames = new Map<string, Frame>();
  private readonly scratch = new SpanEncoder(new ProtoWriter(4096));
  private readonly info: Attributes;

  constructor(
    readonly json: boolean,
    /** The exporter's own resource: records without one (or with this service) get its attributes. */
    private readonly base: { serviceName: string; attributes: Attributes },
    private readonly scopeVersion: string,
  ) {
    this.info = telemetryInfo(scopeVersion);
  }

  private frame(resource: Attributes, scope: string, version: string | undefined): Frame {
    return this.json ? new JsonFrame(resource, scope, version) : new ProtobufFrame(resource, scope, version);
  }

  /** The frame of a finished span's config version (its Runtime's ResourceInfo, one per reload). */
  frameOfFinished(resource: ResourceInfo): Frame {
    let f = this.frames.get(resource);
    if (f === undefined) {
      f = this.frame({ ...this.info, ...resource.resource, 'service.name': resource.service }, 'tracecar', this.scopeVersion);
      this.frames.set(resource, f);
    }
    return f;
  }

  frameOfRecord(record: SpanRecord): Frame {
    const service = record.service || this.base.serviceName;
    const scope = record.scope ?? 'tracecar';
    const key = `${service}\n${scope}\n${record.resource === undefined ? '' : JSON.stringify(record.resource)}`;
    let f = this.recordFrames.get(key);
    if (f === undefined) {
      const attributes = { ...this.info, ...this.base.attributes, ...record.resource, 'service.name': service };
      f = this.frame(attributes, scope, scope === 'tracecar' ? this.scopeVersion : undefined);
      if (this.recordFrames.size < MAX_CACHED_FRAMES) this.recordFrames.set(key, f);
    }
    return f;
  }

  appendFinished(batch: Batch, span: FinishedSpan): void {
    if (this.json) {
      this.appendJson(batch, spanJson(toSpanRecord(span.hop, span.resource)));
      return;
    }
    const encoded = span.protobuf();
    const w = batch.w;
    w.ensure(encoded.pos);
    encoded.buf.copy(w.buf, w.pos, 0, encoded.pos);
    w.pos += encoded.pos;
  }

  appendRecord(batch: Batch, record: SpanRecord): void {
    if (this.json) {
      this.appendJson(batch, spanJson(record));
      return;
    }
    const scratch = this.scratch;
    scratch.w.pos = 0;
    scratch.record(record);
    batch.w.raw(scratch.w.view());
  }

  private appendJson(batch: Batch, json: string): void {
    const w = batch.w;
    const len = Buffer.byteLength(json);
    w.ensure(len + 1);
    if (batch.count > 0) w.buf[w.pos++] = 0x2c; // ","
    w.pos += w.buf.write(json, w.pos, len, 'utf8');
  }
}
