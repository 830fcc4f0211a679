/**
 * `npm run demo` (scripts/demo.mjs, on the built dist/): the whole local topology in one viewer.
 * Runs the script on free ports with a short DEMO_SECONDS and checks, through the orders
 * sidecar's admin API while it runs, that one trace holds orders SERVER → orders CLIENT →
 * payments SERVER (the payments spans arrived over OTLP/HTTP protobuf); then that the demo exits
 * by itself (and on SIGINT) and leaves no process or listener behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = existsSync(`${ROOT}dist/cli/main.js`);

interface ApiSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  service: string;
}
interface ApiTraceSummary {
  traceId: string;
  services: string[];
  spanCount: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PIDs of live processes whose environment carries the marker (Linux /proc; [] elsewhere). */
function processesWithMarker(marker: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

interface Demo {
  child: ChildProcess;
  marker: string;
  port: number;
  adminPort: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
}

const started: Demo[] = [];

async function startDemo(seconds: number): Promise<Demo> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const marker = `TRACECAR_DEMO_TEST_MARKER=${randomUUID()}`;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['scripts/demo.mjs'], {
    cwd: ROOT,
    env: cleanEnv({ DEMO_PORT: String(port), DEMO_ADMIN_PORT: String(adminPort), DEMO_SECONDS: String(seconds), [marker.split('=')[0]!]: marker.split('=')[1]! }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, afterMs: Date.now() - t0 })),
  );
  const demo = { child, marker, port, adminPort, output: () => output, exited };
  started.push(demo);
  return demo;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url);
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

afterEach(async () => {
  // A failed test must not leave the demo (or its children) running: stop what this file started.
  for (const demo of started.splice(0)) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGTERM');
      await Promise.race([demo.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    for (const pid of processesWithMarker(demo.marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

describe('npm run demo: two sidecars, one viewer', () => {
  beforeAll(() => {
    if (!BUILT) throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does) before the demo tests');
  });

  it('one trace in the orders viewer holds orders SERVER → orders CLIENT → payments SERVER; the demo then exits by itself, leaving nothing behind', async () => {
    const seconds = 6;
    const demo = await startDemo(seconds);
    const api = `http://127.0.0.1:${demo.adminPort}/api/traces`;

    // While it runs: a trace with spans from both services, read back through the admin API.
    const trace = await waitFor(
      async () => {
        if (demo.child.exitCode !== null) throw new Error(`the demo exited before a trace with both services reached the orders viewer\n${demo.output()}`);
        const list = await getJson<{ traces: ApiTraceSummary[] }>(`${api}?service=payments`);
        const both = list?.traces.find((t) => t.services.includes('orders') && t.services.includes('payments') && t.spanCount >= 3);
        return both && getJson<{ traceId: string; spans: ApiSpan[] }>(`${api}/${both.traceId}`);
      },
      seconds * 1000,
      () => `a trace with both services in the orders viewer\n${demo.output()}`,
      200,
    );

    const spans = trace.spans;
    const pick = (service: string, kind: string) => {
      const found = spans.filter((s) => s.service === service && s.kind === kind);
      expect(found, `${service} ${kind} in ${JSON.stringify(spans, null, 1)}`).toHaveLength(1);
      return found[0]!;
    };
    const ordersServer = pick('orders', 'server');
    const ordersClient = pick('orders', 'client');
    const paymentsServer = pick('payments', 'server');
    expect(spans.every((s) => s.traceId === trace.traceId)).toBe(true);
    expect(ordersServer.parentSpanId).toBeUndefined();
    expect(ordersClient.parentSpanId).toBe(ordersServer.spanId);
    expect(paymentsServer.parentSpanId).toBe(ordersClient.spanId);
    expect(ordersServer.name).toMatch(/^GET \//);
    expect(paymentsServer.name).toMatch(/^GET \/leaf\//);

    // It stops by itself, cleanly, and in time.
    const { code, afterMs } = await demo.exited;
    expect(code, demo.output()).toBe(0);
    expect(afterMs).toBeLessThan((seconds + 10) * 1000);
    expect(processesWithMarker(demo.marker)).toEqual([]);
    expect(await refused(demo.port)).toBe(true);
    expect(await refused(demo.adminPort)).toBe(true);

    // Terminal output: both sidecars' lines, each prefixed with its service.
    const out = demo.output();
    expect(out).toMatch(new RegExp(`^payments │ +traces +OTLP/HTTP protobuf http://127\\.0\\.0\\.1:${demo.adminPort}/v1/traces$`, 'm'));
    expect(out).toMatch(new RegExp(`^orders +│ +traces +terminal \\+ viewer http://127\\.0\\.0\\.1:${demo.adminPort}/$`, 'm'));
    expect(out).toMatch(/^payments │ \{.*"side":"ingress".*"path":"\/leaf\//m);
    expect(out).toMatch(/^orders +│ \{.*"side":"egress"/m);
    expect(out).not.toMatch(/span export failed|exited \(/);
    // The first request waited for every process: it went through, none was refused on the way.
    expect(out).toMatch(/^orders +│ \{.*"side":"ingress".*"request_id":"demo-1".*"status":200/m);
    expect(out).not.toMatch(/TRC_ERR_UPSTREAM_CONNECT/);
  }, 40_000);

  it('SIGINT (Ctrl-C) stops every process and listener at once', async () => {
    const demo = await startDemo(60);
    const ready = () => fetch(`http://127.0.0.1:${demo.adminPort}/readyz`).then((r) => r.ok, () => false);
    await waitFor(ready, 10_000, () => `the orders sidecar's /readyz\n${demo.output()}`, 100);
    // 2 apps + 2 sidecars (the demo too) all up before the signal.
    await waitFor(() => processesWithMarker(demo.marker).length >= 4, 10_000, () => `4 demo processes, got ${processesWithMarker(demo.marker).length}`, 100);

    const t0 = Date.now();
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code, demo.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(processesWithMarker(demo.marker)).toEqual([]);
    expect(await refused(demo.port)).toBe(true);
    expect(await refused(demo.adminPort)).toBe(true);
  }, 30_000);
});
