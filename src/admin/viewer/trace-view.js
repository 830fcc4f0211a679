// @ts-check
/**
 * One trace: a header from the server's summary of it, the waterfall (spans in tree order, bars on
 * the trace's time scale) and the panel of the selected span. Whether a span is an error and its
 * HTTP status come from the server (SpanView.error, .statusCode): the viewer only shows them.
 */
import { ApiError, getJson } from './api.js';
import { byId, el, fill } from './dom.js';
import { fmtDateTime, fmtMs, fmtValue, serviceColor, shortId } from './format.js';
import { FILTERS_KEY } from './trace-list.js';
import { callBadge, copyButton, serviceChip, serviceDot } from './widgets.js';
/** @import { Attributes, SpanEvent } from '../../telemetry/span.js' */
/** @import { TraceSummary } from '../../telemetry/store.js' */
/** @import { SpanView, TraceResponse } from '../api-types.js' */

/** @type {string | null} */
let traceId = null;
/** @type {string | null} */
let selectedSpanId = null;
/** What the waterfall shows, to skip redrawing an unchanged trace every refresh. */
let signature = '';

/**
 * Show this trace (from the URL). Returns false when it is already the one shown.
 * @param {string} id
 * @param {string | null} spanId a span to select first (#/trace/ID?span=…)
 */
export function openTrace(id, spanId) {
  if (id === traceId) return false;
  traceId = id;
  selectedSpanId = spanId;
  signature = '';
  fill(byId('waterfall'));
  fill(byId('span-panel'));
  fill(byId('trace-head'));
  return true;
}

/** Leave the trace view; returns the trace that was shown. */
export function closeTrace() {
  const was = traceId;
  traceId = null;
  return was;
}

/** @param {boolean} live whether the page keeps polling (for the "waiting" notice) */
export async function loadTrace(live) {
  const id = traceId;
  if (!id) return;
  /** @type {TraceResponse} */
  let data;
  try {
    data = await getJson('api/traces/' + encodeURIComponent(id));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      if (id === traceId) renderMissing(id, err.status, live);
      return;
    }
    throw err;
  }
  if (id !== traceId) return;
  const s = data.summary;
  const sig = `${s.spanCount}:${s.durationMs}:${s.errorCount}:${s.correlationId ?? ''}:${Math.max(...data.spans.map((x) => x.endTime))}`;
  if (sig === signature) return;
  signature = sig;
  renderTrace(id, data.summary, data.spans);
}

/**
 * @param {string} id
 * @param {number} status
 * @param {boolean} live
 */
function renderMissing(id, status, live) {
  signature = '';
  fill(byId('trace-head'),
    el('a', { class: 'back', href: '#/traces' }, '← All traces'),
    el('h1', null, 'Trace ', el('span', { class: 'mono' }, id)));
  fill(byId('span-panel'));
  fill(byId('waterfall'), el('div', { class: 'notice' },
    status === 400 ? 'That is not a valid trace ID.' : 'This trace is not in the store yet (or was evicted). ' + (live ? 'Waiting for its spans…' : 'Resume live updates to keep looking.')));
}

/**
 * Spans in tree order (parents before children, siblings by start), each with its depth.
 * @param {SpanView[]} spans
 * @returns {{ span: SpanView, depth: number }[]}
 */
function treeOrder(spans) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  /** @type {Map<string, SpanView[]>} */
  const children = new Map();
  /** @type {SpanView[]} */
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  /** @param {SpanView} a @param {SpanView} b */
  const byStart = (a, b) => a.startTime - b.startTime;
  roots.sort(byStart);
  /** @type {{ span: SpanView, depth: number }[]} */
  const out = [];
  const seen = new Set();
  /** @param {SpanView} s @param {number} depth */
  const walk = (s, depth) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  for (const s of spans) if (!seen.has(s.spanId)) out.push({ span: s, depth: 0 });
  return out;
}

