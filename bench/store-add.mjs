#!/usr/bin/env node
// The admin trace store's costs, reported, never asserted (a busy machine breaks any bound):
//
//   1. span end → store (spanEnded), the call every finished span makes when the viewer store is
//      on: a Hop shaped like a proxied GET, its OTLP encoding (shared with the exporter when both
//      are on) and the insert, into a store capped at 1000 traces (so most adds also evict).
//   2. add(record), the path of spans received over OTLP: 1000 six-span traces (SERVER/CLIENT
//      pairs across three services) added 17 times over with fresh trace ids.
//   3. Whether stats().bytes is what the store really holds: 100k one-span traces, V8's heap and
//      ArrayBuffers (the store's slabs) before and after (with gc), against the byte count the
//      budget uses.
//
//   npm run build && node bench/store-add.mjs [--runs 5]
//
// Measured (Node 22.23.5, 2 shared cores, 5 runs, medians): spanEnded 0.95 µs (encode 0.62 of
// it), add(record) 1.9 µs; heap growth / stats().bytes ≈ 1.0.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const ROUNDS = 17;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const load = (path) =>
  import(path).catch((err) => {
    console.error(`${path} not found — run \`npm run build\` first.`, err.message);
    process.exit(1);
  });
const { createTraceStore } = await load('../dist/telemetry/store.js');
const { FinishedSpan } = await load('../dist/telemetry/finish.js');
const { RESOURCE, benchHop: hop } = await load('./lib/hops.mjs');

const hex = (bytes) => randomBytes(bytes).toString('hex');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const resource = RESOURCE;


// 1. spanEnded, and the encoding alone.
{
  const hops = Array.from({ length: 20_000 }, hop);
  const finished = new FinishedSpan();
  const perAdd = [];
  const perEncode = [];
  for (let run = 0; run < RUNS; run++) {
    const store = createTraceStore({ maxTraces: 1000, maxBytes: 64 * 1024 * 1024 });
    let t0 = performance.now();
    for (const h of hops) {
      finished.reset(h, resource);
      store.spanEnded(finished);
    }
    perAdd.push(((performance.now() - t0) * 1000) / hops.length);
    t0 = performance.now();
    for (const h of hops) {
      finished.reset(h, resource);
      finished.protobuf();
    }
    perEncode.push(((performance.now() - t0) * 1000) / hops.length);
    if (store.stats().traces !== 1000) throw new Error(`expected 1000 traces kept, got ${store.stats().traces}`);
  }
  console.log(`spanEnded: median ${median(perAdd).toFixed(2)} µs per span (of which OTLP encoding ${median(perEncode).toFixed(2)} µs)`);
}

// 2. add(record).
{
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
    perAdd.push(((performance.now() - t0) * 1000) / adds);
    if (store.stats().traces !== 1000) throw new Error(`expected 1000 traces kept, got ${store.stats().traces}`);
  }
  console.log(`add(record): median ${median(perAdd).toFixed(2)} µs per span (${adds} adds per run)`);
}

// 3. Real heap vs stats().bytes.
{
  const N = 100_000;
  const finished = new FinishedSpan();
  gc();
  gc();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers; // the store's slabs are ArrayBuffers, off the V8 heap
  };
  const before = mem();
  const store = createTraceStore({ maxTraces: N, maxBytes: 4 * 1024 * 1024 * 1024 });
  for (let i = 0; i < N; i++) {
    // Each Hop dies after its span ended; what the store keeps of it stays.
    finished.reset(hop(), resource);
    store.spanEnded(finished);
  }
  finished.reset(hop(), resource);
  gc();
  gc();
  const held = mem() - before;
  const counted = store.stats().bytes;
  console.log(
    `memory: ${N} one-span traces hold ${(held / N).toFixed(0)} B each (V8 heap + ArrayBuffers); stats().bytes counts ${(counted / N).toFixed(0)} B each (ratio ${(held / counted).toFixed(2)})`,
  );
  if (store.stats().traces !== N) throw new Error('store lost traces');
}
console.log(`(node ${process.version}, ${RUNS} runs)`);
