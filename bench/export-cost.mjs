#!/usr/bin/env node
// What a span costs after the response, on the thread that serves requests and in the whole
// process, against a live OTLP/gRPC receiver (bench/export-receiver.mjs, in a child process so
// its decoding is not charged here). Reported, never asserted.
//
//   npm run build && node bench/export-cost.mjs [--rate 10000] [--seconds 3] [--runs 5]
//
// 1. encode: OTLP protobuf encoding of one finished span (a Hop shaped like a proxied GET with
//    the bench's attributes and two events), µs per span, best and median of `runs` timed loops:
//      tracecar     FinishedSpan.protobuf(): telemetry/otlp (hand-written writer, straight from the Hop)
//      protobufjs   the same fields through protobufjs' Writer (fork/ldelim), for the record of
//                   why the writer is hand-written
//      sdk          what tracecar did before: toSpanRecord + ReadableSpan + the SDK's own serializer
//                   (@opentelemetry/otlp-transformer ProtobufTraceSerializer, per 512-span batch)
// 2. export: spans ended at `rate`/s in 10 ms ticks through tracecar's exporter (gRPC, default
//    queue settings) and through the SDK path it replaced (SDK OTLPTraceExporter fed the converted
//    spans in batches of 512); CPU per span of this thread and of the whole process, minus the
//    same loop with no exporter. Every span must reach the receiver.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const TICK_MS = 10;
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
const TOTAL = PER_TICK * Math.round((SECONDS * 1000) / TICK_MS);

const require = createRequire(import.meta.url);
const load = (path) =>
  import(path).catch((err) => {
    console.error(`${path} not found — run \`npm run build\` first.`, err.message);
    process.exit(1);
  });