/** A ruler step near a fifth of the total: 1, 2, 2.5 or 5 times a power of ten. @param {number} total */
function niceStep(total) {
  const raw = total / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

/** @param {SpanEvent} ev */
function isChaosEvent(ev) {
  return /chaos/i.test(ev.name) || Object.keys(ev.attributes ?? {}).some((k) => k.startsWith('tracecar.chaos'));
}

/**
 * @param {string} id
 * @param {TraceSummary} summary
 * @param {SpanView[]} spans
 */
function renderTrace(id, summary, spans) {
  const rows = treeOrder(spans);
  const start = Math.min(...spans.map((s) => s.startTime));
  const end = Math.max(...spans.map((s) => s.endTime));
  const total = Math.max(end - start, 0.001);
  const root = rows[0].span;
  const errors = summary.errorCount;
  const cid = summary.correlationId;

  fill(byId('trace-head'),
    el('a', { class: 'back', href: '#/traces' + (sessionStorage.getItem(FILTERS_KEY) || '') }, '← All traces'),
    el('h1', { class: summary.error ? 'is-error' : undefined }, serviceDot(summary.rootService), summary.rootName || '(unnamed)', callBadge(summary.rootRpcStatus, summary.rootStatusCode, summary.error)),
    el('div', { class: 'meta' },
      el('span', null, 'Trace ', el('span', { class: 'mono', 'data-field': 'trace-id' }, id), copyButton(id, 'trace ID')),
      cid ? el('span', null, 'Correlation ', el('span', { class: 'mono', 'data-field': 'correlation-id' }, cid), copyButton(cid, 'correlation ID')) : null,
      el('span', null, 'Started ', el('b', null, fmtDateTime(start))),
      el('span', null, 'Duration ', el('b', null, fmtMs(total))),
      el('span', null, el('b', null, String(spans.length)), spans.length === 1 ? ' span' : ' spans'),
      errors ? el('span', { style: { color: 'var(--error)' } }, el('b', null, String(errors)), errors === 1 ? ' error' : ' errors') : null,
      el('span', null, summary.services.map(serviceChip))));

  // A redraw keeps the keyboard on the span it was on.
  const wf = byId('waterfall');
  const focusedSpan = wf.contains(document.activeElement) ? document.activeElement?.getAttribute('data-span-id') : null;
  const step = niceStep(total);
  const ticks = [];
  for (let t = 0; t <= total + 1e-9; t += step) ticks.push(t);
  fill(wf, el('div', { class: 'wf-ruler' },
    el('div', { class: 'wf-label' }, 'Service · span'),
    el('div', { class: 'wf-track' }, ticks.map((t) => el('span', { class: 'tick', style: { left: (t / total) * 100 + '%' } }, fmtMs(t).replace(/\.0+ /, ' '))))));

  if (!selectedSpanId || !spans.some((s) => s.spanId === selectedSpanId)) selectedSpanId = root.spanId;
  for (const { span, depth } of rows) {
    const left = ((span.startTime - start) / total) * 100;
    const width = Math.max(((span.endTime - span.startTime) / total) * 100, 0.2);
    const color = serviceColor(span.service);
    const guides = [];
    for (let i = 0; i < depth; i++) guides.push(el('span', { class: 'wf-guide' }));
    const row = el('div', {
      class: 'wf-row' + (span.error ? ' is-error' : '') + (span.spanId === selectedSpanId ? ' selected' : ''),
      'data-span-id': span.spanId,
      tabindex: 0,
      title: `${span.service} · ${span.name} · ${fmtMs(span.endTime - span.startTime)}`,
    },
    el('div', { class: 'wf-label' }, guides, el('span', { class: 'dot', style: { background: color } }), el('span', { class: 'svc' }, span.service), el('span', { class: 'wf-name' }, span.name || '(unnamed)')),
    el('div', { class: 'wf-track' },
      el('div', { class: 'wf-bar', style: { left: left + '%', width: width + '%', background: color } }),
      (span.events ?? []).map((ev) => el('span', {
        class: 'wf-event' + (isChaosEvent(ev) ? ' chaos' : ''),
        title: `${ev.name} at +${fmtMs(ev.time - span.startTime)}`,
        style: { left: ((Math.min(Math.max(ev.time, span.startTime), span.endTime) - start) / total) * 100 + '%' },
      })),
      el('span', { class: 'wf-dur', style: { left: `calc(${left + width}% + 6px)` } }, fmtMs(span.endTime - span.startTime))));
    row.addEventListener('click', () => selectSpan(span, start));
    row.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') selectSpan(span, start);
    });
    wf.append(row);
    if (span.spanId === focusedSpan) row.focus({ preventScroll: true });
  }
  renderSpanPanel(spans.find((s) => s.spanId === selectedSpanId) ?? root, start);
}

