// A live OTLP/gRPC trace receiver (the sink) for bench/run.mjs and bench/export-cost.mjs, run as a
// child process so its decoding CPU is not charged to the process being measured. Decodes every
// request with the official generated protobuf code and counts spans, in total and per resource
// service.name (each bench row exports under its own name). Protocol (IPC): sends {port} once
// bound ({error} if it could not bind); answers {type:'count'} with {spans, requests, byService: {name: spans}, errorsByService:
// {name: spans with status ERROR}}.
import * as grpc from '@grpc/grpc-js';
import { serviceName, traceServiceDefinition } from '../scripts/lib/otlp-trace-service.mjs';

let spans = 0;
let requests = 0;
let byService = {};
let errorsByService = {};
const STATUS_CODE_ERROR = 2;

const server = new grpc.Server();
server.addService(
  traceServiceDefinition,
  {
    Export: (call, callback) => {
      requests++;
      for (const rs of call.request.resourceSpans ?? []) {
        let n = 0;
        let errors = 0;
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) if (span.status?.code === STATUS_CODE_ERROR) errors++;
          n += ss.spans?.length ?? 0;
        }
        const name = serviceName(rs.resource);
        byService[name] = (byService[name] ?? 0) + n;
        if (errors) errorsByService[name] = (errorsByService[name] ?? 0) + errors;
        spans += n;
      }
      callback(null, {});
    },
  },
);

// argv[2]: a port to bind (bench/collector-restart.mjs restarts the receiver where the exporter expects it).
server.bindAsync(`127.0.0.1:${Number(process.argv[2] ?? 0)}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.send?.({ error: err.message });
    process.exit(1);
  }
  process.send?.({ port });
});

process.on('message', (msg) => {
  if (msg?.type === 'count') process.send?.({ spans, requests, byService, errorsByService });
  if (msg?.type === 'reset') {
    spans = 0;
    requests = 0;
    byService = {};
    errorsByService = {};
    process.send?.({ reset: true });
  }
});
process.on('disconnect', () => server.forceShutdown());
