// The OTLP/gRPC TraceService as a grpc-js service definition, decoding with the official generated
// protobuf code (the otlp-proto-0.52 devDependency): shared by the sinks of the hardening scripts
// (scripts/lib/otlp-sink.mjs) and the bench (bench/export-receiver.mjs).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-0.52/build/src/generated/root.js');
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;

/** Pass to `server.addService(traceServiceDefinition, { Export(call, callback) { … } })`. */
export const traceServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(ExportTraceServiceRequest.encode(m).finish()),
    requestDeserialize: (b) => ExportTraceServiceRequest.decode(b),
    responseSerialize: (m) => Buffer.from(ExportTraceServiceResponse.encode(m).finish()),
    responseDeserialize: (b) => ExportTraceServiceResponse.decode(b),
  },
};

/** A decoded Resource's service.name ('' when absent). */
export function serviceName(resource) {
  for (const kv of resource?.attributes ?? []) if (kv.key === 'service.name') return kv.value?.stringValue ?? '';
  return '';
}
