// @ts-check
/**
 * tracecar viewer, entry module: routing (#/traces, #/trace/ID, #/summary), the live refresh loop
 * and the header. Native ES modules with no dependencies and no build step; the page fetches
 * nothing but this listener's own /api (the admin's Content-Security-Policy enforces it).
 */
import { getJson } from './api.js';
import { byId } from './dom.js';
import { fmtClock, shortId } from './format.js';
import { closeTrace, loadTrace, openTrace } from './trace-view.js';
import { FILTERS_KEY, filtersFromParams, initTraceList, loadTraces, revealTrace } from './trace-list.js';
import { loadSummary } from './summary.js';
/** @import { InfoResponse } from '../api-types.js' */

const REFRESH_MS = 2000;
const VIEWS = /** @type {const} */ (['traces', 'trace', 'summary']);
/** @typedef {typeof VIEWS[number]} View */

const state = {
  live: true,
  /** @type {View} */
  view: 'traces',
  /** @type {ReturnType<typeof setInterval> | undefined} */
  timer: undefined,
  inFlight: false,
  again: false,
};

/** @returns {{ view: View, traceId?: string, params: URLSearchParams }} */
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/traces';
  const [path, query] = raw.split('?');
  const params = new URLSearchParams(query || '');
  const m = /^\/trace\/([0-9a-fA-F]{1,32})\/?$/.exec(path);
  if (m) return { view: 'trace', traceId: m[1].toLowerCase(), params };
  if (path.startsWith('/summary')) return { view: 'summary', params };
  return { view: 'traces', params };
}

function route() {
  const r = parseHash();
  const left = r.view === 'trace' ? null : closeTrace();
  const changedTrace = r.view === 'trace' && r.traceId !== undefined && openTrace(r.traceId, r.params.get('span'));
  state.view = r.view;
  if (r.view === 'traces') filtersFromParams(r.params);
  for (const id of VIEWS) byId('view-' + id).hidden = id !== r.view;
  for (const a of document.querySelectorAll('.tabs a')) {
    const v = a.getAttribute('data-view');
    a.classList.toggle('active', v === r.view || (v === 'traces' && r.view === 'trace'));
  }
  document.title = r.traceId ? `trace ${shortId(r.traceId)} · tracecar` : r.view === 'summary' ? 'summary · tracecar' : 'traces · tracecar';
  if (changedTrace) window.scrollTo(0, 0);
  // Back in the list from a trace: the keyboard lands on that trace's row.
  if (r.view === 'traces' && left) revealTrace(left);
  refresh();
}

/** Load and draw the current view; a call during a load runs once more after it (a new view never waits for the next tick). */
async function refresh() {
  if (state.inFlight) {
    state.again = true;
    return;
  }
  state.inFlight = true;
  state.again = false;
  const live = /** @type {HTMLElement} */ (document.querySelector('.live'));
  try {
    if (state.view === 'traces') await loadTraces();
    else if (state.view === 'trace') await loadTrace(state.live);
    else await loadSummary();
    live.classList.remove('failing');
    byId('live-status').textContent = state.live ? 'live · ' + fmtClock(Date.now()).slice(0, 8) : 'paused';
  } catch (err) {
    live.classList.add('failing');
    byId('live-status').textContent = 'cannot reach tracecar (' + (err instanceof Error ? err.message : 'error') + ')';
  } finally {
    state.inFlight = false;
  }
  if (state.again) refresh();
}

/** @param {boolean} on */
function setLive(on) {
  state.live = on;
  const toggle = byId('live-toggle');
  toggle.textContent = on ? 'Pause' : 'Resume';
  toggle.setAttribute('aria-pressed', on ? 'false' : 'true');
  document.querySelector('.live')?.classList.toggle('paused', !on);
  byId('live-status').textContent = on ? 'live' : 'paused';
  clearInterval(state.timer);
  if (on) {
    state.timer = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, REFRESH_MS);
    refresh();
  }
}

async function loadInfo() {
  try {
    /** @type {InfoResponse} */
    const info = await getJson('api/info');
    byId('service-name').textContent = info.service;
  } catch {
    // the header simply stays without a service name
  }
}

function init() {
  initTraceList({ refresh });
  byId('live-toggle').addEventListener('click', () => setLive(!state.live));
  window.addEventListener('hashchange', () => {
    const r = parseHash();
    if (r.view === 'traces') sessionStorage.setItem(FILTERS_KEY, r.params.toString() ? '?' + r.params.toString() : '');
    route();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && state.view === 'trace') location.hash = '#/traces' + (sessionStorage.getItem(FILTERS_KEY) || '');
  });
  loadInfo();
  route();
  setLive(true);
}

// Module scripts run after the document is parsed.
init();
