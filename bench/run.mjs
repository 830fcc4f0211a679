#!/usr/bin/env node
// Load harness for issue 9: every row of the table (bench/lib/rows.mjs) in front of the same
// upstream, in one interleaved run, reported as ratios to a bare undici proxy measured in the same
// rounds. Writes bench/RESULTS.md when every row ran.
//
//   npm run bench                          the full table (≈ 10 min with the defaults)
//   npm run bench -- --rss-steady          also the steady-rate RSS run (1,000 req/s for 2 min)
//   npm run bench -- --profile otlp        --cpu-prof profiles of one row, in bench/profiles/
//   npm run bench -- --startup-only        only the start-up figures (BENCH_STARTUP_RUNS launches), no load
//   npm run bench -- --json out.json       also the raw samples and summary as JSON
//   node bench/render.mjs out.json         RESULTS.md again from such a JSON (after a change to the report)
//   npm run bench -- --out FILE | --out -  where RESULTS.md goes (- = nowhere)
//
// Environment knobs (defaults in brackets):
//   BENCH_SECONDS [10]       load per row per round
//   BENCH_ROUNDS [5]         rounds; each round loads every row once, starting row rotating
//   BENCH_CONNECTIONS [32]   client connections (wrk -c / autocannon connections)
//   BENCH_THREADS [1]        wrk threads
//   BENCH_ROWS [all]         comma-separated row ids, e.g. otlp,sdk-1 (the baseline a row is compared
//                            with is always run): bare quiet access-log store otlp otlp-1pct shipped
//                            sdk-1 sdk-2, and the HTTP/2 rows h2-bare h2 (h2load; skipped when it is
//                            not installed: Debian's nghttp2-client); the probes raw-probe and
//                            http-raw-upstream (what node:http and undici cost) run only when named
//   BENCH_LOAD [wrk if installed, else autocannon]   wrk | autocannon
//   BENCH_REQUESTS           exact requests per measurement instead of BENCH_SECONDS (autocannon)
//   BENCH_WARMUP [2]         seconds of load per row before the first round (0 = none)
//   BENCH_PIN [1 if taskset and ≥ 2 CPUs]   pin the proxy under load to BENCH_PROXY_CPU and
//                            everything else (harness, load, upstream, sink) to BENCH_LOAD_CPU
//   BENCH_PROXY_CPU [last CPU]  BENCH_LOAD_CPU [0]
//   BENCH_FLUSH_WAIT [15]    seconds to wait, after the load stops, for a row's spans to reach the sink
//   BENCH_STARTUP_RUNS [10]  launches for the start-up medians (0 = skip)
//   BENCH_STEADY_RATE [1000]  BENCH_STEADY_SECONDS [120]  BENCH_STEADY_ROW [shipped]  (--rss-steady)
//
// Per measurement: CPU of the whole row process (utime+stime of all threads) from the start of the
// load until its spans reached the sink, divided by the requests the upstream served; req/s and
// latency from the load generator; spans counted per row by an OTLP/gRPC sink (bench/export-receiver.mjs)
// and compared with what the row owes (requests the upstream saw with a sampled traceparent).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { h2loadAvailable, runAutocannon, runH2load, runWrk, wrkAvailable } from './lib/load.mjs';
import { canPin, cpuSeconds, forkHelper, memoryMiB, pinSelf, spawnRow, stop } from './lib/procs.mjs';
import { formatProfile, summariseProfile } from './lib/profile.mjs';
import { describeStartup, markdown, median, summarise, table, targets, targetsTable } from './lib/report.mjs';
import { ROWS, rowEnv, selectRows } from './lib/rows.mjs';
import { accepts } from '../scripts/lib/accepts.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    'rss-steady': { type: 'boolean' },
    'startup-only': { type: 'boolean' },
    profile: { type: 'string' },
    json: { type: 'string' },
    out: { type: 'string' },
  },
});

