/**
 * The in-memory trace store behind the admin viewer: the last N traces, bounded by count and by a
 * byte budget. Spans (this process's own and those received over OTLP) are grouped by trace id;
 * whole traces leave oldest-first.
 *
 * A span is kept as its OTLP protobuf encoding in a one-byte string — the bytes span end already
 * made for the exporter, or that add() encodes for a received span — and nothing else: a trace of
 * one span is three heap objects (entry, trace id, bytes), so keeping the last thousand traces
 * costs the garbage collector little on the request path. Whatever the API asks for (summaries,
 * filters, the spans of a trace) is decoded from those bytes when it asks. The byte budget counts
 * what is really held: each span's bytes plus fixed per-span and per-trace overheads
 * (bench/store-add.mjs measures them against V8's heap and prints the ratio).
 */
import type { FinishedSpan, SpanSink } from './finish.js';
import type { ResourceInfo } from './hop.js';
import { decodeSpanField, spanIdKey, type DecodedSpan } from './otlp/decode.js';
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

/** Who recorded a span (shared by every span of one config version, or of one received request). */
interface SpanOrigin {
  readonly service: string;
  /** Resource attributes as the API shows them (received spans: without service.name). */
  readonly resource: Attributes | undefined;
  readonly scope: string | undefined;
  /** Events and links carry an `attributes` object even when empty (the shape of received spans). */
  readonly emptyAttributes: boolean;
}

/**
 * One trace. A trace of one span holds it in `data`/`origin`; a second span turns both into
 * arrays. `data` strings are ScopeSpans `spans` fields (tag, length, Span), one char per byte.
 */
interface TraceEntry {
  readonly traceId: string;
  /** Its place in the age order (see `order` in createTraceStore). */
  age: number;
  data: string | string[];
  origin: SpanOrigin | SpanOrigin[];
  /** Span id keys (spanIdKey) for de-duplication, once a trace grows large. */
  ids?: Set<string>;
  bytes: number;
  /** Cached summary, dropped when a span is added. */
  summary?: TraceSummary;
}

/** What listing, filtering and the summary read of a span, decoded from its bytes on demand. */
interface SpanFacts {
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKindName;
  service: string;
  startTime: number;
  endTime: number;
  statusCode: number | undefined;
  error: boolean;
  cause: string | undefined;
  correlationId: string | undefined;
  peer: string | undefined;
}

/** A trace's facts, built when a filter or the summary needs them (not kept). */
interface TraceFacts {
  spans: SpanFacts[];
  start: number;
  end: number;
  services: string[];
  correlationIds: string[];
  errorCount: number;
}

/**
 * Heap bytes besides the span bytes themselves: per span, the one-byte string's header and its
 * slot in the trace's arrays; per trace, the entry object, its trace id string and its Map slot.
 * Measured against v8.getHeapStatistics() with 100k traces on Node 22 (bench/store-add.mjs).
 */
export const SPAN_OVERHEAD_BYTES = 40;
export const TRACE_OVERHEAD_BYTES = 120;
/** Past this many spans a trace gets a Set of span ids for de-duplication. */
const SPAN_INDEX_FROM = 32;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** The attributes span facts are derived from. */
const FACT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'http.response.status_code',
  'http.status_code',
  'error.type',
  'peer.service',
  'server.address',
  ...CORRELATION_ATTRIBUTES,
]);

