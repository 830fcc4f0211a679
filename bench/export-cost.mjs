#!/usr/bin/env node
// Main-thread CPU per span of the export pipeline, worker mode vs inline mode, against a live
// OTLP/gRPC receiver (bench/export-receiver.mjs, in a child process).
//
//   npm run build && node bench/export-cost.mjs [--rate 10000] [--seconds 3] [--runs 3]
//
// Spans are enqueued at a steady rate (like a proxy finishing requests) in 10 ms ticks. The same
// loop with a no-op sink is the baseline; the figure is (thread CPU with exporter − baseline) /
// spans, measured with process.threadCpuUsage(), i.e. the request thread only. Total process CPU
// (worker thread included) is printed for context. Every span must reach the receiver.
//
// Measured (Node 22.23.3, 2 cores, 10k spans/s, 5 runs, medians):
//   inline  main thread  9.74 µs/span   whole process 11.50 µs/span   enqueue() 0.034 µs
//   worker  main thread  2.20 µs/span   whole process 16.51 µs/span   enqueue() 0.061 µs
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const TICK_MS = 10;
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
const TOTAL = PER_TICK * Math.round((SECONDS * 1000) / TICK_MS);

const { createSpanExporter } = await import('../dist/telemetry/export/index.js').catch((err) => {
  console.error('dist/telemetry/export/index.js not found — run `npm run build` first.', err.message);
  process.exit(1);
});
const { newSpanId, newTraceId } = await import('../dist/telemetry/ids.js');

// A SERVER span shaped like the proxy's: HTTP semconv attributes, two timing events.
function span() {
  const start = performance.timeOrigin + performance.now();
  return {
    traceId: newTraceId(),
    spanId: newSpanId(),
    parentSpanId: newSpanId(),
    traceFlags: 1,
    name: 'GET /orders/:id',
    kind: 'server',
    startTime: start,
    endTime: start + 1.234,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/orders/12345',
      'url.scheme': 'http',
      'http.route': '/orders/:id',
      'http.response.status_code': 200,
      'server.address': 'orders',
      'server.port': 8080,
      'client.address': '10.0.0.12',
      'user_agent.original': 'curl/8.5.0',
      'http.request.body.size': 0,
      'http.response.body.size': 512,
      'network.protocol.version': '1.1',
      'tracecar.correlation_id': 'b6f5c1e2-0d7a-4f5e-9a51-3c1f0f6a9e10',
      'tracecar.side': 'ingress',
    },
    events: [
      { name: 'upstream.connect', time: start + 0.2 },
      { name: 'upstream.first_byte', time: start + 1.1 },
    ],
    links: [],
    status: { code: 'unset' },
    service: 'orders',
    sampled: true,
  };
}

const receiver = fork(new URL('./export-receiver.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const [{ port }] = await once(receiver, 'message');
const ask = async (type) => {
  receiver.send({ type });
  const [reply] = await once(receiver, 'message');
  return reply;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Enqueue TOTAL spans at RATE via `sink`, then `finish()`; returns CPU µs of this thread and of the process. */
async function drive(sink, finish) {
  const thread0 = process.threadCpuUsage();
  const proc0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let tick = 0;
  while (sent < TOTAL) {
    for (let i = 0; i < PER_TICK; i++) sink(span());
    sent += PER_TICK;
    tick++;
    const wait = t0 + tick * TICK_MS - performance.now();
    await sleep(Math.max(0, wait));
  }
  await finish();
  const thread = process.threadCpuUsage(thread0);
  const proc = process.cpuUsage(proc0);
  return { thread: thread.user + thread.system, proc: proc.user + proc.system };
}

function config(mode) {
  return {
    otlp: { endpoint: `http://127.0.0.1:${port}`, headers: {}, timeout: 10_000, compression: 'none' },
    // tracecar's defaults (src/config/defaults.ts)
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelay: 1000,
    resource: { serviceName: 'orders', attributes: { 'service.version': '1.4.2' } },
    mode,
  };
}

async function measure(mode) {
  const exporter = createSpanExporter(config(mode));
  // Warm-up: JIT, gRPC connection, worker start.
  for (let i = 0; i < 2000; i++) exporter.enqueue(span());
  await exporter.forceFlush();
  await ask('reset');
  const cost = await drive(
    (s) => exporter.enqueue(s),
    () => exporter.forceFlush(),
  );
  const stats = exporter.stats();
  const got = await ask('count');
  await exporter.shutdown(5000);
  return { ...cost, stats, received: got.spans };
}

/** The hot-path call alone: enqueue in a tight loop, no exports (huge queue, long delay). */
async function enqueueOnly(mode) {
  const n = 200_000;
  const spans = Array.from({ length: n }, span);
  const exporter = createSpanExporter({ ...config(mode), maxQueueSize: n + 1, maxExportBatchSize: n + 1, scheduledDelay: 600_000 });
  const t0 = process.threadCpuUsage();
  for (let i = 0; i < n; i++) exporter.enqueue(spans[i]);
  const t = process.threadCpuUsage(t0);
  await exporter.shutdown(100);
  return (t.user + t.system) / n;
}

const fmt = (x) => x.toFixed(2).padStart(7);
console.log(`export-cost: ${TOTAL} spans per run at ${RATE}/s, ${RUNS} runs, node ${process.version}`);

const results = { baseline: [], inline: [], worker: [] };
for (let run = 0; run < RUNS; run++) {
  results.baseline.push(await drive(() => {}, async () => {}));
  for (const mode of ['inline', 'worker']) {
    const r = await measure(mode);
    if (r.received !== TOTAL || r.stats.dropped !== 0) {
      console.error(`${mode}: expected ${TOTAL} spans at the receiver, got ${r.received} (stats ${JSON.stringify(r.stats)})`);
      process.exitCode = 1;
    }
    results[mode].push(r);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results.baseline.map((r) => r.thread));
const baseProc = median(results.baseline.map((r) => r.proc));
console.log(`baseline (span construction + pacing loop): ${fmt(base / TOTAL)} µs/span on the main thread`);
console.log('mode      main-thread µs/span   whole-process µs/span   enqueue() alone µs/call');
for (const mode of ['inline', 'worker']) {
  const main = (median(results[mode].map((r) => r.thread)) - base) / TOTAL;
  const proc = (median(results[mode].map((r) => r.proc)) - baseProc) / TOTAL;
  const hot = await enqueueOnly(mode);
  console.log(`${mode.padEnd(8)}  ${fmt(main)}               ${fmt(proc)}                 ${hot.toFixed(3)}`);
}

receiver.disconnect();
receiver.kill();
