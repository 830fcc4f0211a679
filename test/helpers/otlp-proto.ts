/**
 * The protobufjs code opentelemetry-js generated from the official opentelemetry-proto definitions
 * (shipped by @opentelemetry/otlp-transformer 0.52.x, installed as the alias `otlp-proto-0.52`),
 * typed only as far as the tests read it. An encoder/decoder independent of tracecar's own.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface LongLike {
  toString(): string;
}
export interface ProtoAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | LongLike;
  doubleValue?: number;
  arrayValue?: { values?: ProtoAnyValue[] };
  kvlistValue?: { values?: ProtoKeyValue[] };
  bytesValue?: Uint8Array;
}
export interface ProtoKeyValue {
  key: string;
  value?: ProtoAnyValue;
}
export interface ProtoEvent {
  timeUnixNano: number | LongLike;
  name: string;
  attributes?: ProtoKeyValue[];
}
export interface ProtoLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  attributes?: ProtoKeyValue[];
}
export interface ProtoSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: number | LongLike;
  endTimeUnixNano: number | LongLike;
  attributes?: ProtoKeyValue[];
  events?: ProtoEvent[];
  links?: ProtoLink[];
  status?: { code?: number; message?: string };
}
export interface ProtoRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: ProtoKeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string; version?: string }; spans?: ProtoSpan[] }>;
  }>;
}
export interface ProtoResponse {
  partialSuccess?: { rejectedSpans?: number | LongLike; errorMessage?: string };
}
export interface MessageType<T> {
  decode(data: Uint8Array): T;
  /** Takes plain objects; 64-bit fields as number, decimal string or Long; bytes as Uint8Array. */
  encode(message: object): { finish(): Uint8Array };
  create(properties?: object): object;
  /** A plain object; `options` as protobufjs' IConversionOptions (longs, enums, bytes, defaults, ...). */
  toObject(message: T, options?: object): object;
}
interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: MessageType<ProtoRequest>;
            ExportTraceServiceResponse: MessageType<ProtoResponse>;
          };
        };
      };
    };
  };
}

const root = require('otlp-proto-0.52/build/src/generated/root.js') as GeneratedRoot;
export const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;
