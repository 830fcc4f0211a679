/** Starts a real admin server on 127.0.0.1:0 for tests, with a real store and metrics. */
import { createAdminServer, type AdminServer, type AdminServerOptions } from '../../src/admin/server.js';
import { createMetrics, type Metrics } from '../../src/admin/metrics.js';
import { createTraceStore, type TraceStore } from '../../src/telemetry/store.js';
import { listenOn } from '../../src/proxy/listen.js';

export interface TestAdmin {
  server: AdminServer;
  store: TraceStore;
  metrics: Metrics;
  url: string;
  port: number;
  readiness: { ready: boolean; reason?: string };
  close(): Promise<void>;
}

export async function startTestAdmin(overrides: Partial<AdminServerOptions> & { maxTraces?: number; maxBytes?: number } = {}): Promise<TestAdmin> {
  const store = overrides.store ?? createTraceStore({ maxTraces: overrides.maxTraces ?? 1000, maxBytes: overrides.maxBytes ?? 64 * 1024 * 1024 });
  const metrics = overrides.metrics ?? createMetrics();
  const readiness: { ready: boolean; reason?: string } = { ready: true };
  const server = createAdminServer({
    store,
    metrics,
    config: () => ({ service: { name: 'orders' }, export: { otlp: { headers: { authorization: 'REDACTED' } } } }),
    readiness: () => readiness,
    receiveOtlp: true,
    viewer: true,
    serviceName: 'orders',
    ...overrides,
  });
  await listenOn(server.server, 'admin', '127.0.0.1', 0, '');
  const addr = server.address()!;
  return { server, store, metrics, url: addr.url, port: addr.port, readiness, close: () => server.close() };
}