function spanBytes(data: string): number {
  return SPAN_OVERHEAD_BYTES + ((data.length + 7) & ~7);
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
export function isErrorSpan(span: Pick<SpanRecord, 'status' | 'kind' | 'attributes'>): boolean {
  if (span.status.code === 'error') return true;
  if (span.kind === 'server') {
    const status = statusOfAttributes(span.attributes);
    return status !== undefined && status >= 500;
  }
  return false;
}

export function correlationIdOf(span: SpanRecord): string | undefined {
  return correlationIdOfAttributes(span.attributes);
}

function factsOf(data: string, origin: SpanOrigin): SpanFacts {
  const d = decodeSpanField(Buffer.from(data, 'latin1'), { onlyAttributes: FACT_ATTRIBUTES });
  const error = isErrorSpan(d);
  const t = d.attributes['error.type'];
  const peer = d.attributes['peer.service'] ?? d.attributes['server.address'];
  return {
    spanId: d.spanId,
    parentSpanId: d.parentSpanId,
    name: d.name,
    kind: d.kind,
    service: origin.service,
    startTime: d.startTime,
    endTime: d.endTime,
    statusCode: statusOfAttributes(d.attributes),
    error,
    cause: typeof t === 'string' && t !== '' ? t : d.status.message || undefined,
    correlationId: correlationIdOfAttributes(d.attributes),
    peer: typeof peer === 'string' && peer !== '' ? peer : undefined,
  };
}

function spansOf(entry: TraceEntry): Array<[string, SpanOrigin]> {
  if (typeof entry.data === 'string') return [[entry.data, entry.origin as SpanOrigin]];
  const origins = entry.origin as SpanOrigin[];
  return entry.data.map((d, i) => [d, origins[i]!]);
}

function spanCount(entry: TraceEntry): number {
  return typeof entry.data === 'string' ? 1 : entry.data.length;
}

function traceFacts(entry: TraceEntry): TraceFacts {
  const spans = spansOf(entry).map(([data, origin]) => factsOf(data, origin));
  const facts: TraceFacts = { spans, start: Infinity, end: -Infinity, services: [], correlationIds: [], errorCount: 0 };
  for (const s of spans) {
    if (s.startTime < facts.start) facts.start = s.startTime;
    if (s.endTime > facts.end) facts.end = s.endTime;
    if (!facts.services.includes(s.service)) facts.services.push(s.service);
    if (s.correlationId !== undefined && !facts.correlationIds.includes(s.correlationId)) facts.correlationIds.push(s.correlationId);
    if (s.error) facts.errorCount++;
  }
  return facts;
}

/** The stored span as the API shows it. */
function toRecord(data: string, origin: SpanOrigin): SpanRecord {
  const d: DecodedSpan = decodeSpanField(Buffer.from(data, 'latin1'), { emptyAttributes: origin.emptyAttributes });
  return {
    traceId: d.traceId,
    spanId: d.spanId,
    parentSpanId: d.parentSpanId,
    traceState: d.traceState,
    traceFlags: d.traceFlags,
    name: d.name,
    kind: d.kind,
    startTime: d.startTime,
    endTime: d.endTime,
    attributes: d.attributes,
    events: d.events,
    links: d.links,
    status: d.status,
    service: origin.service,
    resource: origin.resource,
    scope: origin.scope,
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

  const traces = new Map<string, TraceEntry>();
  /**
   * Traces oldest first, for eviction: a queue of entries read from `head`, each entry's place
   * being `head offset + index` (`age`); a place whose entry has moved on (evicted, or moved to the
   * back) is skipped. Not the Map's own order: a Map keeps deleted entries as holes until it
   * rehashes, so finding its first live entry after many evictions walks them all.
   */
  let order: TraceEntry[] = [];
  let head = 0;
  let ageBase = 0;
  let totalBytes = 0;
  let totalSpans = 0;
  let evictedTraces = 0;
  let droppedSpans = 0;
  let version = 0;
  let summaryCache: { version: number; value: StoreSummary } | undefined;
  /** Encodes spans given as records (received over OTLP). */
  let recordEncoder: SpanEncoder | undefined;
  /** Origins of this process's spans, one per config version's ResourceInfo. */
  const ownOrigins = new WeakMap<ResourceInfo, SpanOrigin>();
  let lastOwn: { resource: ResourceInfo; origin: SpanOrigin } | undefined;
  let lastReceived: SpanOrigin | undefined;

  function enqueue(entry: TraceEntry): void {
    entry.age = ageBase + order.length;
    order.push(entry);
  }

  /** The oldest stored trace. */
  function oldest(): TraceEntry {
    for (;;) {
      const entry = order[head]!;
      if (entry.age === ageBase + head && traces.get(entry.traceId) === entry) return entry;
      head++;
      if (head >= 1024 && head * 2 >= order.length) {
        ageBase += head;
        order = order.slice(head);
        head = 0;
      }
    }
  }

  function evict(entry: TraceEntry): void {
    entry.age = -1;
    traces.delete(entry.traceId);
    totalBytes -= entry.bytes;
    totalSpans -= spanCount(entry);
    evictedTraces++;
  }

  /** The index of the stored span with this span's id in `entry`, or -1. */
  function indexOfSpan(entry: TraceEntry, data: string): number {
    const key = spanIdKey(data);
    if (typeof entry.data === 'string') return spanIdKey(entry.data) === key ? 0 : -1;
    if (entry.ids !== undefined && !entry.ids.has(key)) return -1;
    return entry.data.findIndex((d) => spanIdKey(d) === key);
  }

  function insert(traceId: string, data: string, origin: SpanOrigin): void {
    const bytes = spanBytes(data);
    const entry = traces.get(traceId);
    if (entry === undefined) {
      const fresh: TraceEntry = { traceId, age: 0, data, origin, bytes: TRACE_OVERHEAD_BYTES + bytes, ids: undefined, summary: undefined };
      traces.set(traceId, fresh);
      enqueue(fresh);
      totalBytes += fresh.bytes;
      totalSpans++;
      version++;
      evictFor(fresh);
      return;
    }
    const at = indexOfSpan(entry, data);
    if (at >= 0) {
      // The same span twice (e.g. also received over OTLP): keep the newer copy.
      const old = typeof entry.data === 'string' ? entry.data : entry.data[at]!;
      const delta = bytes - spanBytes(old);
      if (typeof entry.data === 'string') {
        entry.data = data;
        entry.origin = origin;
      } else {
        entry.data[at] = data;
        (entry.origin as SpanOrigin[])[at] = origin;
      }
      entry.bytes += delta;
      totalBytes += delta;
    } else {
      if (spanCount(entry) >= maxSpansPerTrace) {
        droppedSpans++;
        return;
      }
      if (typeof entry.data === 'string') {
        entry.data = [entry.data, data];
        entry.origin = [entry.origin as SpanOrigin, origin];
      } else {
        entry.data.push(data);
        (entry.origin as SpanOrigin[]).push(origin);
        if (entry.ids !== undefined) entry.ids.add(spanIdKey(data));
        else if (entry.data.length > SPAN_INDEX_FROM) entry.ids = new Set(entry.data.map(spanIdKey));
      }
      entry.bytes += bytes;
      totalBytes += bytes;
      totalSpans++;
    }
    entry.summary = undefined;
    version++;
    evictFor(entry);
  }

  /** Evicts whole oldest traces; the trace just added to stays even if it alone is over budget. */
  function evictFor(entry: TraceEntry): void {
    while (traces.size > maxTraces || (totalBytes > maxBytes && traces.size > 1)) {
      const first = oldest();
      if (first === entry) {
        // Only possible for the byte budget: move it to the back and evict the next oldest.
        enqueue(entry);
        continue;
      }
      evict(first);
    }
  }

  function add(span: SpanRecord): void {
    try {
      const encoder = (recordEncoder ??= new SpanEncoder(new ProtoWriter(4096)));
      encoder.w.pos = 0;
      encoder.record(span);
      const every = (list: ReadonlyArray<{ attributes?: Attributes }>): boolean => list.every((x) => x.attributes !== undefined);
      const emptyAttributes = (span.events.length > 0 || span.links.length > 0) && every(span.events) && every(span.links);
      let origin = lastReceived;
      if (
        origin === undefined ||
        origin.service !== span.service ||
        origin.resource !== span.resource ||
        origin.scope !== span.scope ||
        origin.emptyAttributes !== emptyAttributes
      ) {
        origin = lastReceived = { service: span.service, resource: span.resource, scope: span.scope, emptyAttributes };
      }
      insert(span.traceId.toLowerCase(), encoder.w.buf.toString('latin1', 0, encoder.w.pos), origin);
    } catch {
      // A malformed record must never break the caller.
      droppedSpans++;
    }
  }

  function spanEnded(span: FinishedSpan): void {
    try {
      const w = span.protobuf();
      const resource = span.resource;
      let origin: SpanOrigin | undefined;
      if (lastOwn !== undefined && lastOwn.resource === resource) origin = lastOwn.origin;
      else {
        origin = ownOrigins.get(resource);
        if (origin === undefined) {
          origin = { service: resource.service, resource: resource.resource, scope: 'tracecar', emptyAttributes: false };
          ownOrigins.set(resource, origin);
        }
        lastOwn = { resource, origin };
      }
      insert(span.hop.traceId, w.buf.toString('latin1', 0, w.pos), origin);
    } catch {
      droppedSpans++;
    }
  }

  function summarize(entry: TraceEntry, known?: TraceFacts): TraceSummary {
    if (entry.summary) return entry.summary;
    const facts = known ?? traceFacts(entry);
    const ids = new Set(facts.spans.map((x) => x.spanId));
    let root: SpanFacts | undefined;
    for (const s of facts.spans) {
      const isRoot = !s.parentSpanId || !ids.has(s.parentSpanId);
      if (!isRoot) continue;
      // A true root (no parent at all) beats an orphan; then the earliest.
      if (!root || (!s.parentSpanId && root.parentSpanId) || (!s.parentSpanId === !root.parentSpanId && s.startTime < root.startTime)) {
        root = s;
      }
    }
    root ??= facts.spans[0]!;
    const correlationId = root.correlationId ?? facts.correlationIds[0];
    const summary: TraceSummary = {
      traceId: entry.traceId,
      rootName: root.name,
      rootService: root.service,
      rootStatusCode: root.statusCode,
      services: [...facts.services].sort(),
      startTime: facts.start,
      durationMs: round3(Math.max(0, facts.end - facts.start)),
      spanCount: facts.spans.length,
      errorCount: facts.errorCount,
      error: facts.errorCount > 0,
      correlationId,
    };
    entry.summary = summary;
    return summary;
  }

  function matches(facts: TraceFacts, f: TraceFilter, route: string | undefined): boolean {
    if (f.service && !facts.services.includes(f.service)) return false;
    if (f.correlationId && !facts.correlationIds.includes(f.correlationId)) return false;
    if (f.status === 'error' && facts.errorCount === 0) return false;
    if (f.status === 'ok' && facts.errorCount > 0) return false;
    const duration = facts.end - facts.start;
    if (f.minDuration !== undefined && duration < f.minDuration) return false;
    if (f.maxDuration !== undefined && duration > f.maxDuration) return false;
    if (f.since !== undefined && facts.start < f.since) return false;
    if (f.until !== undefined && facts.start > f.until) return false;
    if (route && !facts.spans.some((s) => s.name.toLowerCase().includes(route))) return false;
    return true;
  }

  function list(filter: TraceFilter = {}): TraceSummary[] {
    const limit = Math.min(MAX_LIMIT, positive(filter.limit, DEFAULT_LIMIT));
    const route = filter.route ? filter.route.toLowerCase() : undefined;
    const prefix = filter.traceId ? filter.traceId.toLowerCase() : undefined;
    const filtered =
      !!filter.service || !!filter.correlationId || !!filter.status || route !== undefined ||
      filter.minDuration !== undefined || filter.maxDuration !== undefined || filter.since !== undefined || filter.until !== undefined;
    const out: TraceSummary[] = [];
    // Newest first.
    for (let i = order.length - 1; i >= head && out.length < limit; i--) {
      const entry = order[i]!;
      if (entry.age !== ageBase + i || traces.get(entry.traceId) !== entry) continue;
      if (prefix && !entry.traceId.startsWith(prefix)) continue;
      if (!filtered) {
        out.push(summarize(entry));
        continue;
      }
      const facts = traceFacts(entry);
      if (matches(facts, filter, route)) out.push(summarize(entry, facts));
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
    const records = spansOf(entry).map(([data, origin]) => toRecord(data, origin));
    return records.sort((a, b) => a.startTime - b.startTime || (a.parentSpanId ? 1 : 0) - (b.parentSpanId ? 1 : 0));
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
      const spans = traceFacts(entry).spans;
      const byId = new Map<string, SpanFacts>();
      for (const s of spans) byId.set(s.spanId, s);
      /** Client spans with a child in another service: their call is already an edge. */
      const answered = new Set<string>();

      for (const s of spans) {
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
      for (const s of spans) {
        if (s.kind !== 'client' || answered.has(s.spanId)) continue;
        const hasChild = spans.some((c) => c.parentSpanId === s.spanId);
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
    for (const entry of traces.values()) {
      if (typeof entry.data === 'string') set.add((entry.origin as SpanOrigin).service);
      else for (const o of entry.origin as SpanOrigin[]) set.add(o.service);
    }
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
      order = [];
      head = 0;
      totalBytes = 0;
      totalSpans = 0;
      version++;
    },
  };
}
