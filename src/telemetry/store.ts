/**
 * The in-memory trace store behind the admin viewer: the last N traces, bounded by count and by a
 * byte budget. Spans (this process's own and those received over OTLP) are grouped by trace id;
 * whole traces leave oldest-first.
 *
 * A span is kept compact: the few fields listing, filtering and summaries read (ids, name, kind,
 * service, times, HTTP status, error verdict and cause, correlation id, called peer) plus its OTLP
 * protobuf encoding as a one-byte string — the bytes span end already encoded for the exporter, or
 * that add() encodes for a received span. Attributes, events and links are decoded from those bytes
 * only when the API asks for the trace (get()). The byte budget counts what a span really holds:
 * its encoding and the strings it keeps, plus a fixed overhead per span and per trace measured
 * with V8's heap statistics (bench/store-add.mjs prints the check).
 */
import type { FinishedSpan, SpanSink } from './finish.js';
import { extraOverridesBase, hopAttributeObject, type Hop, type ResourceInfo } from './hop.js';
import { decodeSpanField } from './otlp/decode.js';
import { SpanEncoder } from './otlp/encode.js';
import { ProtoWriter } from './otlp/writer.js';
import type { Attributes, SpanKindName, SpanRecord } from './span.js';

export interface TraceStoreOptions {
  /** Traces kept; the oldest whole trace leaves first. @default 1000 */
  maxTraces: number;
  /** Bytes of span data kept: encodings, kept strings and per-span/per-trace overheads. @default 64 MiB */
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

export interface TraceStore extends SpanSink {
  /** Keep a span given as a record (received over OTLP, or built by a test). Never throws. */
  add(span: SpanRecord): void;
  list(filter?: TraceFilter): TraceSummary[];
  /** The summary of one trace (what list() shows for it), or undefined when not stored. O(1). */
  summaryOf(traceId: string): TraceSummary | undefined;
  /** The trace's spans ordered by start time, or undefined when not (or no longer) stored. */
  get(traceId: string): SpanRecord[] | undefined;
  summary(): StoreSummary;
  /** Services seen in stored traces, sorted. */
  services(): string[];
  stats(): TraceStoreStats;
  clear(): void;
}

export const CORRELATION_ATTRIBUTES = ['tracecar.correlation_id', 'http.request.header.x-request-id'] as const;

/** One stored span: what listing and summaries read, and its OTLP bytes for everything else. */
class StoredSpan {
  constructor(
    readonly spanId: string,
    readonly parentSpanId: string | undefined,
    readonly name: string,
    readonly kind: SpanKindName,
    readonly service: string,
    readonly startTime: number,
    readonly endTime: number,
    /** http.response.status_code (or the older http.status_code). */
    readonly statusCode: number | undefined,
    /** The store's error rule: status ERROR, or a SERVER span that answered 5xx. */
    readonly error: boolean,
    /** error.type, or the status message. */
    readonly cause: string | undefined,
    readonly correlationId: string | undefined,
    /** Who a CLIENT span called: peer.service, else server.address. */
    readonly peer: string | undefined,
    /** Resource attributes other than service.name (shared between spans of one process or request). */
    readonly resource: Attributes | undefined,
    readonly scope: string | undefined,
    /** Events and links carry an `attributes` object even when empty (the shape of received spans). */
    readonly emptyAttributes: boolean,
    /** The span's OTLP protobuf (a ScopeSpans `spans` field), one character per byte. */
    readonly data: string,
  ) {}
}

interface TraceEntry {
  traceId: string;
  spans: StoredSpan[];
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

/**
 * Heap bytes a stored span holds besides its encoding and strings (the StoredSpan object, its two
 * boxed times, the one-byte string header, its slot in the trace's array), and a trace besides its
 * spans (entry object, arrays, Map slot, trace id, a cached summary). Measured with
 * v8.getHeapStatistics() over 100k spans on Node 22 (bench/store-add.mjs re-measures and prints
 * the ratio of real heap growth to stats().bytes).
 */
export const SPAN_OVERHEAD_BYTES = 232;
export const TRACE_OVERHEAD_BYTES = 520;
/** Past this many spans a trace gets a Set index for de-duplication. */
const SPAN_INDEX_FROM = 32;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** Heap bytes one stored one-byte string of this length takes (16-byte header, 8-byte aligned). */
function stringBytes(s: string | undefined): number {
  return s === undefined ? 0 : 16 + ((s.length + 7) & ~7);
}

function storedBytes(s: StoredSpan): number {
  return (
    SPAN_OVERHEAD_BYTES +
    stringBytes(s.data) +
    stringBytes(s.spanId) +
    stringBytes(s.name) +
    stringBytes(s.parentSpanId) +
    stringBytes(s.cause) +
    stringBytes(s.correlationId) +
    stringBytes(s.peer)
  );
}

function hasSpan(entry: TraceEntry, spanId: string): boolean {
  if (entry.spanIndex) return entry.spanIndex.has(spanId);
  for (const s of entry.spans) if (s.spanId === spanId) return true;
  return false;
}

function statusOfAttributes(attributes: Attributes): number | undefined {
  const v = attributes['http.response.status_code'] ?? attributes['http.status_code'];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function correlationIdOfAttributes(attributes: Attributes): string | undefined {
  for (const key of CORRELATION_ATTRIBUTES) {
    const v = attributes[key];
    if (typeof v === 'string' && v !== '') return v;
    if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
  }
  return undefined;
}

export function httpStatusOf(span: SpanRecord): number | undefined {
  return statusOfAttributes(span.attributes);
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
  return correlationIdOfAttributes(span.attributes);
}

/** error.type, or the status message. */
function causeOf(attributes: Attributes, statusMessage: string | undefined): string | undefined {
  const t = attributes['error.type'];
  if (typeof t === 'string' && t !== '') return t;
  return statusMessage || undefined;
}

function peerOf(attributes: Attributes): string | undefined {
  const peer = attributes['peer.service'] ?? attributes['server.address'];
  return typeof peer === 'string' && peer !== '' ? peer : undefined;
}

/** Attribute keys the stored fields are derived from: a stage's extra attribute with one of these needs the slow path. */
const DERIVED_KEYS: ReadonlySet<string> = new Set([
  'http.response.status_code',
  'http.status_code',
  'error.type',
  'peer.service',
  'server.address',
  ...CORRELATION_ATTRIBUTES,
]);

function extraTouchesDerived(hop: Hop): boolean {
  const extra = hop.extra;
  if (extra) for (const key in extra) if (DERIVED_KEYS.has(key)) return true;
  return false;
}

/** A span of this process, from its Hop and the encoding span end made. */
function storedFromHop(hop: Hop, resource: ResourceInfo, data: string): StoredSpan {
  if (hop.extra !== undefined && (extraTouchesDerived(hop) || extraOverridesBase(hop))) {
    const attributes = hopAttributeObject(hop);
    const statusCode = statusOfAttributes(attributes);
    const error = hop.isError || (hop.kind === 'server' && statusCode !== undefined && statusCode >= 500);
    const message = hop.isError ? (hop.errorMessage ?? `HTTP ${hop.status}`) : undefined;
    return new StoredSpan(
      hop.spanId, hop.parentSpanId, hop.name, hop.kind, resource.service, hop.startTime, hop.endTime, statusCode, error,
      error ? causeOf(attributes, message) : undefined, correlationIdOfAttributes(attributes), peerOf(attributes),
      resource.resource, 'tracecar', false, data,
    );
  }
  const error = hop.isError;
  return new StoredSpan(
    hop.spanId,
    hop.parentSpanId,
    hop.name,
    hop.kind,
    resource.service,
    hop.startTime,
    hop.endTime,
    hop.status > 0 ? hop.status : undefined,
    error,
    // error.type is written for every error span (hopAttributes), so it is the cause.
    error ? (hop.errorType ?? String(hop.status)) : undefined,
    hop.correlationId || undefined,
    hop.peerService || hop.serverAddress || undefined,
    resource.resource,
    'tracecar',
    false,
    data,
  );
}

function storedFromRecord(span: SpanRecord, data: string): StoredSpan {
  const statusCode = statusOfAttributes(span.attributes);
  const error = isErrorSpan(span);
  const every = (list: ReadonlyArray<{ attributes?: Attributes }>): boolean => list.every((x) => x.attributes !== undefined);
  return new StoredSpan(
    span.spanId,
    span.parentSpanId,
    span.name,
    span.kind,
    span.service,
    span.startTime,
    span.endTime,
    statusCode,
    error,
    error ? causeOf(span.attributes, span.status.message) : undefined,
    correlationIdOfAttributes(span.attributes),
    peerOf(span.attributes),
    span.resource,
    span.scope,
    (span.events.length > 0 || span.links.length > 0) && every(span.events) && every(span.links),
    data,
  );
}

/** The stored span as the API shows it: fields it kept, the rest decoded from its bytes. */
function toRecord(traceId: string, s: StoredSpan): SpanRecord {
  const body = decodeSpanField(Buffer.from(s.data, 'latin1'), s.emptyAttributes);
  return {
    traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    traceState: body.traceState,
    traceFlags: body.traceFlags,
    name: s.name,
    kind: s.kind,
    startTime: s.startTime,
    endTime: s.endTime,
    attributes: body.attributes,
    events: body.events,
    links: body.links,
    status: body.status,
    service: s.service,
    resource: s.resource,
    scope: s.scope,
    sampled: true,
  };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
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
  /** Encodes spans given as records (received over OTLP). */
  let recordEncoder: SpanEncoder | undefined;

  function evict(entry: TraceEntry): void {
    traces.delete(entry.traceId);
    totalBytes -= entry.bytes;
    totalSpans -= entry.spans.length;
    evictedTraces++;
  }

  function insert(traceId: string, span: StoredSpan): void {
    let entry = traces.get(traceId);
    if (!entry) {
      entry = {
        traceId,
        spans: [],
        bytes: TRACE_OVERHEAD_BYTES,
        start: span.startTime,
        end: span.endTime,
        services: [],
        correlationIds: [],
        errorCount: 0,
      };
      traces.set(traceId, entry);
      totalBytes += TRACE_OVERHEAD_BYTES;
    }
    const bytes = storedBytes(span);
    if (hasSpan(entry, span.spanId)) {
      // The same span twice (e.g. also received over OTLP): keep the newer copy.
      const i = entry.spans.findIndex((s) => s.spanId === span.spanId);
      const old = entry.spans[i]!;
      const oldBytes = storedBytes(old);
      if (old.error) entry.errorCount--;
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
    const cid = span.correlationId;
    if (cid !== undefined && !entry.correlationIds.includes(cid)) entry.correlationIds.push(cid);
    if (span.error) entry.errorCount++;
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
  }

  function add(span: SpanRecord): void {
    try {
      const encoder = (recordEncoder ??= new SpanEncoder(new ProtoWriter(4096)));
      encoder.w.pos = 0;
      encoder.record(span);
      insert(span.traceId, storedFromRecord(span, encoder.w.buf.toString('latin1', 0, encoder.w.pos)));
    } catch {
      // A malformed record must never break the caller.
      droppedSpans++;
    }
  }

  function spanEnded(span: FinishedSpan): void {
    try {
      const w = span.protobuf();
      insert(span.hop.traceId, storedFromHop(span.hop, span.resource, w.buf.toString('latin1', 0, w.pos)));
    } catch {
      droppedSpans++;
    }
  }

  function summarize(entry: TraceEntry): TraceSummary {
    if (entry.summary) return entry.summary;
    const ids = new Set(entry.spans.map((x) => x.spanId));
    let root: StoredSpan | undefined;
    for (const s of entry.spans) {
      const isRoot = !s.parentSpanId || !ids.has(s.parentSpanId);
      if (!isRoot) continue;
      // A true root (no parent at all) beats an orphan; then the earliest.
      if (!root || (!s.parentSpanId && root.parentSpanId) || (!s.parentSpanId === !root.parentSpanId && s.startTime < root.startTime)) {
        root = s;
      }
    }
    root ??= entry.spans[0]!;
    let correlationId: string | undefined = root.correlationId;
    if (correlationId === undefined) for (const c of entry.correlationIds) { correlationId = c; break; }
    const summary: TraceSummary = {
      traceId: entry.traceId,
      rootName: root.name,
      rootService: root.service,
      rootStatusCode: root.statusCode,
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
      if (matches(all[i]!, filter, route, prefix)) out.push(summarize(all[i]!));
    }
    return out;
  }

  function summaryOf(traceId: string): TraceSummary | undefined {
    const entry = traces.get(traceId.toLowerCase());
    return entry ? summarize(entry) : undefined;
  }

  function get(traceId: string): SpanRecord[] | undefined {
    const entry = traces.get(traceId.toLowerCase());
    if (!entry) return undefined;
    const sorted = [...entry.spans].sort((a, b) => a.startTime - b.startTime || (a.parentSpanId ? 1 : 0) - (b.parentSpanId ? 1 : 0));
    return sorted.map((s) => toRecord(entry.traceId, s));
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
      const byId = new Map<string, StoredSpan>();
      for (const s of entry.spans) byId.set(s.spanId, s);
      /** Client spans with a child in another service: their call is already an edge. */
      const answered = new Set<string>();

      for (const s of entry.spans) {
        const error = s.error;
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
          const statusCode = s.statusCode;
          const cause = s.cause;
          const key = [s.service, s.name, s.kind, statusCode ?? '', cause ?? ''].join('\u0000');
          let p = patterns.get(key);
          if (!p) {
            patterns.set(key, (p = { service: s.service, route: s.name, kind: s.kind, statusCode, cause, count: 0, lastSeen: 0, exampleTraceId: entry.traceId }));
          }
          p.count++;
          if (s.endTime >= p.lastSeen) {
            p.lastSeen = s.endTime;
            p.exampleTraceId = entry.traceId;
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
        const peer = s.peer;
        if (peer === undefined || peer === s.service) continue;
        node(peer, true);
        edge(s.service, peer, s.error || (s.statusCode ?? 0) >= 500);
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
    spanEnded,
    list,
    summaryOf,
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
