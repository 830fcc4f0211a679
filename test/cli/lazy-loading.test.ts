/**
 * What the built `tracecar` command loads (docs/performance.md): `--version` and `--help` only the
 * flag parser; a start from flags neither the YAML parser, ajv's schema compiler nor the OTLP
 * receiver's protobuf codec — a config file loads the parser, the first POST /v1/traces the codec.
 * Every module load of the real process is recorded (test/helpers/record-loads.mjs); no timings.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORDER = fileURLToPath(new URL('../helpers/record-loads.mjs', import.meta.url));
const hooks = typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function';

const dir = mkdtempSync(join(tmpdir(), 'tracecar-loads-'));
let upstream: Server;
let target = '';
beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
function recording(): { file: string; nodeArgs: string[]; env: Record<string, string>; loaded: () => string[]; builtins: () => string[] } {
  const file = join(dir, `loads-${++runs}.json`);
  return {
    file,
    nodeArgs: ['--import', RECORDER],
    env: { TRACECAR_RECORD_LOADS: file },
    // Paths relative to the package ("dist/cli/main.js", "node_modules/yaml/dist/index.js"); built-ins left out.
    loaded: () => (JSON.parse(readFileSync(file, 'utf8')) as string[]).filter((u) => u.startsWith('file:')).map((u) => relative(ROOT, fileURLToPath(u))),
    // Node's own modules the process compiled ("internal/deps/undici/undici", "http", …).
    builtins: () => (JSON.parse(readFileSync(file, 'utf8')) as string[]).filter((u) => u.startsWith('builtin:')).map((u) => u.slice('builtin:'.length)),
  };
}

/** The files of dist/cli/ whose code contains `marker`: the chunk a module was bundled into. */
function chunksWith(marker: string): string[] {
  const cli = join(ROOT, 'dist/cli');
  return readdirSync(cli)
    .filter((f) => f.endsWith('.js') && readFileSync(join(cli, f), 'utf8').includes(marker))
    .map((f) => `dist/cli/${f}`);
}

/**
 * The loaded files of a dependency path ("node_modules/yaml/"), read from disk or bundled into a
 * loaded chunk (esbuild keys each bundled CommonJS module by its path: `"node_modules/…"(`).
 */
function loadedFrom(files: string[], path: string): string[] {
  const fromDisk = files.filter((f) => f.startsWith(path));
  const bundledIn = files.filter((f) => f.startsWith('dist/cli/') && readFileSync(join(ROOT, f), 'utf8').includes(`"${path}`));
  return [...fromDisk, ...bundledIn];
}

/** What a start from flags must not load: each is for a config that asks for it. */
const NOT_AT_START: Array<[what: string, path: string]> = [
  ['the YAML parser (a config file, /config)', 'node_modules/yaml/'],
  ["ajv's schema compiler (the build made the validator)", 'node_modules/ajv/dist/core'],
  ["the OTLP receiver's protobuf codec (POST /v1/traces)", 'node_modules/protobufjs/'],
  ["undici's index (tracecar uses its Agent alone)", 'node_modules/undici/index.js'],
  ['gRPC (an OTLP/gRPC exporter)', 'node_modules/@grpc/grpc-js/'],
];

