/**
 * The in-memory trace store behind the admin viewer: the last N traces, bounded by count and by a
 * byte budget. Spans (this process's own and those received over OTLP) are grouped by trace id;
 * whole traces leave oldest-first.
 *
 * A span is kept as its OTLP protobuf encoding — the bytes span end already made for the exporter,
 * or that add() encodes for a received span — copied into a slab off the V8 heap
 * (span-arena.ts), and nothing else: a trace of one span is two small heap objects (its entry and
 * its trace id), so keeping the last thousand traces costs the garbage collector little on the
 * request path. Whatever the API asks for (summaries, filters, the spans of a trace) is decoded
 * from those bytes when it asks. The byte budget counts what is really held: the slabs' bytes,
 * plus fixed per-trace and per-span overheads for the heap objects (bench/store-add.mjs measures
 * them against V8's heap and prints the ratio).
 */
import type { FinishedSpan, SpanSink } from './finish.js';
import type { ResourceInfo } from './hop.js';
import { decodeSpanField, type DecodedSpan } from './otlp/decode.js';
import { SpanEncoder } from './otlp/encode.js';
import { ProtoWriter } from './otlp/writer.js';
import { SpanArena, type Slab } from './span-arena.js';
import { grpcStatusName } from '../grpc/index.js';
import { meetsThreshold, ratioThreshold, traceRandomness, type RatioThreshold } from '../sampling/index.js';
import { nowMs, type Attributes, type SpanKindName, type SpanRecord } from './span.js';

export interface TraceStoreOptions {
  /** Traces kept; the oldest whole trace leaves first. @default 1000 */
  maxTraces: number;
  /** Bytes of span data kept: encodings, kept strings and per-span/per-trace overheads. @default 64 MiB */
  maxBytes: number;
  /** Spans kept per trace; further spans of that trace are dropped and counted. @default 5000 */
  maxSpansPerTrace?: number;
  /**
   * Spans a second the store takes in full. Above it, a share of the traces it does not hold yet
   * is kept — about this many spans a second, chosen by trace id — and the rest are skipped and
   * counted. 0: no limit. @default 0 (the config's admin.store.maxSpansPerSecond defaults to 1000)
   */
  maxSpansPerSecond?: number;
  /**
   * Epoch milliseconds, for the per-second count of received spans and for stats (tests pass a fake
   * clock). This process's spans are counted at their end time, which span end read from the same
   * clock. @default nowMs (span.ts)
   */
  now?: () => number;
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
  maxSpansPerSecond: number;
  /** Share of new traces kept this second: 1 unless the last second offered more than maxSpansPerSecond spans. */
  keepRatio: number;
  /** Spans not kept because their trace was not chosen while the store was over maxSpansPerSecond. */
  skippedSpans: number;
}

export interface TraceStore extends SpanSink {
  /** Keep a span given as a record (received over OTLP, or built by a test). Never throws. */
  add(span: SpanRecord): void;
  list(filter?: TraceFilter): TraceSummary[];
  /** Whether the trace is stored (the id in either case). O(1). */
  has(traceId: string): boolean;
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

/** Spans of a trace after the first (most traces have none), as parallel arrays. */
interface MoreSpans {
  slabs: Slab[];
  at: number[];
  len: number[];
  origins: SpanOrigin[];
  /** Span id keys (spanIdKey) for de-duplication, once a trace grows large. */
  ids: Set<string> | undefined;
}

/** One trace: where its spans' bytes are (ScopeSpans `spans` fields: tag, length, Span) and who recorded them. */
interface TraceEntry {
  readonly traceId: string;
  /** Its place in the age order (see `order` in createTraceStore); −1 once evicted. */
  age: number;
  slab: Slab;
  at: number;
  len: number;
  origin: SpanOrigin;
  more: MoreSpans | undefined;
  /** Cached summary, dropped when a span is added. */
  summary: TraceSummary | undefined;
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
  /** gRPC status name (rpc.status_code, or the legacy integer rpc.grpc.status_code). */
  rpcStatus: string | undefined;
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
 * Heap bytes besides the slabs: per trace, its entry object, trace id string and Map slot; per
 * span after the first, its slots in the trace's arrays. Measured against V8's heap with 100k
 * traces on Node 22 (bench/store-add.mjs prints the ratio).
 */
export const TRACE_OVERHEAD_BYTES = 200;
export const SPAN_OVERHEAD_BYTES = 40;
/** Slab size: 64 KiB, or less for a small byte budget (so that the budget still bounds what is kept). */
const MAX_SLAB_BYTES = 64 * 1024;
const MIN_SLAB_BYTES = 1024;
/** Past this many spans a trace gets a Set of span ids for de-duplication. */
const SPAN_INDEX_FROM = 32;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** The attributes span facts are derived from. */
const FACT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'http.response.status_code',
  'http.status_code',
  'rpc.status_code',
  'rpc.response.status_code',
  'rpc.grpc.status_code',
  'error.type',
  'peer.service',
  'server.address',
  ...CORRELATION_ATTRIBUTES,
]);

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

