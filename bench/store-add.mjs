#!/usr/bin/env node
// Cost of TraceStore.add(), the call every finished span makes when the viewer store is on: 1000
// six-span traces (SERVER/CLIENT pairs across three services, HTTP semconv attributes) added 17
// times over with fresh trace ids into a store capped at 1000 traces, so most adds also evict.
// This was a test with a wall-clock bound; it lives here because a busy machine can break any
// such bound. Reported, never asserted.
//
//   npm run build && node bench/store-add.mjs [--runs 5]
//
// Measured (Node 22.23.5, 2 shared cores, 5 runs): median ≈ 0.2 µs per add (102 000 adds ≈ 20 ms);
// the first run, before the JIT warms up, ≈ 0.6 µs.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const ROUNDS = 17;

const { createTraceStore } = await import('../dist/telemetry/store.js').catch((err) => {
  console.error('dist/telemetry/store.js not found — run `npm run build` first.', err.message);
  process.exit(1);
});

const hex = (bytes) => randomBytes(bytes).toString('hex');

function span(traceId, parent, service, kind, method, route, start, durationMs, status) {
  return {
    traceId,
    spanId: hex(8),
    parentSpanId: parent?.spanId,
    traceFlags: 1,
    name: `${method} ${route}`,
    kind,
    startTime: start,
    endTime: start + durationMs,
    attributes: {
      'http.request.method': method,
      'url.path': route.replace(':id', '42'),
      'http.route': route,
      'http.response.status_code': status,
      'tracecar.correlation_id': `req-${traceId.slice(0, 8)}`,
      ...(kind === 'client' ? { 'server.address': 'peer', 'server.port': 8080 } : {}),
    },
    events: [],
    links: [],
    status: { code: 'unset' },
    service,
    resource: { 'service.version': '1.4.2' },
    scope: 'tracecar',
    sampled: true,
  };
}

function trace() {
  const id = hex(16);
  const t = Date.now() - 2000;
  const s1 = span(id, undefined, 'frontend', 'server', 'POST', '/checkout', t, 120, 200);
  const c1 = span(id, s1, 'frontend', 'client', 'GET', '/orders/:id', t + 4, 100, 200);
  const s2 = span(id, c1, 'orders', 'server', 'GET', '/orders/:id', t + 6, 96, 200);
  const c2 = span(id, s2, 'orders', 'client', 'POST', '/payments', t + 10, 70, 200);
  const s3 = span(id, c2, 'payments', 'server', 'POST', '/payments', t + 12, 66, 200);
  const c3 = span(id, s2, 'orders', 'client', 'GET', '/stock/:id', t + 84, 10, 200);
  return [s3, c2, c3, s2, c1, s1];
}

const spans = Array.from({ length: 1000 }, trace).flat();
const rounds = Array.from({ length: ROUNDS }, (_, round) => spans.map((s) => ({ ...s, traceId: round.toString(16).padStart(4, '0') + s.traceId.slice(4) })));
const adds = ROUNDS * spans.length;

const perAdd = [];
for (let run = 0; run < RUNS; run++) {
  const store = createTraceStore({ maxTraces: 1000, maxBytes: 64 * 1024 * 1024 });
  const t0 = performance.now();
  for (const round of rounds) for (const s of round) store.add(s);
  const ms = performance.now() - t0;
  if (store.stats().traces !== 1000) throw new Error(`expected 1000 traces kept, got ${store.stats().traces}`);
  perAdd.push((ms * 1000) / adds);
  console.log(`run ${run + 1}: ${adds} adds in ${ms.toFixed(0)} ms, ${perAdd.at(-1).toFixed(2)} µs/add`);
}
perAdd.sort((a, b) => a - b);
console.log(`store-add: median ${perAdd[Math.floor(RUNS / 2)].toFixed(2)} µs per add (${RUNS} runs, node ${process.version})`);
