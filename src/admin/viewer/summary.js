// @ts-check
/** The summary view: totals, slowest operations, error patterns and the service dependency graph. */
import { getJson } from './api.js';
import { byId, el, fill, svg } from './dom.js';
import { fmtAgo, fmtDateTime, fmtMs, plural, serviceColor, shortId } from './format.js';
import { callBadge, serviceChip } from './widgets.js';
/** @import { DependencyEdge, DependencyNode } from '../../telemetry/store.js' */
/** @import { SummaryResponse } from '../api-types.js' */

const TABLE_ROWS = 50;

export async function loadSummary() {
  /** @type {SummaryResponse} */
  const data = await getJson('api/summary');
  renderSummary(data);
}

/**
 * @param {string | number} value
 * @param {string} label
 * @param {boolean} [bad]
 */
function card(value, label, bad = false) {
  return el('div', { class: 'card' + (bad ? ' bad' : '') }, el('div', { class: 'v' }, String(value)), el('div', { class: 'l' }, label));
}

/** @param {SummaryResponse} data */
function renderSummary(data) {
  const errorSpans = data.errors.reduce((n, p) => n + p.count, 0);
  fill(byId('summary-cards'),
    card(data.traces, 'traces stored'),
    card(data.spans, 'spans'),
    card(data.dependencies.nodes.filter((n) => !n.external).length, 'services reporting'),
    card(errorSpans, 'error spans', errorSpans > 0));

  // Slowest operations
  const maxP = Math.max(1, ...data.routes.map((r) => r.p99));
  fill(byId('routes-rows'), data.routes.slice(0, TABLE_ROWS).map((r) => {
    const q = new URLSearchParams({ service: r.service, route: r.name }).toString();
    const tr = el('tr', { class: r.errors ? 'is-error' : undefined, style: { cursor: 'pointer' }, title: 'Show these traces' },
      el('td', null, serviceChip(r.service)),
      el('td', null, r.name),
      el('td', { class: 'c-num' }, String(r.count)),
      el('td', { class: 'c-num' + (r.errors ? ' err-count' : '') }, String(r.errors)),
      el('td', { class: 'c-num' }, fmtMs(r.p50)),
      el('td', { class: 'c-num' }, el('b', null, fmtMs(r.p95))),
      el('td', { class: 'c-num' }, fmtMs(r.p99)),
      el('td', { class: 'c-bar', title: 'p50 / p99' }, el('div', { class: 'p-bar' },
        el('span', { style: { width: (r.p99 / maxP) * 100 + '%' } }),
        el('span', { class: 'p50', style: { width: (r.p50 / maxP) * 100 + '%' } }))));
    tr.addEventListener('click', () => (location.hash = '#/traces?' + q));
    return tr;
  }));
  byId('routes-empty').hidden = data.routes.length > 0;

  // Error patterns
  fill(byId('errors-rows'), data.errors.slice(0, TABLE_ROWS).map((p) => el('tr', null,
    el('td', null, serviceChip(p.service)),
    el('td', null, p.route),
    el('td', null, el('span', { class: 'kind' }, p.kind.toUpperCase())),
    el('td', null, p.rpcStatus !== undefined || p.statusCode !== undefined ? callBadge(p.rpcStatus, p.statusCode, true) : el('span', { class: 'none' }, '–')),
    // error.type is often just the status code again: show a cause only when it adds something.
    el('td', { class: 'mono' }, p.cause && p.cause !== String(p.statusCode) && p.cause !== p.rpcStatus ? p.cause : '–'),
    el('td', { class: 'c-num err-count' }, String(p.count)),
    el('td', { title: fmtDateTime(p.lastSeen) }, fmtAgo(p.lastSeen)),
    el('td', null, el('a', { class: 'mono', href: '#/trace/' + p.exampleTraceId }, shortId(p.exampleTraceId))))));
  byId('errors-empty').hidden = data.errors.length > 0;

  renderGraph(data.dependencies);
}

/**
 * Layered layout: a node's column is its longest call path from a caller-less node.
 * @param {{ nodes: DependencyNode[], edges: DependencyEdge[] }} dep
 */