const env = process.env;
const num = (name, dflt) => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
};
const config = {
  seconds: num('BENCH_SECONDS', 10),
  rounds: Math.max(1, num('BENCH_ROUNDS', 5)),
  connections: Math.max(1, num('BENCH_CONNECTIONS', 32)),
  threads: Math.max(1, num('BENCH_THREADS', 1)),
  requests: num('BENCH_REQUESTS', 0),
  warmup: num('BENCH_WARMUP', 2),
  flushWait: num('BENCH_FLUSH_WAIT', 15),
  startupRuns: num('BENCH_STARTUP_RUNS', 10),
  steadyRate: num('BENCH_STEADY_RATE', 1000),
  steadySeconds: num('BENCH_STEADY_SECONDS', 120),
  steadyRow: env.BENCH_STEADY_ROW || 'shipped',
  proxyCpu: num('BENCH_PROXY_CPU', availableParallelism() - 1),
  loadCpu: num('BENCH_LOAD_CPU', 0),
};
const selected = flags.profile ? selectRows(flags.profile).filter((r) => r.id === flags.profile) : selectRows(env.BENCH_ROWS);
// The HTTP/2 rows need h2load; without it they are left out (and said so), the rest still runs.
const h2load = h2loadAvailable();
const rows = h2load ? selected : selected.filter((r) => !r.h2);
if (!h2load && rows.length < selected.length) console.error('bench: h2load not installed (Debian: apt-get install nghttp2-client): HTTP/2 rows h2-bare, h2 skipped');
const load = env.BENCH_LOAD || (!config.requests && wrkAvailable() ? 'wrk' : 'autocannon');
if (load !== 'wrk' && load !== 'autocannon') throw new Error(`BENCH_LOAD must be wrk or autocannon, got "${load}"`);
if (load === 'wrk' && config.requests) throw new Error('BENCH_REQUESTS needs BENCH_LOAD=autocannon (wrk runs for a duration)');
const pin = env.BENCH_PIN === undefined || env.BENCH_PIN === '' ? canPin() : env.BENCH_PIN === '1';
const log = (...a) => console.error(...a);

if (pin) pinSelf(config.loadCpu);
const loadStart = loadavg().map((l) => l.toFixed(2)).join(' ');
const upstream = await forkHelper(join(root, 'bench/upstream.mjs'));
const h2upstream = rows.some((r) => r.h2) ? await forkHelper(join(root, 'bench/h2-upstream.mjs')) : undefined;
const sink = await forkHelper(join(root, 'bench/export-receiver.mjs'));
const ports = {
  target: `http://127.0.0.1:${upstream.port}`,
  h2target: h2upstream ? `http://127.0.0.1:${h2upstream.port}` : '',
  otlp: `http://127.0.0.1:${sink.port}`,
};
/** The app a row forwards to (its request counters). */
const upstreamOf = (row) => (row.h2 ? h2upstream : upstream);
/** Spans of a row at the sink so far, and how many of them have status ERROR. */
async function countSpans(row) {
  const c = await sink.ask('count');
  return { spans: c.byService[`bench-${row.id}`] ?? 0, errors: c.errorsByService[`bench-${row.id}`] ?? 0 };
}

function startRow(row, nodeFlags = []) {
  return spawnRow(row.script, row.args(ports), { cwd: root, env: rowEnv(row), cpu: pin ? config.proxyCpu : undefined, nodeFlags }).ready;
}

/** The load of one measurement, by the configured generator (h2load for the HTTP/2 rows). */
function drive(row, port, seconds) {
  if (row.h2) return runH2load({ port, seconds, amount: config.requests || undefined, connections: config.connections });
  if (load === 'wrk') return runWrk({ port, seconds, connections: config.connections, threads: config.threads });
  return runAutocannon({ port, seconds, amount: config.requests || undefined, connections: config.connections });
}

/** Upstream counters once no request is in flight any more (two equal reads 50 ms apart). */
async function quiescent(app = upstream) {
  let last = await app.ask('count');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const now = await app.ask('count');
    if (now.requests === last.requests) return now;
    last = now;
  }
  return last;
}

/** Waits (bounded by BENCH_FLUSH_WAIT) until the sink holds `owed` more spans of `row` than `before`. */
async function delivered(row, before, owed) {
  const deadline = performance.now() + config.flushWait * 1000;
  let now = await countSpans(row);
  while (now.spans - before.spans < owed && performance.now() < deadline) {
    await sleep(50);
    now = await countSpans(row);
  }
  return { spans: now.spans - before.spans, errorSpans: now.errors - before.errors };
}

/** One measurement of one row: load, wait for its spans, read its CPU. */
async function measure(row, proc, seconds) {
  const u0 = await quiescent(upstreamOf(row));
  const s0 = row.spansPerSampled ? await countSpans(row) : undefined;
  const lines0 = proc.stdoutLines;
  const cpu0 = cpuSeconds(proc.pid);
  const r = await drive(row, proc.port, seconds);
  const u1 = await quiescent(upstreamOf(row));
  const served = u1.requests - u0.requests;
  const owed = row.spansPerSampled * (u1.sampled - u0.sampled);
  const { spans, errorSpans } = row.spansPerSampled ? await delivered(row, s0, owed) : { spans: 0, errorSpans: 0 };
  const cpu = cpuSeconds(proc.pid) - cpu0;
  return { ...r, served, owed, spans, errorSpans, cpuUs: (cpu * 1e6) / Math.max(1, served), accessLines: proc.stdoutLines - lines0 };
}

