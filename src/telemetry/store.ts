/**
 * The in-memory trace store behind the admin viewer: the last N traces, bounded by count and by an
 * estimated byte budget. Spans (this process's own and those received over OTLP) are grouped by trace
 * id; whole traces leave oldest-first. add() is O(attributes of the span) with no scans, so the proxy
 * can call it on the request path; listing and summaries are computed when the admin API asks.
 */
import type { AttributeValue, SpanRecord } from './span.js';
import { grpcStatusName } from '../grpc/index.js';

export interface TraceStoreOptions {
  /** Traces kept; the oldest whole trace leaves first. @default 1000 */
  maxTraces: number;
  /** Estimated bytes of span data kept (a budget, not an exact heap measure). @default 64 MiB */
  maxBytes: number;
  /** Spans kept per trace; further spans of that trace are dropped and counted. @default 5000 */
  maxSpansPerTrace?: number;
}

export interface TraceFilter {
  /** A span of the trace was recorded by this service (exact). */
  service?: string;
  /** A span name of the trace contains this (case-insensitive), e.g. "GET /orders". */
  route?: string;
  status?: 'error' | 'ok';
  /** Trace duration bounds, milliseconds. */
  minDuration?: number;
  maxDuration?: number;
  /** Trace start bounds, epoch milliseconds. */
  since?: number;
  until?: number;
  /** Trace id or a prefix of it (case-insensitive). */
  traceId?: string;
  /** A span of the trace carries this correlation id. */
  correlationId?: string;
  /** Newest first; @default 100, at most 1000. */
  limit?: number;
}

export interface TraceSummary {
  traceId: string;
  /** Name and service of the root span (or of the earliest span whose parent is not in the store). */
  rootName: string;
  rootService: string;
  /** http.response.status_code of the root span, if any. */
  rootStatusCode?: number;
  /** gRPC status name of the root span (rpc.status_code), if it is a gRPC call. */
  rootRpcStatus?: string;
  services: string[];
  /** Epoch milliseconds. */
  startTime: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  error: boolean;
  correlationId?: string;
}