function renderGraph(dep) {
  const box = byId('dep-graph');
  const nodes = dep.nodes;
  if (!nodes.length) {
    fill(box, el('p', { class: 'empty' }, 'No services yet.'));
    return;
  }
  const names = nodes.map((n) => n.service);
  /** @type {Map<string, number>} */
  const col = new Map(names.map((n) => [n, 0]));
  /** @param {string} name */
  const colOf = (name) => col.get(name) ?? 0;
  // Longest-path relaxation, bounded so cycles cannot loop forever.
  for (let i = 0; i < names.length; i++) {
    let changed = false;
    for (const e of dep.edges) {
      if (e.from === e.to) continue;
      const want = colOf(e.from) + 1;
      if (want > colOf(e.to) && want < names.length) {
        col.set(e.to, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  /** @type {DependencyNode[][]} */
  const columns = [];
  for (const n of nodes) (columns[colOf(n.service)] ??= []).push(n);
  const W = 170, H = 46, GX = 170, GY = 30, PAD = 24;
  const height = Math.max(...columns.map((c) => (c ? c.length : 0))) * (H + GY) - GY + PAD * 2;
  const width = columns.length * (W + GX) - GX + PAD * 2;
  /** @type {Map<string, { x: number, y: number }>} */
  const pos = new Map();
  columns.forEach((list, c) => {
    if (!list) return;
    const colHeight = list.length * (H + GY) - GY;
    list.forEach((n, i) => pos.set(n.service, { x: PAD + c * (W + GX), y: (height - colHeight) / 2 + i * (H + GY) }));
  });

  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Service dependency graph' });
  root.append(svg('defs', null,
    svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9ca3af' })),
    svg('marker', { id: 'arrow-err', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#dc2626' }))));

  for (const e of dep.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    let d, lx, ly;
    if (b.x > a.x) {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 2, y2 = b.y + H / 2;
      const mx = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      // Label where the curve has levelled out towards its target, just above it.
      const t = y1 === y2 ? 0.5 : 0.8;
      const u = 1 - t;
      lx = u * u * u * x1 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x2;
      ly = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2 - 7;
    } else {
      // Back or same-column edge: loop over the top.
      const x1 = a.x + W / 2 + 10, y1 = a.y, x2 = b.x + W / 2 - 10, y2 = b.y - 2;
      const top = Math.min(y1, y2) - 24;
      d = `M${x1},${y1} C${x1},${top} ${x2},${top} ${x2},${y2}`;
      lx = (x1 + x2) / 2;
      ly = top + 4;
    }
    const bad = e.errors > 0;
    const label = plural(e.calls, 'call') + (bad ? ` · ${e.errors} err` : '');
    root.append(svg('g', { class: 'edge' + (bad ? ' has-errors' : ''), 'data-from': e.from, 'data-to': e.to },
      svg('title', null, `${e.from} → ${e.to}: ${label}`),
      svg('path', { d, 'marker-end': bad ? 'url(#arrow-err)' : 'url(#arrow)' }),
      svg('text', { x: lx, y: ly, 'text-anchor': 'middle' }, label)));
  }
  for (const n of nodes) {
    const p = pos.get(n.service);
    if (!p) continue;
    const color = n.external ? '#9ca3af' : serviceColor(n.service);
    const name = n.service.length > 22 ? n.service.slice(0, 21) + '…' : n.service;
    root.append(svg('g', { class: 'node' + (n.external ? ' external' : ''), transform: `translate(${p.x},${p.y})`, 'data-service': n.service },
      svg('title', null, n.service + (n.external ? ' (called, reports no spans here)' : `: ${n.spanCount} spans, ${n.errorCount} errors`)),
      svg('rect', { width: W, height: H, rx: 8, stroke: n.errorCount ? '#dc2626' : color }),
      svg('rect', { width: 6, height: H - 12, x: 8, y: 6, rx: 3, fill: color, stroke: 'none' }),
      svg('text', { x: 22, y: 19 }, name),
      svg('text', { x: 22, y: 35, class: 'sub' }, n.external ? 'external' : plural(n.spanCount, 'span') + (n.errorCount ? ' · ' + plural(n.errorCount, 'error') : ''))));
  }
  fill(box, root);
}
