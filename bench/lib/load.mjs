// Load generators: wrk (preferred: a C client costs the load core little) or autocannon (npm,
// always available; the only one that can send an exact number of requests or hold a fixed rate).
// Both return { requests, seconds, p50, p99 (ms), errors, non2xx }.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const PATH = '/orders/42?x=1';
const HEADERS = { 'user-agent': 'tracecar-bench/1', accept: 'application/json' };
const WRK_SCRIPT = fileURLToPath(new URL('../wrk-report.lua', import.meta.url));

export function wrkAvailable() {
  return !spawnSync('wrk', ['--version']).error;
}

/** `wrk -t THREADS -c CONNECTIONS -d SECONDS` with bench/wrk-report.lua printing a JSON summary. */
export function runWrk({ port, seconds, connections, threads }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', WRK_SCRIPT];
  for (const [k, v] of Object.entries(HEADERS)) args.push('-H', `${k}: ${v}`);
  args.push(`http://127.0.0.1:${port}${PATH}`);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /^BENCH_WRK (\{.*\})$/m.exec(out);
      if (code !== 0 || !m) return reject(new Error(`wrk ${args.join(' ')} failed (${code}):\n${out}`));
      const r = JSON.parse(m[1]);
      resolve({ requests: r.requests, seconds: r.duration / 1e6, p50: r.p50 / 1000, p99: r.p99 / 1000, errors: r.errors, non2xx: r.status });
    });
  });
}

/**
 * autocannon in this process: `seconds` of closed-loop load, or exactly `amount` requests, or a
 * constant `overallRate` (req/s over all connections, wrk2-style) for `seconds`.
 */
export async function runAutocannon({ port, seconds, amount, connections, overallRate }) {
  const opts = { url: `http://127.0.0.1:${port}${PATH}`, connections, headers: HEADERS };
  if (amount) opts.amount = amount;
  else opts.duration = seconds;
  if (overallRate) opts.overallRate = overallRate;
  const t0 = performance.now();
  const r = await autocannon(opts);
  return {
    requests: r.requests.total,
    seconds: (performance.now() - t0) / 1000,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

export function h2loadAvailable() {
  return !spawnSync('h2load', ['--version']).error;
}

/**
 * h2load (nghttp2-client) for the HTTP/2 rows: h2c with prior knowledge, `connections` clients
 * with `streams` concurrent streams each, for `seconds` (-D) or exactly `amount` requests (-n).
 * Latency percentiles come from its per-request log (--log-file: start, status, µs to the end).
 */
export function runH2load({ port, seconds, amount, connections, streams = 10 }) {
  const dir = mkdtempSync(join(tmpdir(), 'tracecar-h2load-'));
  const logFile = join(dir, 'requests.tsv');
  const args = ['-c', String(connections), '-m', String(streams), '--log-file', logFile];
  for (const [k, v] of Object.entries(HEADERS)) args.push('-H', `${k}: ${v}`);
  if (amount) args.push('-n', String(amount));
  else args.push('-D', String(seconds));
  args.push(`http://127.0.0.1:${port}${PATH}`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const m = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
        const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
        if (code !== 0 || !m || !codes) return reject(new Error(`h2load ${args.join(' ')} failed (${code}):\n${out}`));
        const latencies = readFileSync(logFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => Number(line.split('\t')[2]) / 1000)
          .sort((a, b) => a - b);
        const pct = (p) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? NaN;
        const done = Number(m[2]);
        resolve({
          requests: done,
          seconds: amount ? (performance.now() - t0) / 1000 : seconds,
          p50: pct(50),
          p99: pct(99),
          errors: Number(m[4]) + Number(m[5]) + Number(m[6]),
          non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
