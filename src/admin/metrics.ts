/**
 * tracecar's Prometheus metrics on a registry of its own (never prom-client's global one), with the
 * default process metrics, every name prefixed `tracecar_`. The proxy calls the recording methods on
 * the request path. The three per-request metrics (requests, duration, in flight) are counted in
 * plain fields of a series object found by two Map lookups and an array index, and handed to
 * prom-client only when scraped: prom-client's own recording builds and hashes a label string per
 * call, which measured about 1 µs per request (a few % of a proxied request's CPU).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DROP_REASONS, type ExportQueueStats } from '../telemetry/export/index.js';
import { knownMethod } from '../telemetry/http-method.js';

export type Side = 'ingress' | 'egress';

export interface StoreStatsSnapshot {
  traces: number;
  spans: number;
  bytes: number;
  evictedTraces: number;
  skippedSpans: number;
}

/** The chaos active-fault cap, as Envoy's fault filter reports it. */
export interface ChaosCapStats {
  /** Faults in progress now (Envoy active_faults). */
  active: number;
  /** Faults rolled but not injected because maxActiveFaults was reached (Envoy faults_overflow). */
  overflow: number;
}

export interface Metrics {
  registry: Registry;
  /** In-flight gauge +1. */
  requestStarted(side: Side, route: string): void;
  /** Request counter and duration histogram by side/route/method/status class ("2xx".."5xx", 0 = "error"); in-flight -1. */
  requestFinished(side: Side, route: string, method: string, status: number, durationMs: number): void;
  chaosInjected(kind: string, side: string): void;
  configReload(ok: boolean): void;
  /** An egress request that could not be tied to the trace of the ingress request it belongs to. */
  propagationLost(route: string): void;
  /** Span export counters, read at scrape time. A later call replaces the source. */
  exportStats(fn: () => ExportQueueStats): void;
  /** Trace store sizes, read at scrape time. */
  storeStats(fn: () => StoreStatsSnapshot): void;
  /** The chaos active-fault cap, read at scrape time. */
  chaosStats(fn: () => ChaosCapStats): void;
  /** The HTTP/2 upstream session pools (h2c:// and h2 targets) per side, read at scrape time. */
  h2PoolStats(fn: () => Partial<Record<Side, H2PoolStats>>): void;
  /** A request refused before the pipeline (a limit, malformed framing, a timeout), by the TRC_ERR code it got. */
  requestRejected(side: Side, code: string): void;
  /** A client connection closed on accept: limits.maxConnections reached. */
  connectionDropped(side: Side): void;
  /** Spans received on the admin OTLP/HTTP receiver; rejected = not stored (bad ids). */
  otlpReceived(encoding: 'protobuf' | 'json', accepted: number, rejected: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
}

/** One side's HTTP/2 upstream session pool (proxy/h2-pool.ts stats()). */
export interface H2PoolStats {
  sessions: number;
  streams: number;
}

/** Seconds; from a cache hit on loopback to a slow upstream. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Distinct route label values kept before further routes are reported as "other" (cardinality guard). */
export const MAX_ROUTES = 200;

export function statusClass(status: number): string {
  return STATUS_CLASSES[statusIndex(status)];
}

/** status_class label values by statusIndex: built once, not per request. */
const STATUS_CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

function statusIndex(status: number): number {
  if (!Number.isFinite(status) || status < 100 || status > 599) return 0;
  return Math.floor(status / 100);
}

/** The first bucket whose upper bound holds `seconds` (prom-client's rule: value ≤ bound), -1 past the last. */
function bucketIndex(seconds: number): number {
  for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]) return i;
  return -1;
}

/** One label set of a prom-client Histogram, as its `hashMap` holds it. */
interface HistogramEntry {
  count: number;
  sum: number;
  bucketValues: Record<number, number>;
}

