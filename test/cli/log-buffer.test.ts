/**
 * The JSON log destination is asynchronous and buffered (one write per ~8 KiB of lines). These
 * run the real logger (src/log.ts) in a child process whose stdout is a pipe, as a sidecar's is,
 * and check that no line is lost or reordered however the process ends: a normal exit,
 * process.exit(), an uncaught exception, an unhandled rejection, and a quiet process whose last
 * line must still show up while it keeps running.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';

const LOG = fileURLToPath(new URL('../../src/log.ts', import.meta.url));

function script(lines: number, ending: string): string {
  return `
import { createLogger } from ${JSON.stringify(LOG)};
const logger = createLogger({ level: 'info', pretty: false });
for (let i = 0; i < ${lines}; i++) logger.info({ i, pad: 'x'.repeat(64) }, 'request');
${ending}
`;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(source: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function indexes(stdout: string): number[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { i: number; msg: string }).i);
}

const N = 2_000;
const all = Array.from({ length: N }, (_, i) => i);

describe('buffered JSON log lines: none lost, none reordered', () => {
  it.each([
    ['the event loop empties', ''],
    ['process.exit(0)', 'process.exit(0);'],
    ['an uncaught exception', "setTimeout(() => { throw new Error('boom'); }, 0);"],
    ['an unhandled rejection', "Promise.reject(new Error('rejected'));"],
  ])('when %s', async (_what, ending) => {
    const r = await run(script(N, ending));
    expect(indexes(r.stdout)).toEqual(all);
    if (ending.includes('throw') || ending.includes('reject')) expect(r.code).toBe(1);
    else expect(r.code).toBe(0);
  });

  it('a full non-blocking stdout pipe is waited on: nothing lost, nothing reordered, no EAGAIN crash', async () => {
    // Touching process.stdout makes libuv put the pipe in non-blocking mode; 2,000 lines of ~300
    // bytes are ~9 times a pipe's 64 KiB, written while the reader below does not read yet.
    const source = `
import { createLogger } from ${JSON.stringify(LOG)};
process.stdout;
const logger = createLogger({ level: 'info', pretty: false });
for (let i = 0; i < ${N}; i++) logger.info({ i, pad: 'y'.repeat(256) }, 'request');
`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await new Promise((r) => setTimeout(r, 500));
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stdout.resume();
    const code = await new Promise((r) => child.on('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(indexes(stdout)).toEqual(all);
  });

  it('the same line format as pino writes: level, time, pid, fields, msg', async () => {
    const r = await run(script(1, ''));
    const line = r.stdout.trim();
    expect(line).toMatch(/^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","pid":\d+,"i":0,"pad":"x{64}","msg":"request"\}$/);
  });

  it('a quiet process still gets its last line out while it keeps running (periodic flush)', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script(1, 'setInterval(() => {}, 1000);')], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    try {
      await waitFor(() => (stdout.includes('"msg":"request"') ? true : undefined), 10_000, 'the buffered line');
    } finally {
      child.kill();
    }
  });
});
