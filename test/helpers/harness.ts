/**
 * Real listeners on port 0 for end-to-end tests: upstream apps, tracecar in-process, and a
 * logger that captures the JSON lines tracecar writes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { TracecarConfig, TracecarConfigInput } from '../../src/config/types.js';
import { createTracecar, type Tracecar, type TracecarAddresses } from '../../src/tracecar.js';
import { createLogger, type Logger } from '../../src/log.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(patch) || !isPlainObject(base)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k], v) : v;
  return out as T;
}

/** DEFAULTS with loopback listeners on free ports, console off, and the given patch on top. */
export function testConfig(patch: TracecarConfigInput = {}): TracecarConfig {
  const base = merge(structuredClone(DEFAULTS), {
    ingress: { listen: '127.0.0.1:0' },
    admin: { listen: '127.0.0.1:0' },
    export: { console: 'json' },
    log: { level: 'info' },
  });
  return merge(base, patch);
}

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogger(): CapturedLog {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        raw.push(line);
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // keep raw only
        }
      }
      cb();
    },
  });
  // pino writes synchronously to a plain Writable: lines are visible as soon as a request ends.
  const logger = createLogger({ level: 'info', pretty: false, stream });
  return { logger, lines, text: () => raw.join('\n') };
}

export interface RunningTracecar {
  tracecar: Tracecar;
  addresses: TracecarAddresses;
  /** http://127.0.0.1:PORT of the ingress listener. */
  url: string;
  adminUrl?: string;
  log: CapturedLog;
  close(): Promise<void>;
}

export async function startTracecar(patch: TracecarConfigInput): Promise<RunningTracecar> {
  const log = captureLogger();
  const tracecar = createTracecar(testConfig(patch), { logger: log.logger });
  const addresses = await tracecar.listen();
  return {
    tracecar,
    addresses,
    url: `http://127.0.0.1:${addresses.ingress.port}`,
    adminUrl: addresses.admin ? `http://127.0.0.1:${addresses.admin.port}` : undefined,
    log,
    close: () => tracecar.close(),
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  url: string;
  port: number;
  server: Server;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP app. The default handler records the request (body included) and answers 200 with
 * a JSON echo; pass `handler` to do anything else (it gets the recorded request once the body ended,
 * unless `raw` is set, in which case it gets the live req/res at once).
 */
export async function startUpstream(
  handler?: (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void,
  options: { raw?: boolean } = {},
): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    if (options.raw && handler) {
      const seen: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) };
      requests.push(seen);
      handler(req, res, seen);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      requests.push(seen);
      if (handler) return handler(req, res, seen);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: seen.method, url: seen.url, headers: seen.headers, bodyLength: seen.body.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * For a describe block: the default echo app (startUpstream) behind an in-process tracecar,
 * started before the block's tests and closed after them. `patch` builds the config from the app.
 */
export function proxiedApp(patch: (app: Upstream) => TracecarConfigInput = (app) => ({ ingress: { target: app.url } })): { readonly app: Upstream; readonly tc: RunningTracecar } {
  const env = {} as { app: Upstream; tc: RunningTracecar };
  beforeAll(async () => {
    env.app = await startUpstream();
    env.tc = await startTracecar(patch(env.app));
  });
  afterAll(async () => {
    await env.tc?.close();
    await env.app?.close();
  });
  return env;
}