function describeSample(row, s) {
  const spans = row.spansPerSampled ? `  spans ${s.spans}/${s.owed}${s.errorSpans ? ` (${s.errorSpans} errors)` : ''}` : '';
  const access = row.accessLog ? `  log lines ${s.accessLines}` : '';
  return `${row.id.padEnd(10)} ${(s.requests / s.seconds).toFixed(0).padStart(6)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  ${s.cpuUs.toFixed(1).padStart(6)} µs CPU/req  served ${s.served}${spans}${access}  errors ${s.errors + s.non2xx}`;
}

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * `tracecar --version` wall time; then, for the default config (admin + viewer + access log) and
 * as shipped (the same plus OTLP export), the time until the ingress accepts a TCP connection and
 * the idle RSS 1 s later. The launches of the two configs alternate.
 */
async function startupTimes(runs) {
  const shipped = ROWS.find((r) => r.id === 'shipped');
  const configs = [
    { key: '', row: shipped, args: shipped.args(ports) },
    { key: 'default', row: { id: 'default' }, args: shipped.args(ports).filter((a, i, all) => a !== '--otlp-endpoint' && all[i - 1] !== '--otlp-endpoint') },
  ];
  const out = { versionMs: [], listenMs: [], idleRss: [], defaultListenMs: [], defaultIdleRss: [] };
  const cpu = pin ? config.proxyCpu : undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const v = spawnRow('dist/cli/main.js', ['--version'], { cwd: root, env: rowEnv(shipped), cpu });
    const { code } = await v.exited;
    if (code !== 0) throw new Error(`tracecar --version exited ${code}\n${v.stderr}`);
    out.versionMs.push(performance.now() - t0);

    for (const c of i % 2 ? [...configs].reverse() : configs) {
      const port = await freePort();
      const args = c.args.map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${port}` : a));
      const t1 = performance.now();
      const proc = spawnRow('dist/cli/main.js', args, { cwd: root, env: rowEnv(c.row), cpu });
      let up = false;
      while (!up) {
        if (proc.child.exitCode !== null) throw new Error(`tracecar exited during start-up\n${proc.stderr}`);
        up = await accepts(port);
        if (!up) await sleep(2);
      }
      out[c.key ? `${c.key}ListenMs` : 'listenMs'].push(performance.now() - t1);
      await sleep(1000);
      out[c.key ? `${c.key}IdleRss` : 'idleRss'].push(memoryMiB(proc.pid).rss);
      await stop(proc);
    }
  }
  log(`start-up (median of ${runs}, [min–max]): ${describeStartup(out)}`);
  return out;
}

/** Constant-rate load (autocannon overallRate) on a fresh process of one row, RSS sampled each second. */
async function steadyRss() {
  const row = ROWS.find((r) => r.id === config.steadyRow);
  if (!row) throw new Error(`BENCH_STEADY_ROW: unknown row "${config.steadyRow}"`);
  const proc = await startRow(row);
  const samples = [];
  const timer = setInterval(() => samples.push(memoryMiB(proc.pid).rss), 1000);
  const u0 = await upstream.ask('count');
  const s0 = await countSpans(row);
  log(`steady: ${row.id} at ${config.steadyRate} req/s for ${config.steadySeconds} s`);
  const r = await runAutocannon({ port: proc.port, seconds: config.steadySeconds, connections: 8, overallRate: config.steadyRate });
  clearInterval(timer);
  const u1 = await quiescent();
  const owed = row.spansPerSampled * (u1.sampled - u0.sampled);
  const { spans } = row.spansPerSampled ? await delivered(row, s0, owed) : { spans: 0 };
  const peak = memoryMiB(proc.pid).hwm;
  await stop(proc);
  const tail = samples.slice(Math.floor((samples.length * 3) / 4));
  const result = {
    row: row.label,
    rate: config.steadyRate,
    seconds: config.steadySeconds,
    achievedRate: r.requests / r.seconds,
    settled: median(tail),
    peak,
    spans,
    owed,
    series: samples.filter((_, i) => i % 10 === 9).map((x) => x.toFixed(0)),
  };
  log(`steady: settled RSS ${result.settled.toFixed(0)} MiB (peak ${peak.toFixed(0)} MiB), ${result.achievedRate.toFixed(0)} req/s achieved, spans ${spans}/${owed}`);
  return result;
}

/** --profile ROW: that row alone, under --cpu-prof, warm-up plus one measurement; summarises the profiles. */
async function profile(row) {
  const dir = join(root, 'bench/profiles', `${row.id}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const proc = await startRow(row, ['--cpu-prof', '--cpu-prof-dir', dir]);
  if (config.warmup > 0) await measure(row, proc, config.warmup);
  const s = await measure(row, proc, config.seconds);
  log(describeSample(row, s));
  await stop(proc);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) console.log(`\n${formatProfile(join(dir, f), summariseProfile(join(dir, f)))}`);
  console.log(`\nprofiles of ${row.id} (one per thread; open in Chrome DevTools → Performance, or speedscope): ${dir}`);
}

