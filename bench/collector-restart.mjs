#!/usr/bin/env node
// Issue 10's collector restart, run faithfully: tracecar as users run it (dist/cli/main.js, default
// export settings) in front of an app, 100 requests per second, and its OTLP/gRPC collector
// (bench/export-receiver.mjs, decoding with the official generated code) stopped for 10 s and
// restarted on the same port. Prints what the collector received against the requests served,
// and what /metrics says was retried and dropped. Exits 1 if a span was lost.
//
//   npm run build && npm run collector-restart [-- --rate 100 --outage 10 --before 5 --after 10]
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    outage: { type: 'string', default: '10' },
    before: { type: 'string', default: '5' },
    after: { type: 'string', default: '10' },
  },
});
const RATE = Number(values.rate);
const OUTAGE_S = Number(values.outage);
const BEFORE_S = Number(values.before);
const AFTER_S = Number(values.after);
const root = fileURLToPath(new URL('..', import.meta.url));

// The app: counts what it served.
let served = 0;
const app = createServer((req, res) => {
  served++;
  req.resume();
  res.end('ok');
});
await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
const appUrl = `http://127.0.0.1:${app.address().port}`;

/** Starts the collector on `port` (0: any); resolves with its port and a way to ask for counts. */
async function collector(port) {
  const child = fork(new URL('./export-receiver.mjs', import.meta.url), [String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [msg] = await once(child, 'message');
  if (msg.error) throw new Error(`collector could not bind port ${port}: ${msg.error}`);
  return {
    port: msg.port,
    child,
    async count() {
      child.send({ type: 'count' });
      const [reply] = await once(child, 'message');
      return reply.spans;
    },
    async stop() {
      const spans = await this.count();
      child.kill('SIGKILL');
      await once(child, 'exit');
      return spans;
    },
  };
}

let first = await collector(0);
const endpoint = `http://127.0.0.1:${first.port}`;

const tracecar = spawn(process.execPath, ['dist/cli/main.js', '--target', appUrl, '--port', '127.0.0.1:0', '--admin-port', '0', '--otlp-endpoint', endpoint, '--log-level', 'info'], {
  cwd: root,
  env: { ...process.env, OTEL_SERVICE_NAME: 'collector-restart' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let banner = '';
const log = [];
tracecar.stderr.setEncoding('utf8').on('data', (d) => (banner += d));
tracecar.stdout.setEncoding('utf8').on('data', (d) => {
  for (const line of d.split('\n')) if (line.includes('"level":40') || line.includes('OTLP export') || line.includes('span drops')) log.push(line);
});
while (!/admin\s+(\S+)/.test(banner) || !/ingress\s+(\S+)/.test(banner)) await sleep(50);
const ingress = banner.match(/ingress\s+(\S+)/)[1];
const admin = banner.match(/admin\s+(\S+)/)[1];

let sent = 0;
let failed = 0;
const inflight = new Set();
const tick = setInterval(() => {
  const p = request(`${ingress}/orders/${sent++}`)
    .then(async (res) => {
      if (res.statusCode !== 200) failed++;
      await res.body.dump();
    })
    .catch(() => failed++)
    .finally(() => inflight.delete(p));
  inflight.add(p);
}, 1000 / RATE);

const t0 = Date.now();
const at = (s) => sleep(Math.max(0, t0 + s * 1000 - Date.now()));
await at(BEFORE_S);
const beforeOutage = await first.stop();
console.log(`t=${((Date.now() - t0) / 1000).toFixed(1)}s collector stopped (${beforeOutage} spans received so far)`);
await at(BEFORE_S + OUTAGE_S);
const second = await collector(first.port);
console.log(`t=${((Date.now() - t0) / 1000).toFixed(1)}s collector restarted on port ${second.port}`);
await at(BEFORE_S + OUTAGE_S + AFTER_S);
clearInterval(tick);
await Promise.all(inflight);

// The default retry backoff tops out at 5 s: give the last batch time to arrive.
const deadline = Date.now() + 30_000;
let afterRestart = await second.count();
while (beforeOutage + afterRestart < served && Date.now() < deadline) {
  await sleep(250);
  afterRestart = await second.count();
}
const metrics = await (await request(`${admin}/metrics`)).body.text();
const metric = (name) =>
  metrics
    .split('\n')
    .filter((l) => l.startsWith(name))
    .map((l) => `${l.slice(0, l.lastIndexOf(' '))}=${l.slice(l.lastIndexOf(' ') + 1)}`);

const received = beforeOutage + afterRestart;
console.log(`\ncollector restart: ${OUTAGE_S} s outage at ${RATE} req/s, default export settings (node ${process.version})`);
console.log(`  requests sent ${sent}, served by the app ${served}, failed ${failed}`);
console.log(`  spans received ${received} (${beforeOutage} before the outage, ${afterRestart} by the restarted collector)`);
console.log(`  lost: ${served - received}`);
for (const line of [...metric('tracecar_spans_retried_total'), ...metric('tracecar_spans_dropped_total'), ...metric('tracecar_export_failures_total')]) console.log(`  ${line}`);
console.log('  log lines about export:');
for (const line of log) console.log(`    ${line}`);

tracecar.kill('SIGTERM');
await once(tracecar, 'exit');
second.child.kill('SIGKILL');
app.close();
process.exitCode = received === served && failed === 0 ? 0 : 1;