/**
 * @param {SpanView} span
 * @param {number} traceStart
 */
function selectSpan(span, traceStart) {
  selectedSpanId = span.spanId;
  for (const row of document.querySelectorAll('.wf-row')) row.classList.toggle('selected', row.getAttribute('data-span-id') === span.spanId);
  renderSpanPanel(span, traceStart);
}

/** @param {SpanView} span */
function errorText(span) {
  const parts = [];
  if (span.status.message) parts.push(span.status.message);
  const type = span.attributes['error.type'];
  if (type !== undefined && !(span.status.message ?? '').startsWith(String(type))) parts.push(String(type));
  const rpc = span.rpcStatus;
  // A gRPC call's HTTP status is 200 whatever happened: its gRPC status says it.
  if (rpc !== undefined) {
    if (!parts.some((p) => p.startsWith(rpc))) parts.push('gRPC ' + rpc);
  } else if (span.statusCode !== undefined && !parts.includes(String(span.statusCode))) parts.push('HTTP ' + span.statusCode);
  return 'Error' + (parts.length ? ': ' + parts.join(' · ') : '');
}

/** Attributes that say what went wrong: shown in red on a span the server calls an error. */
const ERROR_KEYS = new Set(['http.response.status_code', 'http.status_code', 'rpc.status_code', 'rpc.grpc.status_code', 'error.type', 'exception.type', 'exception.message']);

/**
 * @param {Attributes | undefined} attrs
 * @param {boolean} error
 */
function kvList(attrs, error) {
  const keys = Object.keys(attrs ?? {}).sort();
  if (!attrs || !keys.length) return el('p', { class: 'none' }, 'none');
  return el('dl', { class: 'kv' }, keys.map((k) => [
    el('dt', null, k),
    el('dd', { class: error && ERROR_KEYS.has(k) ? 'err' : undefined }, fmtValue(attrs[k])),
  ]));
}

/**
 * @param {SpanView} span
 * @param {number} traceStart
 */
function renderSpanPanel(span, traceStart) {
  const err = span.error;
  const dur = span.endTime - span.startTime;
  const events = span.events ?? [];
  const links = span.links ?? [];
  fill(byId('span-panel'),
    el('h3', { class: err ? 'is-error' : undefined }, span.name || '(unnamed)'),
    el('div', null, serviceChip(span.service), ' ', el('span', { class: 'kind' }, span.kind.toUpperCase()), ' ', callBadge(span.rpcStatus, span.statusCode, err)),
    err ? el('div', { class: 'error-box' }, errorText(span)) : null,
    el('h4', null, 'Timing'),
    el('dl', { class: 'kv' },
      el('dt', null, 'duration'), el('dd', null, fmtMs(dur)),
      el('dt', null, 'starts at'), el('dd', null, '+' + fmtMs(span.startTime - traceStart)),
      el('dt', null, 'start'), el('dd', null, fmtDateTime(span.startTime)),
      el('dt', null, 'span id'), el('dd', null, span.spanId, copyButton(span.spanId, 'span ID')),
      el('dt', null, 'parent'), el('dd', null, span.parentSpanId || '(root)'),
      el('dt', null, 'status'), el('dd', { class: err ? 'err' : undefined }, span.status.code + (span.status.message ? ` – ${span.status.message}` : '')),
      span.scope ? [el('dt', null, 'scope'), el('dd', null, span.scope)] : null),
    el('h4', null, 'Attributes'),
    kvList(span.attributes, err),
    el('h4', null, `Events (${events.length})`),
    events.length
      ? events.map((ev) => el('div', { class: 'event' + (isChaosEvent(ev) ? ' chaos' : '') },
        el('div', { class: 'ev-head' }, el('b', null, ev.name), el('span', { class: 'ev-time' }, '+' + fmtMs(ev.time - span.startTime))),
        Object.keys(ev.attributes ?? {}).length ? kvList(ev.attributes, err) : null))
      : el('p', { class: 'none' }, 'none'),
    links.length
      ? [el('h4', null, 'Links'), links.map((l) => el('div', { class: 'mono' }, el('a', { href: '#/trace/' + l.traceId }, shortId(l.traceId)), ' / ' + l.spanId))]
      : null,
    span.resource && Object.keys(span.resource).length
      ? el('details', null, el('summary', null, 'Resource attributes'), kvList(span.resource, false))
      : null);
}
