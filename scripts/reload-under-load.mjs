#!/usr/bin/env node
// Hot reload under load (issue 10), the full run the suite bounds to a few seconds
// (test/hardening/reload-under-load.test.ts): the real CLI watching a config file that is replaced
// every second while requests flow at a steady rate, spans exported over OTLP/gRPC to a sink that
// decodes them. Each config version has its own service.name and correlation header, so every
// request shows the version it ran under three times: the header the app got, the header the
// client got back, and its span's service.name. Passes when no request failed, every request has
// its span, and the three agree for every request.
//
//   npm run reload-under-load                RELOAD_SECONDS [60]  RELOAD_RATE [200 req/s]
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { steadyRate } from './lib/steady.mjs';

const SECONDS = Number(process.env.RELOAD_SECONDS ?? 60);
const RATE = Number(process.env.RELOAD_RATE ?? 200);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const VERSION_HEADER = /^x-v(\d+)-id$/;

// The app answers with the correlation header it received: the version tracecar forwarded under.
const app = createServer((req, res) => {
  const name = Object.keys(req.headers).find((h) => VERSION_HEADER.test(h)) ?? 'none';
  setTimeout(() => res.end(name), 2);
});
await new Promise((r) => app.listen(0, '127.0.0.1', r));
const appUrl = `http://127.0.0.1:${app.address().port}`;
const sink = await startOtlpSink();

const dir = mkdtempSync(join(tmpdir(), 'tracecar-reload-'));
const file = join(dir, 'tracecar.yaml');
const versionYaml = (v) => `service:
  name: reload-v${v}
ingress:
  listen: 127.0.0.1:0
  target: ${appUrl}
propagation:
  correlationHeaders: [x-v${v}-id]
export:
  console: off
  otlp:
    endpoint: ${sink.endpoint}
admin:
  listen: off
limits:
  maxHeaderCount: ${100 + (v % 2)}
  keepAliveTimeout: ${5000 + v}
`;
/** Replaced by rename, as editors and ConfigMaps do: the watcher never reads a half-written file. */
function writeVersion(v) {
  writeFileSync(`${file}.tmp`, versionYaml(v));
  renameSync(`${file}.tmp`, file);
}
writeVersion(0);

const child = spawn(process.execPath, [CLI, '--config', file], { env: { ...process.env, OTEL_SERVICE_NAME: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((r) => child.on('exit', (code) => r(code)));
let port;
for (let i = 0; i < 200 && !port; i++) {
  port = /ingress\s+http:\/\/[^:]+:(\d+)/.exec(stderr)?.[1];
  if (!port) await sleep(50);
}
if (!port) throw new Error(`tracecar did not start:\n${stderr}`);

console.log(`reload under load: ${SECONDS} s at ${RATE} req/s, a new config version every second (real CLI, config file replaced by rename, OTLP/gRPC sink)`);
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32 });
let version = 0;
const started = Date.now();
const reloads = setInterval(() => writeVersion(++version), 1_000);
const done = await steadyRate(RATE, SECONDS, (i) =>
  pool.request({ path: `/r/${i}`, method: 'GET' }).then(
    async (res) => ({
      status: res.statusCode,
      seen: await res.body.text(),
      sent: Object.keys(res.headers).find((h) => VERSION_HEADER.test(h)) ?? 'none',
      traceId: String(res.headers.traceresponse).split('-')[1],
    }),
    (err) => ({ error: err.message }),
  ),
);
clearInterval(reloads);
const elapsed = (Date.now() - started) / 1_000;
await pool.close();

// SIGTERM flushes the queued spans before exit.
child.kill('SIGTERM');
const code = await exited;
for (let last = -1; sink.count() !== last; await sleep(500)) last = sink.count();

const failed = done.filter((r) => r.error || r.status !== 200);
const ok = done.filter((r) => !r.error && r.status === 200);
let mismatched = 0;
let missing = 0;
const versions = new Set();
for (const r of ok) {
  const service = sink.services.get(r.traceId);
  if (service === undefined) missing++;
  const v = VERSION_HEADER.exec(r.sent)?.[1];
  if (r.seen !== r.sent || service !== `reload-v${v}`) mismatched++;
  versions.add(v);
}
const applied = (stderr.match(/config reloaded/g) ?? []).length;
const rejected = (stderr.match(/reload rejected/g) ?? []).length;
const pass = failed.length === 0 && missing === 0 && mismatched === 0 && code === 0 && sink.count() === ok.length;

console.log(`  requests          ${done.length} in ${elapsed.toFixed(1)} s (${(done.length / elapsed).toFixed(0)} req/s)`);
console.log(`  failed            ${failed.length}${failed.length ? `  e.g. ${JSON.stringify(failed[0])}` : ''}`);
console.log(`  config versions   ${version} written, ${applied} reloads applied, ${rejected} rejected; requests ran under ${versions.size} versions`);
console.log(`  spans received    ${sink.count()} (requests without their span: ${missing})`);
console.log(`  version mismatch  ${mismatched} (app-side header, client-side header and span service.name disagree)`);
console.log(`  exit code         ${code} after SIGTERM`);
console.log(`  verdict           ${pass ? 'PASS' : 'FAIL'}`);

await sink.close();
app.close();
rmSync(dir, { recursive: true, force: true });
process.exit(pass ? 0 : 1);