describe.skipIf(!hooks)('modules the tracecar command loads (needs node:module registerHooks, Node ≥ 22.15)', () => {
  for (const flag of ['--version', '--help']) {
    it(`${flag}: the flag parser only — no dependency, no command`, async () => {
      const rec = recording();
      const r = await runCli([flag], { nodeArgs: rec.nodeArgs, env: rec.env });
      expect(r.code).toBe(0);
      const files = rec.loaded().filter((f) => f !== relative(ROOT, RECORDER));
      expect(files.filter((f) => f.startsWith('node_modules/')), 'dependencies loaded').toEqual([]);
      const bytes = files.reduce((sum, f) => sum + statSync(join(ROOT, f)).size, 0);
      expect(bytes, `${files.join(', ')}: ${bytes} bytes`).toBeLessThan(32 * 1024);
      const sidecar = chunksWith('createTracecar');
      expect(sidecar.length, 'the sidecar is bundled somewhere in dist/cli').toBeGreaterThan(0);
      expect(files.filter((f) => sidecar.includes(f)), 'the sidecar was loaded').toEqual([]);
    });
  }

  it('an OTLP/gRPC exporter loads grpc-js with its first batch, not at start', async () => {
    const sink = await startOtlpReceiver();
    try {
      const rec = recording();
      const cli = await startCli(['--target', target, '--port', '127.0.0.1:0', '--no-admin', '--otlp-endpoint', sink.endpoint], {
        nodeArgs: rec.nodeArgs,
        env: { ...rec.env, OTEL_BSP_SCHEDULE_DELAY: '60000', TRACECAR_RECORD_LOADS_ON: 'SIGUSR2' },
      });
      // Started, no span yet: the modules loaded so far.
      cli.child.kill('SIGUSR2');
      await waitFor(() => existsSync(rec.file));
      expect(loadedFrom(rec.loaded(), 'node_modules/@grpc/grpc-js/'), 'grpc-js before any export').toEqual([]);
      expect((await fetch(`http://127.0.0.1:${cli.ingressPort}/`)).status).toBe(200);
      cli.child.kill('SIGTERM'); // shutdown flushes the span: the first export
      expect(await cli.exited).toBe(0);
      await sink.waitForSpans(1);
      expect(loadedFrom(rec.loaded(), 'node_modules/@grpc/grpc-js/').length, 'grpc-js for the export').toBeGreaterThan(0);
    } finally {
      await sink.close();
    }
  });

  it("a start and a GET load no YAML parser, schema compiler, OTLP codec, undici, gRPC or Node's bundled undici; a config file and a POST /v1/traces load theirs; a request body still no undici", async () => {
    const rec = recording();
    const cli = await startCli(['--target', target, '--port', '127.0.0.1:0', '--admin-port', '0'], { nodeArgs: rec.nodeArgs, env: rec.env });
    expect((await fetch(`http://127.0.0.1:${cli.ingressPort}/`)).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const plain = rec.loaded();
    for (const [what, path] of NOT_AT_START) expect(loadedFrom(plain, path), what).toEqual([]);
    // Requests to an http:// target go through tracecar's own HTTP/1.1 client (proxy/h1-client.ts);
    // undici's Agent is loaded for an https:// target or a WebSocket handshake.
    expect(loadedFrom(plain, 'node_modules/undici/'), 'undici').toEqual([]);
    // An ES import of node:http reads its WebSocket getter, which loads Node's bundled undici
    // (~4 MiB of idle RSS in the sidecar): the bundle requires node:http (scripts/bundle-cli.mjs).
    const builtins = rec.builtins();
    expect(builtins, 'node:http').toContain('http');
    expect(builtins.filter((m) => m.startsWith('internal/deps/undici')), "Node's bundled undici").toEqual([]);

    const config = join(dir, 'tracecar.yaml');
    writeFileSync(config, `ingress:\n  target: ${target}\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n`);
    const rec2 = recording();
    const cli2 = await startCli(['--config', config], { nodeArgs: rec2.nodeArgs, env: rec2.env });
    const posted = await fetch(`http://127.0.0.1:${cli2.adminPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(posted.status).toBe(200);
    const withBody = await fetch(`http://127.0.0.1:${cli2.ingressPort}/`, { method: 'POST', body: 'a body' });
    expect(withBody.status).toBe(200);
    cli2.child.kill('SIGTERM');
    expect(await cli2.exited).toBe(0);
    const withFile = rec2.loaded();
    expect(loadedFrom(withFile, 'node_modules/yaml/').length, 'yaml, for the file').toBeGreaterThan(0);
    expect(loadedFrom(withFile, 'node_modules/protobufjs/').length, 'protobufjs, for the POST').toBeGreaterThan(0);
    expect(loadedFrom(withFile, 'node_modules/ajv/dist/core'), "ajv's compiler").toEqual([]);
    expect(loadedFrom(withFile, 'node_modules/undici/'), 'undici, after a request with a body').toEqual([]);
  });
});
