// @ts-check
/**
 * The traces view: the filter form (mirrored in the URL) and the live table of trace summaries.
 *
 * The table is keyed by trace id and updated in place on every refresh: a row still in the answer
 * is patched (only the cells whose content changed), a new trace gets a row inserted, a row whose
 * trace left the answer (evicted, filtered out) is removed. So keyboard focus, the selected row and
 * a text selection survive a refresh, and the per-trace state of the page is exactly its rows:
 * never more than one answer of /api/traces, which never holds more than the store's maxTraces,
 * however long the tab stays open.
 *
 * Keyboard: the table is one tab stop (the selected row); ArrowUp/ArrowDown/Home/End move through
 * the rows, Enter opens the trace, Escape in the trace view comes back to the same row.
 */
import { getJson } from './api.js';
import { append, byId, el, fill, setText } from './dom.js';
import { fmtAgo, fmtClock, fmtDateTime, fmtMs, shortId } from './format.js';
import { callBadge, copyButton, serviceChip } from './widgets.js';
/** @import { TraceSummary } from '../../telemetry/store.js' */
/** @import { TracesResponse } from '../api-types.js' */

const FILTER_KEYS = ['service', 'route', 'minDuration', 'maxDuration', 'last', 'traceId', 'correlationId', 'errors'];
const LIST_LIMIT = 200;
const FILTER_DEBOUNCE_MS = 250;
export const FILTERS_KEY = 'tracecar.filters';

/**
 * One table row and the nodes a refresh may patch.
 * @typedef {{
 *   tr: HTMLTableRowElement, time: HTMLTableCellElement, clock: Text, ago: HTMLElement, name: HTMLElement,
 *   services: HTMLTableCellElement, spans: HTMLTableCellElement, duration: Text, bar: HTMLElement,
 *   status: HTMLTableCellElement, corr: HTMLTableCellElement, shown: TraceSummary | undefined
 * }} Row
 */

/** The rows on screen by trace id, in no particular order (the DOM holds the order). */
/** @type {Map<string, Row>} */
const rows = new Map();
/** @type {string | null} */
let selectedTraceId = null;
/** Focus the selected row once it is rendered (coming back from a trace). */
let focusSelectedOnRender = false;
/** Highlight inserted rows as new: not on the first answer, nor on the first after a filter change. */
let markNew = false;

/** How many traces the page holds state for (its rows); for tests and the curious. */
export function trackedTraceCount() {
  return rows.size;
}

// ---------- filters ----------

function form() {
  return /** @type {HTMLFormElement} */ (byId('filters'));
}

/**
 * @param {string} key
 * @returns {HTMLInputElement | HTMLSelectElement | null}
 */
function field(key) {
  const input = form().elements.namedItem(key);
  return input instanceof HTMLInputElement || input instanceof HTMLSelectElement ? input : null;
}

/** The filters as /api/traces query parameters (and the #/traces?… of the URL). */
export function filterParams() {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const input = field(key);
    if (!input) continue;
    if (input instanceof HTMLInputElement && input.type === 'checkbox') {
      if (input.checked) params.set(key, '1');
    } else if (input.value.trim() !== '') params.set(key, input.value.trim());
  }
  return params;
}

/**
 * Set the form from the URL (#/traces?…); other filters mean another list, whose rows are not news.
 * @param {URLSearchParams} params
 */
export function filtersFromParams(params) {
  const before = filterParams().toString();
  for (const key of FILTER_KEYS) {
    const input = field(key);
    if (!input) continue;
    const v = params.get(key) || '';
    if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = v === '1';
    else if (input instanceof HTMLSelectElement && v && ![...input.options].some((o) => o.value === v)) {
      input.append(el('option', { value: v }, v));
      input.value = v;
    } else input.value = v;
  }
  if (filterParams().toString() !== before) markNew = false;
}

// ---------- the table ----------

/**
 * @param {{ refresh: () => void }} deps
 */