function rpcStatusOfAttributes(attributes: Attributes): string | undefined {
  const v = attributes['rpc.status_code'] ?? attributes['rpc.response.status_code'];
  if (typeof v === 'string' && v !== '') return v;
  const legacy = attributes['rpc.grpc.status_code'];
  if (typeof legacy === 'number') return grpcStatusName(legacy);
  return undefined;
}

/**
 * The gRPC status name of a span: rpc.status_code (current conventions, a name), or the integer
 * rpc.grpc.status_code of the older ones.
 */
export function rpcStatusOf(span: SpanRecord): string | undefined {
  return rpcStatusOfAttributes(span.attributes);
}

export function correlationIdOf(span: SpanRecord): string | undefined {
  return correlationIdOfAttributes(span.attributes);
}

function factsOf(field: Buffer, origin: SpanOrigin): SpanFacts {
  const d = decodeSpanField(field, { onlyAttributes: FACT_ATTRIBUTES });
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
    rpcStatus: rpcStatusOfAttributes(d.attributes),
    error,
    cause: typeof t === 'string' && t !== '' ? t : d.status.message || undefined,
    correlationId: correlationIdOfAttributes(d.attributes),
    peer: typeof peer === 'string' && peer !== '' ? peer : undefined,
  };
}

function spanCount(entry: TraceEntry): number {
  return entry.more === undefined ? 1 : 1 + entry.more.at.length;
}

/** Each span of the trace: a view of its bytes, and who recorded it. */
function spansOf(entry: TraceEntry): Array<[Buffer, SpanOrigin]> {
  const out: Array<[Buffer, SpanOrigin]> = [[entry.slab.buf.subarray(entry.at, entry.at + entry.len), entry.origin]];
  const m = entry.more;
  if (m !== undefined) for (let i = 0; i < m.at.length; i++) out.push([m.slabs[i]!.buf.subarray(m.at[i], m.at[i]! + m.len[i]!), m.origins[i]!]);
  return out;
}

/**
 * Where the 8 span id bytes of an encoded span field are: after the tag, the length, and the
 * trace_id (0x0a, 16, 16 bytes) as SpanEncoder writes them; −1 if the field is not shaped so.
 */
function spanIdAt(buf: Buffer, at: number): number {
  let p = at + 1;
  while (buf[p]! >= 0x80) p++;
  p++;
  if (buf[p] === 0x0a) p += 2 + buf[p + 1]!;
  return buf[p] === 0x12 && buf[p + 1] === 8 ? p + 2 : -1;
}

