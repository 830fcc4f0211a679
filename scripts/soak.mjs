#!/usr/bin/env node
// The soak (issue 10): tracecar as shipped (the real CLI: OTLP/gRPC export, admin with the viewer
// store, JSON access log to a pipe) in front of a small app, at a steady request rate for a
// bounded time, with the process's RSS, V8 heap in use, active handles, event-loop delay (p99 of
// each interval) and requests in flight scraped from its own /metrics every few seconds.
//
// Verdict (scripts/lib/flat.mjs): the first third of the run is warm-up (pools, JIT, the viewer
// store filling to its bound); over the last two thirds, the fitted line of each series (Theil–Sen:
// one spike from a busy machine does not decide) must rise by less than its threshold from start
// to end of that window:
//   RSS < 10 MiB, heap in use < 10 MiB, handles < 5, event-loop delay p99 < 20 ms, in flight < 5.
// Also required: no failed request, and every request's span at the OTLP sink.
//
//   npm run soak                 SOAK_SECONDS [600]  SOAK_RATE [200 req/s]  SOAK_SAMPLE_SECONDS [5]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { flatness } from './lib/flat.mjs';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { steadyRate } from './lib/steady.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE = Number(process.env.SOAK_RATE ?? 200);
const SAMPLE = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const MiB = 1024 * 1024;
// The verdict fits the last two thirds of the samples and needs at least three there.
const MIN_SAMPLES = 5;
if (!(SECONDS >= MIN_SAMPLES * SAMPLE)) {
  console.error(`soak: SOAK_SECONDS=${SECONDS} gives fewer than ${MIN_SAMPLES} samples at one every ${SAMPLE} s; the verdict needs SOAK_SECONDS ≥ ${MIN_SAMPLES * SAMPLE}`);
  process.exit(2);
}

const SERIES = [
  { key: 'rss', label: 'RSS', unit: 'MiB', metric: 'tracecar_process_resident_memory_bytes', scale: 1 / MiB, maxGrowth: 10 },
  { key: 'heap', label: 'heap in use', unit: 'MiB', metric: 'tracecar_nodejs_heap_size_used_bytes', scale: 1 / MiB, maxGrowth: 10 },
  { key: 'handles', label: 'active handles', unit: '', metric: 'tracecar_nodejs_active_handles_total', scale: 1, maxGrowth: 5 },
  { key: 'eld', label: 'event-loop delay p99', unit: 'ms', metric: 'tracecar_nodejs_eventloop_lag_p99_seconds', scale: 1000, maxGrowth: 20 },
  { key: 'inflight', label: 'requests in flight', unit: '', metric: 'tracecar_requests_in_flight', scale: 1, maxGrowth: 5 },
];

const app = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('{"ok":true}'));
});
await new Promise((r) => app.listen(0, '127.0.0.1', r));
const sink = await startOtlpSink({ keep: false });

const child = spawn(
  process.execPath,
  [CLI, '--target', `http://127.0.0.1:${app.address().port}`, '--port', '127.0.0.1:0', '--admin-port', '0', '--otlp-endpoint', sink.endpoint, '--service-name', 'soak'],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let accessLines = 0;
child.stdout.on('data', (d) => {
  for (const c of d) if (c === 10) accessLines++;
});
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((r) => child.on('exit', (code) => r(code)));
let ingress;
let admin;
for (let i = 0; i < 200 && !(ingress && admin); i++) {
  ingress = /ingress\s+http:\/\/[^:]+:(\d+)/.exec(stderr)?.[1];
  admin = /admin\s+http:\/\/[^:]+:(\d+)/.exec(stderr)?.[1];
  if (!(ingress && admin)) await sleep(50);
}
if (!ingress || !admin) throw new Error(`tracecar did not start:\n${stderr}`);

/** One scrape of the process's own /metrics: the value of each series (summed over labels). */
async function scrape() {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  const out = {};
  for (const s of SERIES) {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${s.metric} `) || line.startsWith(`${s.metric}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    out[s.key] = sum * s.scale;
  }
  return out;
}

console.log(`soak: ${SECONDS} s at ${RATE} req/s, tracecar as shipped (OTLP export, admin + viewer store, JSON access log), sampled every ${SAMPLE} s`);
console.log('    t s   req/s   RSS MiB  heap MiB  handles  ELD p99 ms  in flight');
const pool = new Pool(`http://127.0.0.1:${ingress}`, { connections: 16 });
let sent = 0;
let ok = 0;
let failed = 0;
let firstFailure;
const samples = [];
const started = Date.now();
let lastOk = 0;
let lastT = 0;
const load = steadyRate(RATE, SECONDS, (n) => {
  sent++;
  const post = n % 10 === 0;
  return pool.request({ path: `/orders/${n % 500}`, method: post ? 'POST' : 'GET', body: post ? '{"item":42}' : undefined }).then(
    async (res) => {
      await res.body.text();
      if (res.statusCode === 200) ok++;
      else {
        failed++;
        firstFailure ??= `status ${res.statusCode}`;
      }
    },
    (err) => {
      failed++;
      firstFailure ??= err.message;
    },
  );
});

while (Date.now() - started < SECONDS * 1_000) {
  await sleep(SAMPLE * 1_000);
  const t = (Date.now() - started) / 1_000;
  const m = await scrape();
  samples.push({ t, ...m });
  const rate = (ok - lastOk) / (t - lastT);
  lastOk = ok;
  lastT = t;
  if (samples.length % Math.max(1, Math.round(30 / SAMPLE)) === 0 || t >= SECONDS) {
    console.log(
      `${t.toFixed(0).padStart(7)} ${rate.toFixed(0).padStart(7)} ${m.rss.toFixed(1).padStart(9)} ${m.heap.toFixed(1).padStart(9)} ${m.handles.toFixed(0).padStart(8)} ${m.eld.toFixed(1).padStart(11)} ${m.inflight.toFixed(0).padStart(10)}`,
    );
  }
}
await load;
await pool.close();
child.kill('SIGTERM');
const code = await exited;
for (let last = -1; sink.count() !== last; await sleep(500)) last = sink.count();

console.log('');
console.log(`verdict (first third is warm-up; fitted rise over the last two thirds must stay under the threshold):`);
let flat = true;
for (const s of SERIES) {
  const v = flatness(
    samples.map((x) => ({ t: x.t, value: x[s.key] })),
    s.maxGrowth,
  );
  flat &&= v.flat;
  const values = samples.slice(Math.floor(samples.length / 3)).map((x) => x[s.key]);
  console.log(
    `  ${s.label.padEnd(22)} ${v.flat ? 'flat   ' : 'GROWING'}  rise ${v.growth >= 0 ? '+' : ''}${v.growth.toFixed(2)} ${s.unit} over ${v.window.toFixed(0)} s (threshold ${s.maxGrowth} ${s.unit}); range ${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`,
  );
}
const spansOk = sink.count() === ok;
console.log(`  requests               ${sent} sent, ${ok} ok, ${failed} failed${firstFailure ? ` (first: ${firstFailure})` : ''}`);
console.log(`  spans at the sink      ${sink.count()} (${spansOk ? 'one per request' : `expected ${ok}`}); access log lines ${accessLines}`);
console.log(`  exit code              ${code} after SIGTERM`);
const pass = flat && failed === 0 && spansOk && code === 0;
console.log(`  verdict                ${pass ? 'PASS: flat after warm-up' : 'FAIL'}`);
await sink.close();
app.close();
process.exit(pass ? 0 : 1);
