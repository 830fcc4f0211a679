import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';

/*
 * The official W3C Trace Context harness (test/vendor/w3c-trace-context, pinned, see its
 * SOURCE.md) against tracecar as deployed: harness → tracecar ingress → a header-copying app →
 * tracecar egress (forward proxy) → harness. The app has no tracing code: for each {url, arguments}
 * the harness posts, it POSTs `arguments` to `url` through egress, copying only the traceparent
 * and tracestate it received. STRICT_LEVEL=2 (tracestate checks on), SPEC_LEVEL=2 (Level 2: the
 * random flag). Every harness test must pass.
 */
const HARNESS = fileURLToPath(new URL('../vendor/w3c-trace-context/test/test.py', import.meta.url));
// Debian's interpreter: python3-aiohttp is installed for it (a pyenv/venv python3 on PATH may lack it).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface HarnessRun {
  code: number | null;
  output: string;
}

function runHarness(endpoint: string, port: number): Promise<HarnessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [HARNESS, endpoint], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        STRICT_LEVEL: '2',
        SPEC_LEVEL: '2',
        HARNESS_HOST: '127.0.0.1',
        HARNESS_PORT: String(port),
        // Keep the vendored tree clean (no __pycache__ next to the harness).
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A free loopback port for the harness's callback server (it takes a port number, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('W3C Trace Context conformance harness (test/test.py, STRICT_LEVEL=2, SPEC_LEVEL=2)', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  let egress = '';

  beforeAll(async () => {
    app = await startUpstream(async (req, res, seen) => {
      const actions = JSON.parse(seen.body.toString('utf8') || '[]') as Array<{ url: string; arguments?: unknown }>;
      const results: Array<{ url: string; status: number }> = [];
      for (const action of actions) {
        const r = await callOut(action.url, req.headers, { proxy: egress, forward: ['traceparent', 'tracestate'], method: 'POST', json: action.arguments ?? [] });
        results.push({ url: action.url, status: r.status });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(results));
    });
    tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0' }, admin: { listen: null } });
    egress = `http://127.0.0.1:${tc.addresses.egress!.port}`;
  });
  afterAll(async () => {
    await tc?.close();
    await app?.close();
  });

  it('every harness test passes', async () => {
    const probe = spawn(PYTHON, ['-c', 'import aiohttp'], { stdio: 'ignore' });
    const hasAiohttp = await new Promise<boolean>((resolve) => {
      probe.on('error', () => resolve(false));
      probe.on('close', (code) => resolve(code === 0));
    });
    expect(hasAiohttp, `${PYTHON} cannot import aiohttp: install Debian's python3-aiohttp (apt-get install -y python3-aiohttp; .ci/run does)`).toBe(true);

    // The harness binds a fixed port it is given; another test could take it between freePort()
    // and the bind, so a bind failure is retried on a new port.
    let run: HarnessRun | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      run = await runHarness(`${tc.url}/test`, await freePort());
      if (!/address already in use/i.test(run.output)) break;
    }
    const { code, output } = run!;
    // unittest -v: "test_x (__main__.Suite.test_x)", an optional docstring line, then "... ok".
    const results = [...output.matchAll(/^(test_\w+) \(__main__\.(\w+)[^)\n]*\)\n?(?:[^\n]*?) \.\.\. (\w+)/gm)].map((m) => ({ test: `${m[2]}.${m[1]}`, result: m[3] }));
    const failed = results.filter((r) => r.result !== 'ok');
    expect(failed, output).toEqual([]);
    expect(code, output).toBe(0);
    // All of the pinned harness's tests ran: none skipped by the strict or spec level.
    expect(output).toMatch(/^Ran (\d+) tests/m);
    const ran = Number(/^Ran (\d+) tests/m.exec(output)![1]);
    expect(results).toHaveLength(ran);
    expect(ran).toBe(41);
    expect(output).toMatch(/^OK$/m);
  }, 120_000);
});