const { createSpanExporter } = await load('../dist/telemetry/export/index.js');
const { FinishedSpan } = await load('../dist/telemetry/finish.js');
const { hopAttributes, hopStatus, hopTraceFlags, toSpanRecord } = await load('../dist/telemetry/hop.js');
const { RESOURCE, benchHop: hop } = await load('./lib/hops.mjs');
const { telemetryInfo } = await load('../dist/telemetry/export/batch.js');
const { SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { ExportResultCode, hrTimeDuration, millisToHrTime } = require('@opentelemetry/core');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const protobuf = require('protobufjs');



// ---- the SDK path tracecar used before: SpanRecord → ReadableSpan → ProtobufTraceSerializer ----
const sdkResource = resourceFromAttributes({ ...telemetryInfo('0.0.0'), ...RESOURCE.resource });
const sdkScope = { name: 'tracecar', version: '0.0.0' };
function readable(h) {
  const r = toSpanRecord(h, RESOURCE);
  const spanContext = { traceId: r.traceId, spanId: r.spanId, traceFlags: r.traceFlags, isRemote: false };
  const startTime = millisToHrTime(r.startTime);
  const endTime = millisToHrTime(r.endTime);
  return {
    name: r.name,
    kind: SpanKind.SERVER,
    spanContext: () => spanContext,
    parentSpanContext: r.parentSpanId ? { traceId: r.traceId, spanId: r.parentSpanId, traceFlags: r.traceFlags, isRemote: true } : undefined,
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: { code: r.status.code === 'error' ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, message: r.status.message },
    attributes: r.attributes,
    links: [],
    events: r.events.map((e) => ({ name: e.name, time: millisToHrTime(e.time), attributes: e.attributes })),
    ended: true,
    resource: sdkResource,
    instrumentationScope: sdkScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

// ---- the same fields through protobufjs' Writer ----
const hexBytes = (hex) => Buffer.from(hex, 'hex');
function fixed64Ms(w, ms) {
  // As ProtoWriter.timeMs: whole seconds and rounded nanoseconds, split so every product is exact.
  const rest = ms % 1000;
  const seconds = (ms - rest) / 1000;
  const nanos = Math.round(rest * 1e6);
  const sHigh = Math.floor(seconds / 0x10000);
  const a = sHigh * 1e9;
  const b = (seconds - sHigh * 0x10000) * 1e9 + nanos;
  const low = (a % 0x10000) * 0x10000 + (b % 0x100000000);
  const carry = low >= 0x100000000 ? 1 : 0;
  w.fixed32(low - carry * 0x100000000).fixed32(Math.floor(a / 0x10000) + Math.floor(b / 0x100000000) + carry);
}
class PbjsAttributes {
  constructor(w, field) {
    this.w = w;
    this.field = field;
  }
  str(key, value) {
    this.w.uint32((this.field << 3) | 2).fork().uint32(10).string(key).uint32(18).fork().uint32(10).string(value).ldelim().ldelim();
  }
  int(key, value) {
    this.w.uint32((this.field << 3) | 2).fork().uint32(10).string(key).uint32(18).fork().uint32(24).int64(value).ldelim().ldelim();
  }
  any(key, value) {
    this.str(key, String(value));
  }
}
function pbjsSpan(w, h) {
  w.uint32(18).fork();
  w.uint32(10).bytes(hexBytes(h.traceId)).uint32(18).bytes(hexBytes(h.spanId));
  if (h.parentSpanId) w.uint32(34).bytes(hexBytes(h.parentSpanId));
  w.uint32(42).string(h.name).uint32(48).int32(2);
  w.uint32(57);
  fixed64Ms(w, h.startTime);
  w.uint32(65);
  fixed64Ms(w, h.endTime);
  hopAttributes(h, new PbjsAttributes(w, 9));
  for (const e of h.events) {
    w.uint32(90).fork().uint32(9);
    fixed64Ms(w, e.time);
    w.uint32(18).string(e.name).ldelim();
  }
  const status = hopStatus(h);
  w.uint32(122).fork();
  if (status.message) w.uint32(18).string(status.message);
  w.uint32(24).int32(status.code === 'error' ? 2 : 0).ldelim();
  w.uint32(133).fixed32(hopTraceFlags(h) | 0x100);
  w.ldelim();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(2).padStart(6);

// ---- 1. encoding ----
if (!process.env.EXPORT_COST_SKIP_ENCODE) {
  const BATCH = 512;
  const hops = Array.from({ length: BATCH }, hop);
  const finished = new FinishedSpan();
  const variants = {
    tracecar: () => {
      let n = 0;
      for (const h of hops) {
        finished.reset(h, RESOURCE);
        n += finished.protobuf().pos;
      }
      return n;
    },
    protobufjs: () => {
      const w = protobuf.Writer.create();
      for (const h of hops) pbjsSpan(w, h);
      return w.finish().length;
    },
    sdk: () => ProtobufTraceSerializer.serializeRequest(hops.map(readable)).length,
  };
  const REPS = 40;
  const results = {};
  for (const name of Object.keys(variants)) results[name] = [];
  for (let run = 0; run < RUNS * 3; run++) {
    for (const [name, f] of Object.entries(variants)) {
      for (let i = 0; i < 5; i++) f(); // warm
      const t0 = process.threadCpuUsage();
      for (let i = 0; i < REPS; i++) f();
      const t = process.threadCpuUsage(t0);
      results[name].push((t.user + t.system) / (REPS * BATCH));
    }
  }
  console.log(`encode (µs per span, ${RUNS * 3} timed loops of ${REPS}×${BATCH} spans): best / median`);
  for (const [name, xs] of Object.entries(results)) console.log(`  ${name.padEnd(11)} ${fmt(Math.min(...xs))} / ${fmt(median(xs))}`);
}

// ---- 2. the whole export path ----
const receiver = fork(new URL('./export-receiver.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const [{ port }] = await once(receiver, 'message');
const ask = async (type) => {
  receiver.send({ type });
  const [reply] = await once(receiver, 'message');
  return reply;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const endpoint = `http://127.0.0.1:${port}`;

/** End TOTAL spans at RATE via `sink`, then `finish()`; CPU µs of this thread and of the process. */
async function drive(sink, finish) {
  const thread0 = process.threadCpuUsage();
  const proc0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let tick = 0;
  while (sent < TOTAL) {
    for (let i = 0; i < PER_TICK; i++) sink(hop());
    sent += PER_TICK;
    tick++;
    await sleep(Math.max(0, t0 + tick * TICK_MS - performance.now()));
  }
  await finish();
  const thread = process.threadCpuUsage(thread0);
  const proc = process.cpuUsage(proc0);
  return { thread: thread.user + thread.system, proc: proc.user + proc.system };
}

async function tracecarRun() {
  const exporter = createSpanExporter({
    otlp: { endpoint, protocol: 'grpc', headers: {}, timeout: 10_000, compression: 'none' },
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelay: 1000,
    resource: { serviceName: 'orders', attributes: RESOURCE.resource },
  });
  const finished = new FinishedSpan();
  const end = (h) => {
    finished.reset(h, RESOURCE);
    exporter.spanEnded(finished);
  };
  for (let i = 0; i < 2000; i++) end(hop());
  await exporter.forceFlush();
  await ask('reset');
  const cost = await drive(end, () => exporter.forceFlush());
  const got = await ask('count');
  const stats = exporter.stats();
  await exporter.shutdown(5000);
  return { ...cost, received: got.spans, dropped: stats.dropped };
}

async function sdkRun() {
  const exporter = new OTLPTraceExporter({ url: endpoint });
  let batch = [];
  const pending = new Set();
  const flush = () => {
    if (batch.length === 0) return;
    const spans = batch;
    batch = [];
    const p = new Promise((resolve) => exporter.export(spans, (r) => resolve(r.code === ExportResultCode.SUCCESS)));
    pending.add(p);
    p.then(() => pending.delete(p));
  };
  const end = (h) => {
    batch.push(readable(h));
    if (batch.length >= 512) flush();
  };
  for (let i = 0; i < 2000; i++) end(hop());
  flush();
  await Promise.all(pending);
  await ask('reset');
  const cost = await drive(end, async () => {
    flush();
    await Promise.all(pending);
  });
  const got = await ask('count');
  await exporter.shutdown();
  return { ...cost, received: got.spans, dropped: 0 };
}

console.log(`export: ${TOTAL} spans per run at ${RATE}/s, ${RUNS} runs, node ${process.version}`);
const runs = { baseline: [], tracecar: [], sdk: [] };
for (let run = 0; run < RUNS; run++) {
  runs.baseline.push(await drive(() => {}, async () => {}));
  for (const [name, f] of [['tracecar', tracecarRun], ['sdk', sdkRun]]) {
    const r = await f();
    if (r.received !== TOTAL || r.dropped !== 0) {
      console.error(`${name}: expected ${TOTAL} spans at the receiver, got ${r.received} (dropped ${r.dropped})`);
      process.exitCode = 1;
    }
    runs[name].push(r);
  }
}
const base = median(runs.baseline.map((r) => r.thread));
const baseProc = median(runs.baseline.map((r) => r.proc));
console.log('  path        main thread µs/span   whole process µs/span');
for (const name of ['tracecar', 'sdk']) {
  const main = (median(runs[name].map((r) => r.thread)) - base) / TOTAL;
  const proc = (median(runs[name].map((r) => r.proc)) - baseProc) / TOTAL;
  console.log(`  ${name.padEnd(10)}  ${fmt(main)}               ${fmt(proc)}`);
}
receiver.disconnect();
receiver.kill();
