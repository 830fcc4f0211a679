/**
 * Helpers for the admin end-to-end suites: an instrumented app (OpenTelemetry SDK, OTLP/HTTP to a
 * tracecar admin receiver), small HTTP getters, and the sockets a process listens on (from /proc).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { request } from 'undici';

export interface InstrumentedApp {
  url: string;
  port: number;
  server: Server;
  /** Resolves once every span recorded so far has been exported. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An app that IS instrumented: it extracts W3C context from each request, records a SERVER span
 * (child of the caller's span) with a CLIENT child for its own database call, and exports them
 * over OTLP/HTTP (JSON) to `otlpUrl()` (read at first export, so it may point at a tracecar
 * started later). `handle` answers the request; its status code lands on the SERVER span.
 */
export async function startInstrumentedApp(opts: {
  service: string;
  otlpUrl: () => string;
  route: (path: string) => string;
  handle?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}): Promise<InstrumentedApp> {
  let provider: BasicTracerProvider | undefined;
  const tracerProvider = (): BasicTracerProvider =>
    (provider ??= new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.service }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: opts.otlpUrl() }))],
    }));
  const propagator = new W3CTraceContextPropagator();

  const server = createServer((req, res) => {
    const tracer = tracerProvider().getTracer('e2e-instrumented-app', '1.0.0');
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const path = (req.url ?? '/').split('?')[0];
    const name = `${req.method} ${opts.route(path)}`;
    const span = tracer.startSpan(name, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'http.route': opts.route(path) },
    }, parent);
    const db = tracer.startSpan('SELECT ledger', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'server.address': 'ledger-db' } }, trace.setSpan(parent, span));
    db.end();
    res.on('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    req.resume();
    req.on('end', () => {
      if (opts.handle) void opts.handle(req, res);
      else {
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`${opts.service} ok`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    flush: async () => {
      await provider?.forceFlush();
    },
    close: async () => {
      await provider?.shutdown();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`GET ${url} → ${r.status}: ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** The trace id in a W3C traceresponse header (version-traceid-spanid-flags). */
export function traceIdOf(headers: Record<string, string | string[] | undefined>): string {
  const v = String(headers.traceresponse ?? '');
  const id = v.split('-')[1];
  if (!id || !/^[0-9a-f]{32}$/.test(id)) throw new Error(`no traceresponse header (got "${v}")`);
  return id;
}

/** Nearest-rank percentile, as the store computes it. */
export function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * TCP ports the process `pid` listens on (Linux: its socket inodes matched against
 * /proc/<pid>/net/tcp and tcp6, state 0A = LISTEN).
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const [, local, , state, , , , , , inode] = cols;
      if (state === '0A' && inodes.has(inode)) ports.add(parseInt(local.split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}
