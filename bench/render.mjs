#!/usr/bin/env node
// RESULTS.md again from the JSON a run wrote (`npm run bench -- --json FILE`), without measuring:
// after a change to the report's format, or to look at an older run.
//
//   node bench/render.mjs FILE.json [OUT.md | -]     (default: bench/RESULTS.md; - = stdout)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdown, summarise, targets } from './lib/report.mjs';
import { ROWS } from './lib/rows.mjs';

const [file, out = fileURLToPath(new URL('./RESULTS.md', import.meta.url))] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/render.mjs FILE.json [OUT.md | -]');
  process.exit(2);
}
const run = JSON.parse(readFileSync(file, 'utf8'));
if (!run.samples || !run.summary || !run.machine) {
  console.error(`${file}: not the JSON of a full run (npm run bench -- --json FILE); --startup-only runs have no table`);
  process.exit(1);
}
const rows = ROWS.filter((r) => run.samples[r.id]);
const memory = Object.fromEntries(Object.values(run.summary.rows).map((r) => [r.id, { idle: r.idleRss ?? NaN, peak: r.peakRss ?? NaN }]));
const summary = summarise(rows, run.samples, memory);
const config = { ...run.config };
// Runs before the descriptions were kept in the JSON: rebuilt as run.mjs words them.
config.loadDescription ??= [
  ...(rows.some((r) => !r.h2) ? [config.load === 'wrk' ? `wrk -t${config.threads} -c${config.connections} -d${config.seconds}s` : `autocannon ${config.connections} connections, ${config.requests ? `${config.requests} requests` : `${config.seconds} s`}`] : []),
  ...(rows.some((r) => r.h2) ? [`HTTP/2 rows: h2load -c${config.connections} -m10 ${config.requests ? `-n${config.requests}` : `-D${config.seconds}`}`] : []),
].join('; ');
config.pinDescription ??= config.pin ? `proxy under test on CPU ${config.proxyCpu} (taskset); harness, ${config.load}, upstream and OTLP sink on CPU ${config.loadCpu}` : 'none';
const text = markdown({ machine: run.machine, command: run.command, config, summary, targetList: targets(summary, run.startup, run.steady), startup: run.startup, steady: run.steady });
if (out === '-') process.stdout.write(text);
else {
  writeFileSync(out, text);
  console.error(`wrote ${out}`);
}
