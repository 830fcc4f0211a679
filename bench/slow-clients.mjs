#!/usr/bin/env node
// Slow clients against tracecar's default limits (issue 10), as figures: ordinary traffic's
// latency on its own and during a sustained attack of slow connections, and how long after the
// 10 s headers timeout the slowloris connections are cut. The attack runs in a child process
// (its own event loop), tracecar is the real CLI with its defaults, the app answers at once.
//
//   npm run build && node bench/slow-clients.mjs
//   SLOW_SECONDS [15] per phase   SLOW_RATE [300] ordinary req/s   SLOW_LORIS [500] SLOW_BODY [100] SLOW_SILENT [100]
import { fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { steadyRate } from '../scripts/lib/steady.mjs';

const env = process.env;
const SECONDS = Number(env.SLOW_SECONDS ?? 15);
const RATE = Number(env.SLOW_RATE ?? 300);
const LORIS = Number(env.SLOW_LORIS ?? 500);
const BODY = Number(env.SLOW_BODY ?? 100);
const SILENT = Number(env.SLOW_SILENT ?? 100);

if (process.argv[2] === '--attack') {
  // The attacker: keeps LORIS + BODY + SILENT slow connections open, reopening each one tracecar
  // cuts; reports how long each slowloris connection lived.
  const port = Number(process.argv[3]);
  const lived = [];
  let cut408 = 0;
  let stopping = false;
  const open = (kind) => {
    if (stopping) return;
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    const head = kind === 'loris' ? 'GET /loris HTTP/1.1\r\nHost: app\r\n' : kind === 'body' ? 'POST /body HTTP/1.1\r\nHost: app\r\nContent-Length: 1000000\r\n\r\n' : '';
    if (head) socket.write(head);
    const trickle = kind === 'silent' ? undefined : setInterval(() => socket.write(kind === 'loris' ? 'x' : 'b'), 1_000);
    socket.on('close', () => {
      clearInterval(trickle);
      if (answer.startsWith('HTTP/1.1 408')) cut408++;
      if (kind === 'loris' && !stopping) lived.push(Date.now() - started);
      open(kind);
    });
  };
  for (let i = 0; i < LORIS; i++) open('loris');
  for (let i = 0; i < BODY; i++) open('body');
  for (let i = 0; i < SILENT; i++) open('silent');
  process.on('message', () => {
    stopping = true;
    process.send({ lived, cut408 });
    setTimeout(() => process.exit(0), 100);
  });
} else {
  const app = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [cli, '--target', `http://127.0.0.1:${app.address().port}`, '--port', '127.0.0.1:0', '--no-admin', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let port;
  for (let i = 0; i < 200 && !port; i++) {
    port = /ingress\s+http:\/\/[^:]+:(\d+)/.exec(stderr)?.[1];
    if (!port) await sleep(50);
  }
  if (!port) throw new Error(`tracecar did not start:\n${stderr}`);

  /** Ordinary requests at RATE for SECONDS: latency percentiles and failures. */
  async function ordinary() {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16 });
    const times = [];
    let failed = 0;
    await steadyRate(RATE, SECONDS, () => {
      const t0 = process.hrtime.bigint();
      return pool.request({ path: '/ordinary', method: 'GET' }).then(
        async (res) => {
          await res.body.text();
          if (res.statusCode === 200) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          else failed++;
        },
        () => failed++,
      );
    });
    await pool.close();
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
    return { n: times.length, failed, p50: q(0.5), p99: q(0.99), max: times[times.length - 1] ?? NaN };
  }

  console.log(`slow clients vs tracecar defaults (headersTimeout 10 s, requestTimeout 5 min, checked every 1 s): ordinary GETs at ${RATE} req/s for ${SECONDS} s per phase`);
  const quiet = await ordinary();
  const attacker = fork(fileURLToPath(import.meta.url), ['--attack', port], { stdio: 'inherit' });
  await sleep(2_000); // let the attack build up
  const attacked = await ordinary();
  attacker.send('stop');
  const report = await new Promise((r) => attacker.once('message', r));
  child.kill('SIGTERM');
  app.close();

  const row = (label, r) =>
    console.log(`  ${label.padEnd(44)} ${String(r.n).padStart(6)} ok ${String(r.failed).padStart(4)} failed   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   max ${r.max.toFixed(1).padStart(7)} ms`);
  row('no attack', quiet);
  row(`during ${LORIS} slowloris + ${BODY} slow-body + ${SILENT} silent`, attacked);
  const lived = report.lived.sort((a, b) => a - b);
  if (lived.length) {
    const over = lived.map((ms) => ms / 1_000 - 10);
    console.log(
      `  slowloris connections cut: ${lived.length}, ${report.cut408} answers were 408; cut after the 10 s deadline by ${Math.min(...over).toFixed(2)}–${Math.max(...over).toFixed(2)} s (median ${over[Math.floor(over.length / 2)].toFixed(2)} s)`,
    );
  } else console.log('  no slowloris connection was cut within the phase (it is shorter than the headers timeout)');
}
