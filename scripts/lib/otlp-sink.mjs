// An OTLP/gRPC trace sink for the hardening scripts (reload-under-load, soak): decodes every
// Export with the official generated protobuf code (the otlp-proto-0.52 devDependency) and keeps
// each span's trace id and resource service.name, so a script can check every request's span.
import * as grpc from '@grpc/grpc-js';
import { serviceName, traceServiceDefinition } from './otlp-trace-service.mjs';

/**
 * Starts the sink on 127.0.0.1 (a free port). `keep`: record trace id → service for each span
 * (off for long runs that only count). Resolves to { endpoint, count(), services, close() }.
 */
export async function startOtlpSink({ keep = true } = {}) {
  let count = 0;
  /** trace id (hex) → service.name of its spans */
  const services = new Map();
  const server = new grpc.Server();
  server.addService(
    traceServiceDefinition,
    {
      Export: (call, callback) => {
        for (const rs of call.request.resourceSpans ?? []) {
          const name = serviceName(rs.resource);
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              count++;
              if (keep) services.set(Buffer.from(span.traceId).toString('hex'), name);
            }
          }
        }
        callback(null, {});
      },
    },
  );
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: () => count,
    services,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
