#!/usr/bin/env node
// The embedded-default demo: two tiny uninstrumented apps, tracecar in front of the first
// (ingress :8080, egress :15001 for its outgoing calls), and a little traffic. Traces show in
// the terminal and in the built-in viewer; no Jaeger, no collector. Ctrl-C stops everything.
//   DEMO_PORT (8080), DEMO_ADMIN_PORT (9901), DEMO_SECONDS (run time; default: until Ctrl-C)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.DEMO_PORT ?? 8080);
const adminPort = Number(process.env.DEMO_ADMIN_PORT ?? 9901);
const appPort = port + 1000 > 65000 ? 3000 : 3000 + (port - 8080);
const children = [];

function start(name, args, env = {}, stdio = ['ignore', 'ignore', 'inherit']) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`demo: ${name} exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(traffic);
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

start('payments app', ['deploy/demo/app.mjs'], { SERVICE: 'payments', PORT: String(appPort + 1) });
start('orders app', ['deploy/demo/app.mjs'], {
  SERVICE: 'orders',
  PORT: String(appPort),
  DOWNSTREAM: `http://127.0.0.1:${appPort + 1}`,
  EGRESS_PROXY: `http://127.0.0.1:${port + 7000}`,
});
start(
  'tracecar',
  ['dist/cli/main.js', '--target', `http://127.0.0.1:${appPort}`, '--port', String(port), '--egress-port', String(port + 7000), '--admin-port', String(adminPort), '--service-name', 'orders'],
  { TRACECAR_DEMO: '1' },
  ['ignore', 'inherit', 'inherit'],
);

let n = 0;
const paths = ['/orders/1001', '/orders/1002?token=never-logged', '/checkout', '/fail/payment', '/orders/1003'];
const traffic = setInterval(async () => {
  const path = paths[n++ % paths.length];
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-request-id': `demo-${n}` } });
    await res.arrayBuffer();
  } catch {
    // tracecar may still be starting
  }
}, 1500);

console.error(`demo: sending a request every 1.5 s to http://127.0.0.1:${port}; open http://127.0.0.1:${adminPort}/ for the viewer; Ctrl-C to stop`);
if (process.env.DEMO_SECONDS) setTimeout(() => stop(0), Number(process.env.DEMO_SECONDS) * 1000);