export interface RouteStats {
  service: string;
  /** Span name, e.g. "GET /orders/:id". */
  name: string;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ErrorPattern {
  service: string;
  route: string;
  kind: SpanRecord['kind'];
  /** http.response.status_code, when the span has one. */
  statusCode?: number;
  /** gRPC status name (rpc.status_code), when the span is a gRPC call: patterns group by it. */
  rpcStatus?: string;
  /** error.type, or the span status message. */
  cause?: string;
  count: number;
  /** Epoch milliseconds of the latest occurrence. */
  lastSeen: number;
  /** A trace showing the pattern (the latest). */
  exampleTraceId: string;
}

export interface DependencyNode {
  service: string;
  spanCount: number;
  errorCount: number;
  /** true when the node is only known as a call target (a client span's server.address). */
  external: boolean;
}

export interface DependencyEdge {
  from: string;
  to: string;
  /** Calls seen: child spans in `to` whose parent span is in `from`, or client spans to an external peer. */
  calls: number;
  errors: number;
}

export interface StoreSummary {
  routes: RouteStats[];
  errors: ErrorPattern[];
  dependencies: { nodes: DependencyNode[]; edges: DependencyEdge[] };
  traces: number;
  spans: number;
}

export interface TraceStoreStats {
  traces: number;
  spans: number;
  bytes: number;
  maxTraces: number;
  maxBytes: number;
  evictedTraces: number;
  droppedSpans: number;
}

export interface TraceStore {
  /** Keep a finished span. Never throws. */
  add(span: SpanRecord): void;
  list(filter?: TraceFilter): TraceSummary[];
  /** The trace's spans ordered by start time, or undefined when not (or no longer) stored. */
  get(traceId: string): SpanRecord[] | undefined;
  summary(): StoreSummary;
  /** Services seen in stored traces, sorted. */
  services(): string[];
  stats(): TraceStoreStats;
  clear(): void;
}

export const CORRELATION_ATTRIBUTES = ['tracecar.correlation_id', 'http.request.header.x-request-id'] as const;

interface TraceEntry {
  traceId: string;
  spans: SpanRecord[];
  /** Span id index, built only once a trace grows large (most traces hold a handful of spans). */
  spanIndex?: Set<string>;
  bytes: number;
  start: number;
  end: number;
  /*
   * Small arrays rather than Sets: every request makes a trace entry and the store keeps 1000 of
   * them, so per-entry allocations show up as GC time on the request path.
   */
  services: string[];
  correlationIds: string[];
  errorCount: number;
  /** Cached summary, dropped when a span is added. */
  summary?: TraceSummary;
}

const SPAN_OVERHEAD = 360;
/** Past this many spans a trace gets a Set index for de-duplication. */
const SPAN_INDEX_FROM = 32;

function hasSpan(entry: TraceEntry, spanId: string): boolean {
  if (entry.spanIndex) return entry.spanIndex.has(spanId);
  for (const s of entry.spans) if (s.spanId === spanId) return true;
  return false;
}
const ATTR_OVERHEAD = 48;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function valueBytes(v: AttributeValue): number {
  if (typeof v === 'string') return 16 + v.length * 2;
  if (Array.isArray(v)) {
    let n = 16;
    for (const x of v) n += typeof x === 'string' ? 16 + x.length * 2 : 8;
    return n;
  }
  return 8;
}

function attributesBytes(attrs: Record<string, AttributeValue> | undefined): number {
  if (!attrs) return 0;
  let n = 0;
  for (const key in attrs) n += ATTR_OVERHEAD + key.length * 2 + valueBytes(attrs[key]);
  return n;
}

/** A rough, stable estimate of the memory one span record holds (resource objects are shared, not counted). */
export function estimateSpanBytes(span: SpanRecord): number {
  let n = SPAN_OVERHEAD + (span.name.length + span.service.length + (span.traceState?.length ?? 0)) * 2;
  n += attributesBytes(span.attributes);
  for (const e of span.events) n += 64 + e.name.length * 2 + attributesBytes(e.attributes);
  for (const l of span.links) n += 160 + attributesBytes(l.attributes);
  if (span.status.message) n += span.status.message.length * 2;
  return n;
}

export function httpStatusOf(span: SpanRecord): number | undefined {
  const v = span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The gRPC status name of a span: rpc.status_code (current conventions, a name), or the integer
 * rpc.grpc.status_code of the older ones.
 */
export function rpcStatusOf(span: SpanRecord): string | undefined {
  const v = span.attributes['rpc.status_code'] ?? span.attributes['rpc.response.status_code'];
  if (typeof v === 'string' && v !== '') return v;
  const legacy = span.attributes['rpc.grpc.status_code'];
  if (typeof legacy === 'number') return grpcStatusName(legacy);
  return undefined;
}

/** A span counts as an error when its status says so or it is a SERVER span that answered 5xx. */
export function isErrorSpan(span: SpanRecord): boolean {
  if (span.status.code === 'error') return true;
  if (span.kind === 'server') {
    const status = httpStatusOf(span);
    return status !== undefined && status >= 500;
  }
  return false;
}

export function correlationIdOf(span: SpanRecord): string | undefined {
  for (const key of CORRELATION_ATTRIBUTES) {
    const v = span.attributes[key];
    if (typeof v === 'string' && v !== '') return v;
    if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
  }
  return undefined;
}

function causeOf(span: SpanRecord): string | undefined {
  const t = span.attributes['error.type'];
  if (typeof t === 'string' && t !== '') return t;
  if (span.status.message) return span.status.message;
  return undefined;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function positive(n: number | undefined, fallback: number): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

export function createTraceStore(options: TraceStoreOptions): TraceStore {
  const maxTraces = positive(options.maxTraces, 1000);
  const maxBytes = positive(options.maxBytes, 64 * 1024 * 1024);
  const maxSpansPerTrace = positive(options.maxSpansPerTrace, 5000);

  /** Insertion order = age: the first key is the oldest trace. */
  const traces = new Map<string, TraceEntry>();
  let totalBytes = 0;
  let totalSpans = 0;
  let evictedTraces = 0;
  let droppedSpans = 0;
  let version = 0;
  let summaryCache: { version: number; value: StoreSummary } | undefined;

  function evict(entry: TraceEntry): void {
    traces.delete(entry.traceId);
    totalBytes -= entry.bytes;
    totalSpans -= entry.spans.length;
    evictedTraces++;
  }

  function add(span: SpanRecord): void {
    try {
      let entry = traces.get(span.traceId);
      if (!entry) {
        entry = {
          traceId: span.traceId,
          spans: [],
          bytes: 0,
          start: span.startTime,
          end: span.endTime,
          services: [],
          correlationIds: [],
          errorCount: 0,
        };
        traces.set(span.traceId, entry);
      }
      const bytes = estimateSpanBytes(span);
      if (hasSpan(entry, span.spanId)) {
        // The same span twice (e.g. also received over OTLP): keep the newer copy.
        const i = entry.spans.findIndex((s) => s.spanId === span.spanId);
        const old = entry.spans[i];
        const oldBytes = estimateSpanBytes(old);
        if (isErrorSpan(old)) entry.errorCount--;
        entry.spans[i] = span;
        entry.bytes += bytes - oldBytes;
        totalBytes += bytes - oldBytes;
      } else {
        if (entry.spans.length >= maxSpansPerTrace) {
          droppedSpans++;
          return;
        }
        entry.spans.push(span);
        if (entry.spanIndex) entry.spanIndex.add(span.spanId);
        else if (entry.spans.length > SPAN_INDEX_FROM) entry.spanIndex = new Set(entry.spans.map((x) => x.spanId));
        entry.bytes += bytes;
        totalBytes += bytes;
        totalSpans++;
      }
      if (span.startTime < entry.start) entry.start = span.startTime;
      if (span.endTime > entry.end) entry.end = span.endTime;
      if (!entry.services.includes(span.service)) entry.services.push(span.service);
      const cid = correlationIdOf(span);
      if (cid !== undefined && !entry.correlationIds.includes(cid)) entry.correlationIds.push(cid);
      if (isErrorSpan(span)) entry.errorCount++;
      entry.summary = undefined;
      version++;

      // Evict whole oldest traces; the trace just added to stays even if it alone is over budget.
      while (traces.size > maxTraces || (totalBytes > maxBytes && traces.size > 1)) {
        const oldest = traces.values().next().value as TraceEntry;
        if (oldest === entry) {
          // Only possible for the byte budget: move it to the back and evict the next oldest.
          traces.delete(entry.traceId);
          traces.set(entry.traceId, entry);
          continue;
        }
        evict(oldest);
      }
    } catch {
      // A malformed record must never break the request path.
      droppedSpans++;
    }
  }

  function summarize(entry: TraceEntry): TraceSummary {
    if (entry.summary) return entry.summary;
    const ids = new Set(entry.spans.map((x) => x.spanId));
    let root: SpanRecord | undefined;
    for (const s of entry.spans) {
      const isRoot = !s.parentSpanId || !ids.has(s.parentSpanId);
      if (!isRoot) continue;
      // A true root (no parent at all) beats an orphan; then the earliest.
      if (!root || (!s.parentSpanId && root.parentSpanId) || (!s.parentSpanId === !root.parentSpanId && s.startTime < root.startTime)) {
        root = s;
      }
    }
    root ??= entry.spans[0];
    let correlationId: string | undefined = correlationIdOf(root);
    if (correlationId === undefined) for (const c of entry.correlationIds) { correlationId = c; break; }
    const summary: TraceSummary = {
      traceId: entry.traceId,
      rootName: root.name,
      rootService: root.service,
      rootStatusCode: httpStatusOf(root),
      rootRpcStatus: rpcStatusOf(root),
      services: [...entry.services].sort(),
      startTime: entry.start,
      durationMs: round3(Math.max(0, entry.end - entry.start)),
      spanCount: entry.spans.length,
      errorCount: entry.errorCount,
      error: entry.errorCount > 0,
      correlationId,
    };
    entry.summary = summary;
    return summary;
  }

  function matches(entry: TraceEntry, f: TraceFilter, route: string | undefined, traceIdPrefix: string | undefined): boolean {
    if (traceIdPrefix && !entry.traceId.startsWith(traceIdPrefix)) return false;
    if (f.service && !entry.services.includes(f.service)) return false;
    if (f.correlationId && !entry.correlationIds.includes(f.correlationId)) return false;
    if (f.status === 'error' && entry.errorCount === 0) return false;
    if (f.status === 'ok' && entry.errorCount > 0) return false;
    const duration = entry.end - entry.start;
    if (f.minDuration !== undefined && duration < f.minDuration) return false;
    if (f.maxDuration !== undefined && duration > f.maxDuration) return false;
    if (f.since !== undefined && entry.start < f.since) return false;
    if (f.until !== undefined && entry.start > f.until) return false;
    if (route && !entry.spans.some((s) => s.name.toLowerCase().includes(route))) return false;
    return true;
  }

  function list(filter: TraceFilter = {}): TraceSummary[] {
    const limit = Math.min(MAX_LIMIT, positive(filter.limit, DEFAULT_LIMIT));
    const route = filter.route ? filter.route.toLowerCase() : undefined;
    const prefix = filter.traceId ? filter.traceId.toLowerCase() : undefined;
    const all = [...traces.values()];
    const out: TraceSummary[] = [];
    // Newest first: the newest traces were inserted last.
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      if (matches(all[i], filter, route, prefix)) out.push(summarize(all[i]));
    }
    return out;
  }

  function get(traceId: string): SpanRecord[] | undefined {
    const entry = traces.get(traceId.toLowerCase());
    if (!entry) return undefined;
    return [...entry.spans].sort((a, b) => a.startTime - b.startTime || (a.parentSpanId ? 1 : 0) - (b.parentSpanId ? 1 : 0));
  }

  function computeSummary(): StoreSummary {
    const routeDurations = new Map<string, { service: string; name: string; durations: number[]; errors: number }>();
    const patterns = new Map<string, ErrorPattern>();
    const nodes = new Map<string, DependencyNode>();
    const edges = new Map<string, DependencyEdge>();

    const node = (service: string, external: boolean): DependencyNode => {
      let n = nodes.get(service);
      if (!n) nodes.set(service, (n = { service, spanCount: 0, errorCount: 0, external }));
      else if (!external) n.external = false;
      return n;
    };
    const edge = (from: string, to: string, error: boolean): void => {
      const key = `${from}\u0000${to}`;
      let e = edges.get(key);
      if (!e) edges.set(key, (e = { from, to, calls: 0, errors: 0 }));
      e.calls++;
      if (error) e.errors++;
    };

    for (const entry of traces.values()) {
      const byId = new Map<string, SpanRecord>();
      for (const s of entry.spans) byId.set(s.spanId, s);
      /** Client spans with a child in another service: their call is already an edge. */
      const answered = new Set<string>();

      for (const s of entry.spans) {
        const error = isErrorSpan(s);
        const n = node(s.service, false);
        n.spanCount++;
        if (error) n.errorCount++;

        if (s.kind === 'server') {
          const key = `${s.service}\u0000${s.name}`;
          let r = routeDurations.get(key);
          if (!r) routeDurations.set(key, (r = { service: s.service, name: s.name, durations: [], errors: 0 }));
          r.durations.push(Math.max(0, s.endTime - s.startTime));
          if (error) r.errors++;
        }

        if (error) {
          const statusCode = httpStatusOf(s);
          const rpcStatus = rpcStatusOf(s);
          const cause = causeOf(s);
          // A gRPC call's HTTP status is 200 whatever happened: its gRPC code is what groups it.
          const key = [s.service, s.name, s.kind, statusCode ?? '', rpcStatus ?? '', cause ?? ''].join('\u0000');
          let p = patterns.get(key);
          if (!p) {
            p = { service: s.service, route: s.name, kind: s.kind, statusCode, cause, count: 0, lastSeen: 0, exampleTraceId: s.traceId };
            if (rpcStatus !== undefined) p.rpcStatus = rpcStatus;
            patterns.set(key, p);
          }
          p.count++;
          if (s.endTime >= p.lastSeen) {
            p.lastSeen = s.endTime;
            p.exampleTraceId = s.traceId;
          }
        }

        const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
        if (parent && parent.service !== s.service) {
          edge(parent.service, s.service, error);
          answered.add(parent.spanId);
        }
      }

      // Client spans whose callee reports no spans here: an edge to the peer they called.
      for (const s of entry.spans) {
        if (s.kind !== 'client' || answered.has(s.spanId)) continue;
        const hasChild = entry.spans.some((c) => c.parentSpanId === s.spanId);
        if (hasChild) continue;
        const peer = s.attributes['peer.service'] ?? s.attributes['server.address'];
        if (typeof peer !== 'string' || peer === '' || peer === s.service) continue;
        node(peer, true);
        edge(s.service, peer, isErrorSpan(s) || (httpStatusOf(s) ?? 0) >= 500);
      }
    }

    const routes: RouteStats[] = [];
    for (const r of routeDurations.values()) {
      const sorted = r.durations.sort((a, b) => a - b);
      routes.push({
        service: r.service,
        name: r.name,
        count: sorted.length,
        errors: r.errors,
        p50: round3(percentile(sorted, 50)),
        p95: round3(percentile(sorted, 95)),
        p99: round3(percentile(sorted, 99)),
        max: round3(sorted[sorted.length - 1] ?? 0),
      });
    }
    routes.sort((a, b) => b.p95 - a.p95 || b.count - a.count);

    const errors = [...patterns.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
    return {
      routes,
      errors,
      dependencies: {
        nodes: [...nodes.values()].sort((a, b) => a.service.localeCompare(b.service)),
        edges: [...edges.values()].sort((a, b) => b.calls - a.calls),
      },
      traces: traces.size,
      spans: totalSpans,
    };
  }

  function summary(): StoreSummary {
    if (summaryCache && summaryCache.version === version) return summaryCache.value;
    const value = computeSummary();
    summaryCache = { version, value };
    return value;
  }

  function services(): string[] {
    const set = new Set<string>();
    for (const entry of traces.values()) for (const s of entry.services) set.add(s);
    return [...set].sort();
  }

  return {
    add,
    list,
    get,
    summary,
    services,
    stats: () => ({ traces: traces.size, spans: totalSpans, bytes: totalBytes, maxTraces, maxBytes, evictedTraces, droppedSpans }),
    clear: () => {
      traces.clear();
      totalBytes = 0;
      totalSpans = 0;
      version++;
    },
  };
}
