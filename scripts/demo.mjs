#!/usr/bin/env node
// The embedded-default demo: a whole local topology in one viewer, no Jaeger, no collector.
// Two tiny uninstrumented apps, each behind its own tracecar sidecar, and a little traffic:
//
//   demo traffic → orders sidecar :8080 → orders app → orders egress → payments sidecar → payments app
//                  viewer :9901  ◀──── OTLP/HTTP protobuf, POST /v1/traces ────┘
//
// The orders app calls payments through its sidecar's egress (HTTP_PROXY style, forwarding only
// x-request-id); the payments sidecar sends its spans to the orders sidecar's admin listener, so
// one trace in the viewer shows orders SERVER → orders CLIENT → payments SERVER.
// Ctrl-C stops everything (payments first, so its last spans still reach the viewer).
//   DEMO_PORT (8080), DEMO_ADMIN_PORT (9901), DEMO_SECONDS (run time; default: until Ctrl-C)
// Internal ports (apps, egress, payments sidecar) are free ports picked at start.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { accepts } from './lib/accepts.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.DEMO_PORT ?? 8080);
const adminPort = Number(process.env.DEMO_ADMIN_PORT ?? 9901);
const seconds = process.env.DEMO_SECONDS ? Number(process.env.DEMO_SECONDS) : undefined;
const viewer = `http://127.0.0.1:${adminPort}/`;

/** A port nothing listens on right now (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
}

// ── output: every child's lines, prefixed with its service ────────────────────────────────────
const TAGS = { orders: '36', payments: '35' };
const width = Math.max(...Object.keys(TAGS).map((t) => t.length));
function tag(service, stream) {
  const text = `${service.padEnd(width)} │`;
  return stream.isTTY ? `\x1b[${TAGS[service]}m${text}\x1b[0m` : text;
}
function pipeLines(from, service, to) {
  createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${tag(service, to)} ${line}\n`));
}
const say = (text) => process.stderr.write(`demo: ${text}\n`);

// ── children ───────────────────────────────────────────────────────────────────────────────────
const children = [];
let stopping = false;

function start(name, service, args, env = {}) {
  // detached: a terminal Ctrl-C reaches only this script, which then stops the children in order.
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.name = name;
  pipeLines(child.stdout, service, process.stdout);
  pipeLines(child.stderr, service, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

const running = (child) => child.exitCode === null && child.signalCode === null;

/** SIGTERM, then wait for the exit (SIGKILL after `ms`). */
function terminate(list, ms = 8_000) {
  return Promise.all(
    list.filter(running).map(
      (child) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), ms);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

let traffic;
async function stop(code = 0) {
  if (stopping) {
    // A second Ctrl-C: no more waiting.
    for (const c of children.filter(running)) c.kill('SIGKILL');
    process.exit(code || 130);
  }
  stopping = true;
  clearTimeout(traffic);
  // The payments sidecar first: on SIGTERM it flushes its spans to the orders viewer, still up.
  await terminate(children.filter((c) => c.name === 'payments sidecar'));
  await terminate(children);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (!stopping) say(`${signal}: stopping the sidecars and apps (again to kill them at once)`);
    stop(0);
  });
}
// Whatever happens to this script, no child outlives it.
process.on('exit', () => {
  for (const c of children.filter(running)) c.kill('SIGKILL');
});

const [ordersApp, paymentsApp, paymentsSidecar, ordersEgress] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
// Pretty lines when a person watches (stdout is piped through this script, so not a TTY for tracecar).
const consoleEnv = process.env.TRACECAR_CONSOLE ? {} : { TRACECAR_CONSOLE: process.stdout.isTTY ? 'pretty' : 'json' };

start('payments app', 'payments', ['deploy/demo/app.mjs'], { SERVICE: 'payments', PORT: String(paymentsApp) });
start('orders app', 'orders', ['deploy/demo/app.mjs'], {
  SERVICE: 'orders',
  PORT: String(ordersApp),
  DOWNSTREAM: `http://127.0.0.1:${paymentsSidecar}`,
  EGRESS_PROXY: `http://127.0.0.1:${ordersEgress}`,
});
start(
  'orders sidecar',
  'orders',
  ['dist/cli/main.js', '--service-name', 'orders', '--target', `http://127.0.0.1:${ordersApp}`, '--port', String(port), '--egress-port', String(ordersEgress), '--admin-port', String(adminPort)],
  { ...consoleEnv },
);
start(
  'payments sidecar',
  'payments',
  [
    'dist/cli/main.js',
    '--service-name', 'payments',
    '--target', `http://127.0.0.1:${paymentsApp}`,
    '--port', `127.0.0.1:${paymentsSidecar}`,
    '--no-admin',
    '--otlp-endpoint', `http://127.0.0.1:${adminPort}/v1/traces`,
  ],
  // The traces-specific variable wins over a generic OTEL_EXPORTER_OTLP_PROTOCOL from the shell.
  { ...consoleEnv, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_BSP_SCHEDULE_DELAY: '250' },
);

say(`orders → payments, each behind a tracecar sidecar; payments spans go to the orders viewer over OTLP/HTTP`);
say(`sending a request every 1.5 s to http://127.0.0.1:${port}; open ${viewer} for the viewer; Ctrl-C to stop`);

// Traffic once the viewer answers (tracecar starts in well under a second).
const paths = ['/orders/1001', '/orders/1002?token=never-logged', '/checkout', '/fail/payment', '/orders/1003'];
let n = 0;
async function send() {
  const path = paths[n++ % paths.length];
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-request-id': `demo-${n}` } });
    await res.arrayBuffer();
  } catch {
    // a sidecar may still be starting
  }
  if (!stopping) traffic = setTimeout(send, 1500);
}
/**
 * Until the orders sidecar says it is ready and the payments sidecar and both apps accept
 * connections: the first request must not race a process still starting (it did: 502, connect
 * refused by the payments sidecar).
 */
async function whenReady(deadline = Date.now() + 10_000) {
  while (!stopping && Date.now() < deadline) {
    try {
      const ready = (await fetch(`${viewer}readyz`)).ok && (await Promise.all([paymentsSidecar, paymentsApp, ordersApp].map(accepts))).every(Boolean);
      if (ready) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
if (seconds !== undefined) setTimeout(() => stop(0), seconds * 1000);
await whenReady();
if (!stopping) send();