export function initTraceList({ refresh }) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let filterTimer;
  const onFilterChange = () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      const q = filterParams().toString();
      history.replaceState(null, '', '#/traces' + (q ? '?' + q : ''));
      sessionStorage.setItem(FILTERS_KEY, q ? '?' + q : '');
      markNew = false;
      refresh();
    }, FILTER_DEBOUNCE_MS);
  };
  const f = form();
  f.addEventListener('input', onFilterChange);
  f.addEventListener('change', onFilterChange);
  f.addEventListener('submit', (ev) => ev.preventDefault());
  f.addEventListener('reset', () => setTimeout(onFilterChange, 0));

  const tbody = byId('trace-rows');
  tbody.addEventListener('click', (ev) => {
    const tr = rowOf(ev.target);
    if (!tr) return;
    // A click that ends a text selection in the row (copying an id by hand) does not navigate.
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed && sel.anchorNode && tr.contains(sel.anchorNode)) return;
    open(tr);
  });
  tbody.addEventListener('keydown', (ev) => {
    const tr = rowOf(ev.target);
    if (!tr || ev.target !== tr) return; // keys on a copy button stay the button's
    /** @type {Element | null} */
    let next = null;
    if (ev.key === 'Enter') return open(tr);
    if (ev.key === 'ArrowDown') next = tr.nextElementSibling;
    else if (ev.key === 'ArrowUp') next = tr.previousElementSibling;
    else if (ev.key === 'Home') next = tbody.firstElementChild;
    else if (ev.key === 'End') next = tbody.lastElementChild;
    else return;
    ev.preventDefault();
    if (next instanceof HTMLTableRowElement) next.focus();
  });
  // Focus selects: the row a keyboard or a click lands on becomes the table's tab stop.
  tbody.addEventListener('focusin', (ev) => {
    const tr = rowOf(ev.target);
    if (tr) select(tr.getAttribute('data-trace-id'));
  });
}

/**
 * @param {EventTarget | null} target
 * @returns {HTMLTableRowElement | null}
 */
function rowOf(target) {
  return target instanceof Element ? target.closest('#trace-rows tr[data-trace-id]') : null;
}

/** @param {HTMLTableRowElement} tr */
function open(tr) {
  const id = tr.getAttribute('data-trace-id');
  if (!id) return;
  select(id);
  location.hash = '#/trace/' + id;
}

/** @param {string | null} traceId */
function select(traceId) {
  if (traceId === selectedTraceId) return;
  const before = selectedTraceId ? rows.get(selectedTraceId) : undefined;
  selectedTraceId = traceId;
  if (before) before.tr.setAttribute('aria-selected', 'false');
  const now = traceId ? rows.get(traceId) : undefined;
  if (now) now.tr.setAttribute('aria-selected', 'true');
  updateTabStop();
}

/**
 * Back from a trace: select its row and give it the keyboard focus (now, or once it is rendered).
 * @param {string} traceId
 */
export function revealTrace(traceId) {
  select(traceId);
  const row = rows.get(traceId);
  if (row) row.tr.focus();
  else focusSelectedOnRender = true;
}

/** One tab stop for the whole table: the selected row, else the first. */
function updateTabStop() {
  const tbody = byId('trace-rows');
  const stop = (selectedTraceId && rows.get(selectedTraceId)?.tr) || tbody.firstElementChild;
  for (const { tr } of rows.values()) {
    const want = tr === stop ? '0' : '-1';
    if (tr.getAttribute('tabindex') !== want) tr.setAttribute('tabindex', want);
  }
}

/** @param {string} traceId @returns {Row} */
function createRow(traceId) {
  const clock = document.createTextNode('');
  const ago = el('span', { class: 'ago' });
  const name = el('div', { class: 'name' });
  const duration = document.createTextNode('');
  const bar = el('div', { class: 'dur-bar' });
  const time = el('td', { class: 'c-time' }, clock, ago);
  const services = el('td', { class: 'c-services' });
  const spans = el('td', { class: 'c-num' });
  const status = el('td', { class: 'c-status' });
  const corr = el('td', { class: 'c-corr' });
  const tr = el('tr', { tabindex: -1, 'aria-selected': String(traceId === selectedTraceId), 'data-trace-id': traceId },
    time,
    el('td', { class: 'c-root' }, name, el('div', { class: 'sub' }, el('span', { class: 'id', title: traceId }, shortId(traceId)), copyButton(traceId, 'trace ID'))),
    services,
    spans,
    el('td', { class: 'c-dur' }, duration, bar),
    status,
    corr);
  return { tr, time, clock, ago, name, services, spans, duration, bar, status, corr, shown: undefined };
}

/**
 * Patch a row to show `t`; a cell is rebuilt only when what it shows changed.
 * @param {Row} row
 * @param {TraceSummary} t
 * @param {number} maxDuration
 */
function updateRow(row, t, maxDuration) {
  const was = row.shown;
  if (was?.startTime !== t.startTime) {
    setText(row.clock, fmtClock(t.startTime));
    row.time.title = fmtDateTime(t.startTime);
  }
  setText(row.ago, fmtAgo(t.startTime));
  setText(row.name, t.rootName || '(unnamed)');
  if (was?.services.join('\n') !== t.services.join('\n')) fill(row.services, t.services.map(serviceChip));
  setText(row.spans, String(t.spanCount));
  setText(row.duration, fmtMs(t.durationMs));
  row.bar.style.width = Math.max(2, (t.durationMs / maxDuration) * 100) + '%';
  if (!was || was.rootStatusCode !== t.rootStatusCode || was.rootRpcStatus !== t.rootRpcStatus || was.error !== t.error) {
    fill(row.status, callBadge(t.rootRpcStatus, t.rootStatusCode, t.error));
  }
  if (!was || was.correlationId !== t.correlationId) fill(row.corr, correlationCell(t.correlationId));
  row.tr.classList.toggle('is-error', t.error);
  row.shown = t;
}