export interface CreateMetricsOptions {
  /** Include prom-client's default process metrics. @default true */
  defaultMetrics?: boolean;
  /** @default MAX_ROUTES */
  maxRoutes?: number;
}

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tracecar_' });
  const maxRoutes = options.maxRoutes ?? MAX_ROUTES;
  const routes = new Set<string>();

  /** Route label with a cap on distinct values, so untemplated paths cannot grow memory without bound. */
  function routeLabel(route: string): string {
    if (routes.has(route)) return route;
    if (routes.size >= maxRoutes) return 'other';
    routes.add(route);
    return route;
  }

  /** Per (side, route label): in-flight count and the finished-request series by method and status class. */
  interface RouteSlot {
    readonly labels: { side: Side; route: string };
    inFlight: number;
    /** knownMethod(method) → series by status class index (statusIndex). */
    readonly methods: Map<string, Array<RequestSeries | undefined>>;
  }
  interface RequestSeries {
    readonly labels: { side: Side; route: string; method: string; status_class: string };
    count: number;
    sum: number;
    /** Observations per duration bucket (not cumulative), as prom-client counts them. */
    readonly buckets: number[];
  }
  const slotsBySide: Record<Side, Map<string, RouteSlot>> = { ingress: new Map(), egress: new Map() };
  /** In first-seen order: the order prom-client listed them in when it recorded them itself. */
  const slots: RouteSlot[] = [];
  const series: RequestSeries[] = [];

  function slotOf(side: Side, route: string): RouteSlot {
    const bySide = slotsBySide[side];
    const hit = bySide.get(route);
    if (hit !== undefined) return hit;
    const label = routeLabel(route);
    let slot = bySide.get(label);
    if (slot === undefined) {
      slot = { labels: Object.freeze({ side, route: label }), inFlight: 0, methods: new Map() };
      bySide.set(label, slot);
      slots.push(slot);
    }
    return slot;
  }

  function seriesOf(slot: RouteSlot, method: string, status: number): RequestSeries {
    const m = knownMethod(method);
    let byStatus = slot.methods.get(m);
    if (byStatus === undefined) {
      byStatus = [];
      slot.methods.set(m, byStatus);
    }
    const i = statusIndex(status);
    let s = byStatus[i];
    if (s === undefined) {
      const labels = Object.freeze({ side: slot.labels.side, route: slot.labels.route, method: m, status_class: STATUS_CLASSES[i] });
      s = { labels, count: 0, sum: 0, buckets: DURATION_BUCKETS.map(() => 0) };
      byStatus[i] = s;
      series.push(s);
    }
    return s;
  }

  new Counter({
    name: 'tracecar_requests_total',
    help: 'Requests proxied, by side, route, method and status class ("error" = no response).',
    labelNames: ['side', 'route', 'method', 'status_class'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of series) this.inc(s.labels, s.count);
    },
  });
  new Histogram({
    name: 'tracecar_request_duration_seconds',
    help: 'Time from request received to response finished, by side, route, method and status class.',
    labelNames: ['side', 'route', 'method', 'status_class'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
    collect() {
      // prom-client has no call that sets a histogram's counts: zero() adds each series in order,
      // then its entry takes our counts (test/admin/metrics.test.ts compares the exposition with
      // prom-client recording the same observations itself).
      this.reset();
      for (const s of series) this.zero(s.labels);
      const entries = Object.values((this as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap);
      for (let i = 0; i < series.length; i++) {
        const s = series[i];
        const e = entries[i];
        e.count = s.count;
        e.sum = s.sum;
        for (let b = 0; b < DURATION_BUCKETS.length; b++) e.bucketValues[DURATION_BUCKETS[b]] = s.buckets[b];
      }
    },
  });
  new Gauge({
    name: 'tracecar_requests_in_flight',
    help: 'Requests currently being proxied, by side and route.',
    labelNames: ['side', 'route'] as const,
    registers: [registry],
    collect() {
      for (const slot of slots) this.set(slot.labels, slot.inFlight);
    },
  });
  const chaos = new Counter({
    name: 'tracecar_chaos_injected_total',
    help: 'Faults injected on purpose by chaos rules, by kind (delay, abort, reset, throttle, slowBody) and side.',
    labelNames: ['kind', 'side'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'tracecar_config_reloads_total',
    help: 'Configuration reloads, by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  reloads.inc({ result: 'ok' }, 0);
  reloads.inc({ result: 'failed' }, 0);
  const lost = new Counter({
    name: 'tracecar_propagation_lost_total',
    help: 'Egress requests that carried no trace context tracecar could tie to an ingress request (a new trace was started).',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'tracecar_requests_rejected_total',
    help: 'Requests refused before reaching the app (limits, malformed framing, head or request timeout), by side and error code.',
    labelNames: ['side', 'code'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'tracecar_connections_dropped_total',
    help: 'Client connections closed on accept because limits.maxConnections was reached, by side.',
    labelNames: ['side'] as const,
    registers: [registry],
  });
  const otlp = new Counter({
    name: 'tracecar_otlp_received_spans_total',
    help: 'Spans received by the admin OTLP/HTTP receiver, by encoding and result (accepted, rejected).',
    labelNames: ['encoding', 'result'] as const,
    registers: [registry],
  });

  let exportSource: (() => ExportQueueStats) | undefined;
  let storeSource: (() => StoreStatsSnapshot) | undefined;
  let chaosSource: (() => ChaosCapStats) | undefined;

  function readExport(): ExportQueueStats | undefined {
    try {
      return exportSource?.();
    } catch {
      return undefined;
    }
  }
  function readStore(): StoreStatsSnapshot | undefined {
    try {
      return storeSource?.();
    } catch {
      return undefined;
    }
  }
  function readChaos(): ChaosCapStats | undefined {
    try {
      return chaosSource?.();
    } catch {
      return undefined;
    }
  }
  /** A counter that mirrors a monotonic total owned elsewhere. */
  function mirroredCounter(name: string, help: string, read: () => number | undefined): void {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (v === undefined || !Number.isFinite(v) || v < 0) return;
        this.reset();
        this.inc(v);
      },
    });
  }
  function mirroredGauge(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  }

  mirroredCounter('tracecar_spans_exported_total', 'Spans delivered by the OTLP exporter.', () => readExport()?.exported);
  new Counter({
    name: 'tracecar_spans_dropped_total',
    help: 'Spans that will never reach the collector, by reason: queue_full, retries_exhausted, non_retryable, rejected (partial success), shutdown, invalid.',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      const stats = readExport();
      if (stats === undefined) return;
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, stats.droppedByReason?.[reason] ?? 0);
    },
  });
  mirroredCounter('tracecar_spans_retried_total', 'Spans sent again after a retryable export failure of their batch (once per retry).', () => readExport()?.retried);
  mirroredGauge('tracecar_spans_queued', 'Spans waiting in the export queue.', () => readExport()?.queued);
  mirroredGauge('tracecar_spans_queued_bytes', 'Bytes the spans waiting in the export queue take, encoded.', () => readExport()?.queuedBytes);
  mirroredCounter('tracecar_export_failures_total', 'OTLP export calls (batches) that failed, retried afterwards or not.', () => readExport()?.failedExports);
  mirroredGauge('tracecar_store_traces', 'Traces held by the admin trace store.', () => readStore()?.traces);
  mirroredGauge('tracecar_store_spans', 'Spans held by the admin trace store.', () => readStore()?.spans);
  mirroredGauge('tracecar_store_bytes', 'Bytes held by the admin trace store (span encodings, kept strings, per-span and per-trace overhead).', () => readStore()?.bytes);
  mirroredGauge('tracecar_chaos_active_faults', 'Chaos faults in progress now, counted against chaos.maxActiveFaults (Envoy active_faults).', () => readChaos()?.active);
  mirroredCounter(
    'tracecar_chaos_faults_overflow_total',
    'Chaos faults rolled but not injected because chaos.maxActiveFaults was reached (Envoy faults_overflow).',
    () => readChaos()?.overflow,
  );
  let h2Source: (() => Partial<Record<Side, H2PoolStats>>) | undefined;
  const h2Gauge = (name: string, help: string, field: keyof H2PoolStats): void => {
    new Gauge({
      name,
      help,
      labelNames: ['side'] as const,
      registers: [registry],
      collect() {
        const stats = h2Source?.();
        if (stats === undefined) return;
        for (const side of ['ingress', 'egress'] as const) {
          const s = stats[side];
          if (s !== undefined) this.set({ side }, s[field]);
        }
      },
    });
  };
  h2Gauge('tracecar_upstream_h2_sessions', 'HTTP/2 sessions to h2c:// and h2 upstreams, open or connecting (http2.upstream.maxSessions per upstream).', 'sessions');
  h2Gauge('tracecar_upstream_h2_streams', 'Streams open on the HTTP/2 upstream sessions.', 'streams');
  mirroredCounter('tracecar_store_evicted_traces_total', 'Traces evicted from the admin trace store (count or byte budget).', () => readStore()?.evictedTraces);
  mirroredCounter(
    'tracecar_store_skipped_spans_total',
    'Spans the admin trace store did not keep: their trace was not chosen while more than admin.store.maxSpansPerSecond spans a second arrived.',
    () => readStore()?.skippedSpans,
  );

  return {
    registry,
    contentType: registry.contentType,
    requestStarted(side, route) {
      slotOf(side, route).inFlight++;
    },
    requestFinished(side, route, method, status, durationMs) {
      const slot = slotOf(side, route);
      slot.inFlight--;
      const s = seriesOf(slot, method, status);
      s.count++;
      const seconds = Math.max(0, durationMs) / 1000;
      // prom-client refuses a value that is not a finite number; the request still counts.
      if (!Number.isFinite(seconds)) return;
      s.sum += seconds;
      const b = bucketIndex(seconds);
      if (b >= 0) s.buckets[b]++;
    },
    chaosInjected(kind, side) {
      chaos.inc({ kind, side });
    },
    configReload(ok) {
      reloads.inc({ result: ok ? 'ok' : 'failed' });
    },
    propagationLost(route) {
      lost.inc({ route: routeLabel(route) });
    },
    exportStats(fn) {
      exportSource = fn;
    },
    storeStats(fn) {
      storeSource = fn;
    },
    chaosStats(fn) {
      chaosSource = fn;
    },
    h2PoolStats(fn) {
      h2Source = fn;
    },
    requestRejected(side, code) {
      rejected.inc({ side, code });
    },
    connectionDropped(side) {
      dropped.inc({ side });
    },
    otlpReceived(encoding, accepted, rejected) {
      if (accepted > 0) otlp.inc({ encoding, result: 'accepted' }, accepted);
      if (rejected > 0) otlp.inc({ encoding, result: 'rejected' }, rejected);
    },
    render: () => registry.metrics(),
  };
}