async function main() {
  if (flags.profile) {
    if (rows.length !== 1) throw new Error(`--profile takes one row id: ${ROWS.map((r) => r.id).join(', ')}`);
    return profile(rows[0]);
  }
  const loads = [];
  if (!rows.every((r) => r.h2)) {
    loads.push(
      load === 'wrk'
        ? `wrk -t${config.threads} -c${config.connections} -d${config.seconds}s`
        : `autocannon ${config.connections} connections, ${config.requests ? `${config.requests} requests` : `${config.seconds} s`}`,
    );
  }
  if (rows.some((r) => r.h2)) loads.push(`HTTP/2 rows: h2load -c${config.connections} -m10 ${config.requests ? `-n${config.requests}` : `-D${config.seconds}`}`);
  const loadDescription = loads.join('; ');
  if (flags['startup-only']) {
    const runs = Math.max(1, config.startupRuns);
    log(`bench: start-up only, ${runs} launch(es)${pin ? `, tracecar on CPU ${config.proxyCpu}` : ', unpinned'}`);
    const startup = await startupTimes(runs);
    console.log(`\n${targetsTable(targets({ rows: {} }, startup, undefined).filter((t) => t.met !== null))}\n`);
    if (flags.json) writeFileSync(flags.json, JSON.stringify({ command: process.argv.slice(2), config: { pin }, startup }, null, 2));
    return;
  }
  log(`bench: ${rows.map((r) => r.id).join(', ')} — ${loadDescription}, ${config.rounds} round(s)${pin ? `, proxy on CPU ${config.proxyCpu}, the rest on CPU ${config.loadCpu}` : ', unpinned'}`);

  const startup = config.startupRuns > 0 ? await startupTimes(config.startupRuns) : undefined;

  const procs = {};
  const memory = {};
  for (const row of rows) {
    procs[row.id] = await startRow(row);
    await sleep(1000);
    memory[row.id] = { idle: memoryMiB(procs[row.id].pid).rss };
  }
  if (config.warmup > 0) {
    for (const row of rows) {
      // Warm-up: JIT, connection pools, the exporter's channel. Its spans are waited for too.
      await measure(row, procs[row.id], config.warmup || 1);
    }
  }

  const samples = Object.fromEntries(rows.map((r) => [r.id, []]));
  for (let round = 0; round < config.rounds; round++) {
    log(`round ${round + 1}/${config.rounds}`);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[(i + round) % rows.length];
      const s = await measure(row, procs[row.id], config.seconds);
      samples[row.id][round] = s;
      log(`  ${describeSample(row, s)}`);
    }
  }
  for (const row of rows) memory[row.id].peak = memoryMiB(procs[row.id].pid).hwm;
  for (const row of rows) await stop(procs[row.id]);

  const steady = flags['rss-steady'] ? await steadyRss() : undefined;
  upstream.close();
  h2upstream?.close();
  sink.close();

  const summary = summarise(rows, samples, memory);
  const targetList = targets(summary, startup, steady);
  console.log(`\n${table(summary)}\n\n${targetsTable(targetList)}\n`);

  const knobs = Object.entries(env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${/^[\w.,:/-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`} `)
    .join('');
  const argv = process.argv.slice(2);
  const machine = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    loadStart,
    loadEnd: loadavg().map((l) => l.toFixed(2)).join(' '),
    note: env.BENCH_NOTE,
  };
  const command = `${knobs}npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const pinDescription = pin ? `proxy under test on CPU ${config.proxyCpu} (taskset); harness, ${load}, upstream and OTLP sink on CPU ${config.loadCpu}` : 'none';
  const out = flags.out ?? (env.BENCH_ROWS || config.requests ? '-' : join(root, 'bench/RESULTS.md'));
  if (out !== '-') {
    writeFileSync(out, markdown({ machine, command, config: { ...config, loadDescription, pinDescription }, summary, targetList, startup, steady }));
    log(`wrote ${out}`);
  }
  if (flags.json) {
    writeFileSync(flags.json, JSON.stringify({ machine, command, config: { ...config, load, pin, loadDescription, pinDescription }, samples, summary, targets: targetList, startup, steady }, null, 2));
  }
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err?.stack ?? err);
  process.exit(1);
}