/** @param {string | undefined} id */
function correlationCell(id) {
  if (!id) return el('span', { class: 'none' }, '–');
  return [el('span', { class: 'id', title: id }, shortId(id, 22)), copyButton(id, 'correlation ID')];
}

/**
 * Bring the table in line with an answer, newest first, touching only what changed.
 * @param {TraceSummary[]} traces
 */
function renderRows(traces) {
  const tbody = byId('trace-rows');
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && tbody.contains(active) ? active : null;
  const wanted = new Set(traces.map((t) => t.traceId));
  /** Where the focused row was, if its trace left: focus moves to the row that takes its place. */
  let focusLostAt = -1;
  for (const [id, row] of rows) {
    if (wanted.has(id)) continue;
    if (focused && row.tr.contains(focused)) focusLostAt = Array.prototype.indexOf.call(tbody.children, row.tr);
    row.tr.remove();
    rows.delete(id);
  }

  const maxDuration = Math.max(1, ...traces.map((t) => t.durationMs));
  let cursor = tbody.firstElementChild;
  for (const t of traces) {
    let row = rows.get(t.traceId);
    const inserted = !row;
    if (!row) {
      row = createRow(t.traceId);
      rows.set(t.traceId, row);
    } else row.tr.classList.remove('is-new');
    updateRow(row, t, maxDuration);
    if (inserted && markNew) row.tr.classList.add('is-new');
    if (row.tr === cursor) cursor = cursor.nextElementSibling;
    // New rows go in here; an existing row moves only if the order changed (rare: the store keeps
    // first-seen order), which costs it the focus for a moment: given back below.
    else tbody.insertBefore(row.tr, cursor);
  }
  markNew = true;
  updateTabStop();

  if (focused?.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
  else if (focusLostAt >= 0 && tbody.children.length > 0) {
    const heir = tbody.children[Math.min(focusLostAt, tbody.children.length - 1)];
    if (heir instanceof HTMLElement) heir.focus({ preventScroll: true });
  }
  if (focusSelectedOnRender) {
    focusSelectedOnRender = false;
    const row = selectedTraceId ? rows.get(selectedTraceId) : undefined;
    // Unless the reader has moved on to something else meanwhile (a filter, say).
    const active = document.activeElement;
    if (row && (!active || active === document.body || active.closest('[hidden]'))) row.tr.focus();
  }
}

/** @param {string[]} services */
function renderServiceOptions(services) {
  const select = /** @type {HTMLSelectElement} */ (byId('f-service'));
  const current = select.value;
  const have = [...select.options].map((o) => o.value).filter(Boolean);
  const want = [...new Set([...services, current].filter(Boolean))].sort();
  if (have.join('\n') === want.join('\n')) return;
  while (select.options.length > 1) select.remove(1);
  for (const s of want) select.append(el('option', { value: s }, s));
  select.value = current;
}

/** @param {TracesResponse} data */
function renderMeta(data) {
  const n = data.traces.length;
  const empty = byId('traces-empty');
  empty.hidden = n > 0;
  setText(empty, filterParams().toString() !== ''
    ? 'No stored trace matches these filters.'
    : 'No traces yet. Send a request through the sidecar (or spans to POST /v1/traces) and it shows up here.');
  const meta = byId('list-meta');
  fill(meta);
  append(meta, [
    el('span', null, `${n} trace${n === 1 ? '' : 's'} shown`),
    el('span', null, `${data.stats.traces} stored (max ${data.stats.maxTraces})`),
    data.stats.evictedTraces ? el('span', null, `${data.stats.evictedTraces} evicted`) : null,
    data.stats.keepRatio < 1 ? el('span', { title: `Over ${data.stats.maxSpansPerSecond} spans a second the store keeps a share of new traces, chosen by trace ID (admin.store.maxSpansPerSecond).` }, `keeping ${keptShare(data.stats.keepRatio)} of new traces`) : null,
  ]);
}

/**
 * 0.0452 → "4.5%", 0.8 → "80%".
 * @param {number} ratio
 * @returns {string}
 */
function keptShare(ratio) {
  const pct = ratio * 100;
  return `${pct >= 10 ? Math.floor(pct) : Math.max(0.1, Math.floor(pct * 10) / 10)}%`;
}

export async function loadTraces() {
  const params = filterParams();
  params.set('limit', String(LIST_LIMIT));
  /** @type {TracesResponse} */
  const data = await getJson('api/traces?' + params.toString());
  renderServiceOptions(data.services);
  renderRows(data.traces);
  renderMeta(data);
}