function sameSpanId(a: Buffer, aAt: number, b: Buffer, bAt: number): boolean {
  const i = spanIdAt(a, aAt);
  const j = spanIdAt(b, bAt);
  if (i < 0 || j < 0) return false;
  for (let k = 0; k < 8; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

function spanIdKey(buf: Buffer, at: number): string {
  const i = spanIdAt(buf, at);
  return i < 0 ? '' : buf.toString('latin1', i, i + 8);
}

function traceFacts(entry: TraceEntry): TraceFacts {
  const spans = spansOf(entry).map(([field, origin]) => factsOf(field, origin));
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
function toRecord(field: Buffer, origin: SpanOrigin): SpanRecord {
  const d: DecodedSpan = decodeSpanField(field, { emptyAttributes: origin.emptyAttributes });
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
  const maxSpansPerSecond = positive(options.maxSpansPerSecond, 0);
  const now = options.now ?? nowMs;

  const traces = new Map<string, TraceEntry>();
  const arena = new SpanArena(Math.max(MIN_SLAB_BYTES, Math.min(MAX_SLAB_BYTES, Math.floor(maxBytes / 64))));
  /**
   * Traces oldest first, for eviction: a queue of entries read from `head`, each entry's place
   * being `ageBase + index` (its `age`); a place whose entry has moved on (evicted: age −1, or
   * moved to the back: a later age) is skipped. Not the Map's own order: a Map keeps deleted
   * entries as holes until it rehashes, so finding its first live entry walks them all.
   */
  let order: TraceEntry[] = [];
  let head = 0;
  let ageBase = 0;
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
  /** The second (epoch s) being counted, the spans offered in it, and the share of new traces kept in it. */
  let rateSecond = -1;
  let offered = 0;
  let keepRatio = 1;
  /** T for keepRatio; undefined while every trace is kept. */
  let keepThreshold: RatioThreshold | undefined;
  let skippedSpans = 0;

  /**
   * Counts a span offered to the store. The share of new traces kept in a second comes from the
   * second before it (maxSpansPerSecond / spans offered then): a store under a steady overload
   * takes in about maxSpansPerSecond spans a second, one offered less than that keeps everything.
   * Why: under load the store's window is a fraction of a second whatever it keeps (1,000 traces
   * at 25,000 requests a second: 40 ms), while each span kept costs its encoding and copy on the
   * request path; keeping fewer stretches the window and bounds that work.
   */
  function countOffered(atMs: number): void {
    if (maxSpansPerSecond === 0) return;
    const second = Math.floor(atMs / 1000);
    if (second !== rateSecond) {
      keepRatio = shareFor(second);
      keepThreshold = keepRatio < 1 ? ratioThreshold(keepRatio) : undefined;
      rateSecond = second;
      offered = 0;
    }
    offered++;
  }

  /** The share of a second after the one counted: from its spans if it was the second before, else 1 (a quiet second resets it). */
  function shareFor(second: number): number {
    return second === rateSecond + 1 && offered > maxSpansPerSecond ? maxSpansPerSecond / offered : 1;
  }

  /** The share a span offered now would see. */
  function currentKeepRatio(): number {
    if (maxSpansPerSecond === 0) return 1;
    const second = Math.floor(now() / 1000);
    return second === rateSecond ? keepRatio : shareFor(second);
  }

  /**
   * Whether a span may start a trace the store does not hold: which traces are kept follows head
   * sampling's consistent-probability rule (R ≥ T on the trace id's random bits or its `rv`), so
   * sidecars over their limit alike keep the same traces, and a trace kept at a lower share would
   * be kept at every higher one. A trace once held takes all its later spans.
   */
  function keepsNewTrace(traceId: string, traceState: string | undefined): boolean {
    return keepThreshold === undefined || meetsThreshold(traceRandomness(traceId, traceState), keepThreshold);
  }

  /** What the store holds: slabs, and the heap objects of traces and of spans after each trace's first. */
  function totalBytes(): number {
    return arena.bytes + traces.size * TRACE_OVERHEAD_BYTES + (totalSpans - traces.size) * SPAN_OVERHEAD_BYTES;
  }

  function enqueue(entry: TraceEntry): void {
    entry.age = ageBase + order.length;
    order.push(entry);
  }

  /** The oldest stored trace. */
  function oldest(): TraceEntry {
    for (;;) {
      const entry = order[head]!;
      if (entry.age === ageBase + head) return entry;
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
    arena.release(entry.slab);
    const m = entry.more;
    if (m !== undefined) for (const slab of m.slabs) arena.release(slab);
    totalSpans -= spanCount(entry);
    evictedTraces++;
  }

  /** Which span of `entry` has the id of the span just stored at (slab, at): −1 none, 0 the first, i the i-th after. */
  function indexOfSpan(entry: TraceEntry, slab: Slab, at: number): number {
    if (sameSpanId(entry.slab.buf, entry.at, slab.buf, at)) return 0;
    const m = entry.more;
    if (m === undefined) return -1;
    if (m.ids !== undefined && !m.ids.has(spanIdKey(slab.buf, at))) return -1;
    for (let i = 0; i < m.at.length; i++) if (sameSpanId(m.slabs[i]!.buf, m.at[i]!, slab.buf, at)) return i + 1;
    return -1;
  }

  /** Keeps the span encoded in bytes [0, length) of `src`; `entry` is the trace's, when stored. */
  function insert(traceId: string, entry: TraceEntry | undefined, src: Buffer, length: number, origin: SpanOrigin): void {
    if (entry === undefined) {
      arena.put(src, length);
      const fresh: TraceEntry = { traceId, age: 0, slab: arena.lastSlab, at: arena.lastAt, len: length, origin, more: undefined, summary: undefined };
      traces.set(traceId, fresh);
      enqueue(fresh);
      totalSpans++;
      version++;
      evictFor(fresh);
      return;
    }
    if (spanCount(entry) >= maxSpansPerTrace && indexOfSpanIn(entry, src) < 0) {
      droppedSpans++;
      return;
    }
    arena.put(src, length);
    const slab = arena.lastSlab;
    const at = arena.lastAt;
    const same = indexOfSpan(entry, slab, at);
    if (same === 0) {
      // The same span twice (e.g. also received over OTLP): keep the newer copy.
      arena.release(entry.slab);
      entry.slab = slab;
      entry.at = at;
      entry.len = length;
      entry.origin = origin;
    } else if (same > 0) {
      const m = entry.more!;
      arena.release(m.slabs[same - 1]!);
      m.slabs[same - 1] = slab;
      m.at[same - 1] = at;
      m.len[same - 1] = length;
      m.origins[same - 1] = origin;
    } else {
      let m = entry.more;
      if (m === undefined) m = entry.more = { slabs: [], at: [], len: [], origins: [], ids: undefined };
      m.slabs.push(slab);
      m.at.push(at);
      m.len.push(length);
      m.origins.push(origin);
      if (m.ids !== undefined) m.ids.add(spanIdKey(slab.buf, at));
      else if (m.at.length >= SPAN_INDEX_FROM) {
        m.ids = new Set([spanIdKey(entry.slab.buf, entry.at), ...m.at.map((a, i) => spanIdKey(m!.slabs[i]!.buf, a))]);
      }
      totalSpans++;
    }
    entry.summary = undefined;
    version++;
    evictFor(entry);
  }

  /** indexOfSpan for bytes not stored yet (a full trace: is this a duplicate, or one span too many?). */
  function indexOfSpanIn(entry: TraceEntry, src: Buffer): number {
    if (sameSpanId(entry.slab.buf, entry.at, src, 0)) return 0;
    const m = entry.more;
    if (m === undefined) return -1;
    for (let i = 0; i < m.at.length; i++) if (sameSpanId(m.slabs[i]!.buf, m.at[i]!, src, 0)) return i + 1;
    return -1;
  }

  /** Evicts whole oldest traces; the trace just added to stays even if it alone is over budget. */
  function evictFor(entry: TraceEntry): void {
    while (traces.size > maxTraces || (totalBytes() > maxBytes && traces.size > 1)) {
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
      countOffered(now());
      const traceId = span.traceId.toLowerCase();
      const entry = traces.get(traceId);
      if (entry === undefined && !keepsNewTrace(traceId, span.traceState)) {
        skippedSpans++;
        return;
      }
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
      insert(traceId, entry, encoder.w.buf, encoder.w.pos, origin);
    } catch {
      // A malformed record must never break the caller.
      droppedSpans++;
    }
  }

  function spanEnded(span: FinishedSpan): void {
    try {
      const hop = span.hop;
      // Its end time, not another clock read: span end has just read the clock.
      countOffered(hop.endTime);
      const traceId = hop.traceId;
      const entry = traces.get(traceId);
      // Decided before the span is encoded: a skipped span costs no encoding when nothing else needs it.
      if (entry === undefined && !keepsNewTrace(traceId, hop.traceState)) {
        skippedSpans++;
        return;
      }
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
      insert(traceId, entry, w.buf, w.pos, origin);
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
      rootRpcStatus: root.rpcStatus,
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
      if (entry.age !== ageBase + i) continue;
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
    const records = spansOf(entry).map(([field, origin]) => toRecord(field, origin));
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
          const rpcStatus = s.rpcStatus;
          const cause = s.cause;
          // A gRPC call's HTTP status is 200 whatever happened: its gRPC code is what groups it.
          const key = [s.service, s.name, s.kind, statusCode ?? '', rpcStatus ?? '', cause ?? ''].join('\u0000');
          let p = patterns.get(key);
          if (!p) {
            p = { service: s.service, route: s.name, kind: s.kind, statusCode, cause, count: 0, lastSeen: 0, exampleTraceId: entry.traceId };
            if (rpcStatus !== undefined) p.rpcStatus = rpcStatus;
            patterns.set(key, p);
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
        // The span's own verdict (isErrorSpan), as everywhere else in the store and the viewer.
        edge(s.service, peer, s.error);
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
      set.add(entry.origin.service);
      if (entry.more !== undefined) for (const o of entry.more.origins) set.add(o.service);
    }
    return [...set].sort();
  }

  return {
    add,
    spanEnded,
    has: (traceId: string) => traces.has(traceId.toLowerCase()),
    list,
    summaryOf,
    get,
    summary,
    services,
    stats: () => ({
      traces: traces.size,
      spans: totalSpans,
      bytes: totalBytes(),
      maxTraces,
      maxBytes,
      evictedTraces,
      droppedSpans,
      maxSpansPerSecond,
      keepRatio: currentKeepRatio(),
      skippedSpans,
    }),
    clear: () => {
      for (const entry of traces.values()) entry.age = -1;
      traces.clear();
      order = [];
      head = 0;
      arena.reset();
      totalSpans = 0;
      version++;
    },
  };
}
