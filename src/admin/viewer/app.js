// tracecar viewer: vanilla JS, no dependencies, no network but this listener's own /api.
// Span data is untrusted: every value reaches the page through textContent or setAttribute, never
// through innerHTML.
'use strict';

(function () {
  const REFRESH_MS = 2000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#2563eb', '#059669', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#4f46e5', '#0d9488', '#c026d3', '#65a30d', '#7c3aed', '#0369a1'];
  const FILTER_KEYS = ['service', 'route', 'minDuration', 'maxDuration', 'last', 'traceId', 'correlationId', 'errors'];

  const state = {
    live: true,
    view: 'traces',
    traceId: null,
    selectedSpanId: null,
    seenTraceIds: new Set(),
    firstListLoad: true,
    traceSignature: '',
    timer: null,
    inFlight: false,
  };

  // ---------- DOM helpers ----------
  const $ = (id) => document.getElementById(id);

  /** el('div', { class: 'x', title: 'y', onclick: fn }, child, 'text', ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(node, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---------- formatting ----------
  function fmtMs(ms) {
    if (!Number.isFinite(ms)) return '–';
    if (ms === 0) return '0 ms';
    if (ms < 1) return ms.toFixed(2) + ' ms';
    if (ms < 10) return ms.toFixed(1) + ' ms';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return (ms / 60000).toFixed(1) + ' min';
  }
  function pad(n, w) {
    return String(n).padStart(w || 2, '0');
  }
  function fmtClock(epochMs) {
    const d = new Date(epochMs);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }
  function fmtDateTime(epochMs) {
    const d = new Date(epochMs);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtClock(epochMs)}`;
  }
  function fmtAgo(epochMs) {
    const s = Math.max(0, (Date.now() - epochMs) / 1000);
    if (s < 5) return 'just now';
    if (s < 60) return Math.floor(s) + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }
  function fmtValue(v) {
    if (Array.isArray(v)) return '[' + v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ') + ']';
    return String(v);
  }
  function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
  }
  function shortId(id) {
    return id.length > 12 ? id.slice(0, 12) + '…' : id;
  }
  function serviceColor(name) {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return PALETTE[(h >>> 0) % PALETTE.length];
  }
  function httpStatus(span) {
    const v = span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'];
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
  function isErrorSpan(span) {
    if (span.status && span.status.code === 'error') return true;
    const s = httpStatus(span);
    return span.kind === 'server' && s !== undefined && s >= 500;
  }
  function isChaosEvent(ev) {
    return /chaos/i.test(ev.name) || Object.keys(ev.attributes || {}).some((k) => k.startsWith('tracecar.chaos'));
  }

  // ---------- small widgets ----------
  function copyIcon() {
    return svg('svg', { viewBox: '0 0 16 16', 'aria-hidden': 'true' },
      svg('rect', { x: 5, y: 5, width: 9, height: 9, rx: 1.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }),
      svg('path', { d: 'M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }));
  }
  function copyButton(value, what) {
    const btn = el('button', { type: 'button', class: 'copy', title: `Copy ${what}`, 'aria-label': `Copy ${what}`, 'data-copy': value }, copyIcon());
    btn.addEventListener('click', (ev) => {
      ev.stopPropagation();
      ev.preventDefault();
      copyText(value).then(
        () => {
          btn.classList.add('copied');
          toast(`Copied ${what}`);
          setTimeout(() => btn.classList.remove('copied'), 1200);
        },
        () => toast('Copy failed: select the text instead'),
      );
    });
    return btn;
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise((resolve, reject) => {
      const ta = el('textarea', { style: { position: 'fixed', left: '-1000px', top: '0' } });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      const ok = document.execCommand('copy');
      ta.remove();
      ok ? resolve() : reject(new Error('copy'));
    });
  }
  let toastTimer;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 1400);
  }
  function serviceChip(name) {
    return el('span', { class: 'chip', title: name }, el('span', { class: 'dot', style: { background: serviceColor(name) } }), name);
  }
  function statusBadge(code, error) {
    if (code !== undefined) return el('span', { class: 'badge ' + (code >= 500 || error ? 'err' : code >= 400 ? 'warn' : 'ok') }, String(code));
    return error ? el('span', { class: 'badge err' }, 'ERROR') : el('span', { class: 'badge ok' }, 'OK');
  }

  // ---------- API ----------
  async function api(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(body.error || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  // ---------- routing ----------
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
    const changedTrace = r.view === 'trace' && r.traceId !== state.traceId;
    state.view = r.view;
    if (r.view === 'trace') {
      if (changedTrace) {
        state.traceId = r.traceId;
        state.selectedSpanId = r.params.get('span');
        state.traceSignature = '';
      }
    } else {
      state.traceId = null;
    }
    if (r.view === 'traces') filtersFromParams(r.params);
    for (const id of ['traces', 'trace', 'summary']) $('view-' + id).hidden = id !== r.view;
    for (const a of document.querySelectorAll('.tabs a')) {
      const v = a.getAttribute('data-view');
      a.classList.toggle('active', v === r.view || (v === 'traces' && r.view === 'trace'));
    }
    document.title = r.view === 'trace' ? `trace ${shortId(r.traceId)} · tracecar` : r.view === 'summary' ? 'summary · tracecar' : 'traces · tracecar';
    if (r.view === 'trace' && changedTrace) {
      clear($('waterfall'));
      clear($('span-panel'));
      clear($('trace-head'));
      window.scrollTo(0, 0);
    }
    refresh();
  }

  // ---------- filters ----------
  const form = () => $('filters');
  function filtersFromParams(params) {
    const f = form();
    for (const key of FILTER_KEYS) {
      const input = f.elements.namedItem(key);
      if (!input) continue;
      const v = params.get(key) || '';
      if (input.type === 'checkbox') input.checked = v === '1';
      else if (input.tagName === 'SELECT' && v && ![...input.options].some((o) => o.value === v)) {
        input.append(el('option', { value: v }, v));
        input.value = v;
      } else input.value = v;
    }
  }
  function filterParams() {
    const f = form();
    const params = new URLSearchParams();
    for (const key of FILTER_KEYS) {
      const input = f.elements.namedItem(key);
      if (!input) continue;
      if (input.type === 'checkbox') {
        if (input.checked) params.set(key, '1');
      } else if (input.value.trim() !== '') params.set(key, input.value.trim());
    }
    return params;
  }
  let filterTimer;
  function onFilterChange() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      const q = filterParams().toString();
      history.replaceState(null, '', '#/traces' + (q ? '?' + q : ''));
      sessionStorage.setItem('tracecar.filters', q ? '?' + q : '');
      state.firstListLoad = true;
      refresh();
    }, 250);
  }

  // ---------- traces list ----------
  async function loadTraces() {
    const params = filterParams();
    params.set('limit', '200');
    const data = await api('api/traces?' + params.toString());
    renderServiceOptions(data.services);
    renderTraceList(data);
  }

  function renderServiceOptions(services) {
    const select = $('f-service');
    const current = select.value;
    const have = [...select.options].map((o) => o.value).filter(Boolean);
    const want = [...new Set([...services, current].filter(Boolean))].sort();
    if (have.join('\n') === want.join('\n')) return;
    while (select.options.length > 1) select.remove(1);
    for (const s of want) select.append(el('option', { value: s }, s));
    select.value = current;
  }

  function renderTraceList(data) {
    const tbody = $('trace-rows');
    const traces = data.traces;
    const maxDur = Math.max(1, ...traces.map((t) => t.durationMs));
    const rows = traces.map((t) => {
      const isNew = !state.firstListLoad && !state.seenTraceIds.has(t.traceId);
      state.seenTraceIds.add(t.traceId);
      const open = () => (location.hash = '#/trace/' + t.traceId);
      const tr = el('tr', {
        class: [t.error ? 'is-error' : '', isNew ? 'is-new' : ''].join(' ').trim() || undefined,
        tabindex: 0,
        'data-trace-id': t.traceId,
        onclick: open,
        onkeydown: (ev) => { if (ev.key === 'Enter') open(); },
      },
      el('td', { class: 'c-time', title: fmtDateTime(t.startTime) }, fmtClock(t.startTime), el('span', { class: 'ago' }, fmtAgo(t.startTime))),
      el('td', { class: 'c-root' },
        el('div', { class: 'name' }, t.rootName || '(unnamed)'),
        el('div', { class: 'sub' }, el('span', { class: 'id', title: t.traceId }, shortId(t.traceId)), copyButton(t.traceId, 'trace ID'))),
      el('td', { class: 'c-services' }, t.services.map(serviceChip)),
      el('td', { class: 'c-num' }, String(t.spanCount)),
      el('td', { class: 'c-dur' }, fmtMs(t.durationMs), el('div', { class: 'dur-bar', style: { width: Math.max(2, (t.durationMs / maxDur) * 100) + '%' } })),
      el('td', { class: 'c-status' }, statusBadge(t.rootStatusCode, t.error)),
      el('td', { class: 'c-corr' }, t.correlationId ? [el('span', { class: 'id', title: t.correlationId }, t.correlationId.length > 22 ? t.correlationId.slice(0, 22) + '…' : t.correlationId), copyButton(t.correlationId, 'correlation ID')] : el('span', { class: 'none' }, '–')));
      return tr;
    });
    clear(tbody);
    append(tbody, rows);
    state.firstListLoad = false;

    const empty = $('traces-empty');
    const filtered = filterParams().toString() !== '';
    empty.hidden = traces.length > 0;
    empty.textContent = filtered
      ? 'No stored trace matches these filters.'
      : 'No traces yet. Send a request through the sidecar (or spans to POST /v1/traces) and it shows up here.';
    const meta = $('list-meta');
    clear(meta);
    append(meta, [
      el('span', null, `${traces.length} trace${traces.length === 1 ? '' : 's'} shown`),
      el('span', null, `${data.stats.traces} stored (max ${data.stats.maxTraces})`),
      data.stats.evictedTraces ? el('span', null, `${data.stats.evictedTraces} evicted`) : null,
    ]);
  }

  // ---------- trace / waterfall ----------
  async function loadTrace() {
    const id = state.traceId;
    let data;
    try {
      data = await api('api/traces/' + encodeURIComponent(id));
    } catch (err) {
      if (err.status === 404 || err.status === 400) {
        renderTraceMissing(id, err);
        return;
      }
      throw err;
    }
    if (id !== state.traceId) return;
    const sig = data.spans.length + ':' + data.spans.map((s) => s.spanId + s.endTime).join(',').length + ':' + data.spans.reduce((m, s) => Math.max(m, s.endTime), 0);
    if (sig === state.traceSignature) return;
    state.traceSignature = sig;
    renderTrace(data.spans);
  }

  function renderTraceMissing(id, err) {
    state.traceSignature = '';
    const head = $('trace-head');
    clear(head);
    append(head, [
      el('a', { class: 'back', href: '#/traces' }, '← All traces'),
      el('h1', null, 'Trace ', el('span', { class: 'mono' }, id)),
    ]);
    clear($('span-panel'));
    const wf = $('waterfall');
    clear(wf);
    wf.append(el('div', { class: 'notice' },
      err.status === 400 ? 'That is not a valid trace ID.' : 'This trace is not in the store yet (or was evicted). ' + (state.live ? 'Waiting for its spans…' : 'Resume live updates to keep looking.')));
  }

  /** Spans in tree order (parents before children, siblings by start), each with its depth. */
  function treeOrder(spans) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const children = new Map();
    const roots = [];
    for (const s of spans) {
      if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
        if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
        children.get(s.parentSpanId).push(s);
      } else roots.push(s);
    }
    const byStart = (a, b) => a.startTime - b.startTime;
    roots.sort(byStart);
    const out = [];
    const seen = new Set();
    const walk = (s, depth) => {
      if (seen.has(s.spanId)) return;
      seen.add(s.spanId);
      out.push({ span: s, depth });
      for (const c of (children.get(s.spanId) || []).sort(byStart)) walk(c, depth + 1);
    };
    for (const r of roots) walk(r, 0);
    for (const s of spans) if (!seen.has(s.spanId)) out.push({ span: s, depth: 0 });
    return out;
  }

  function niceStep(total) {
    const raw = total / 5;
    const mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }

  function renderTrace(spans) {
    const rows = treeOrder(spans);
    const start = Math.min(...spans.map((s) => s.startTime));
    const end = Math.max(...spans.map((s) => s.endTime));
    const total = Math.max(end - start, 0.001);
    const root = rows[0].span;
    const services = [...new Set(spans.map((s) => s.service))].sort();
    const errors = spans.filter(isErrorSpan);
    const correlationId = spans.map(correlationOf).find(Boolean);

    // Header
    const head = $('trace-head');
    clear(head);
    append(head, [
      el('a', { class: 'back', href: '#/traces' + (sessionStorage.getItem('tracecar.filters') || '') }, '← All traces'),
      el('h1', { class: errors.length ? 'is-error' : undefined }, serviceDot(root.service), root.name || '(unnamed)', statusBadge(httpStatus(root), errors.length > 0)),
      el('div', { class: 'meta' },
        el('span', null, 'Trace ', el('span', { class: 'mono', 'data-field': 'trace-id' }, state.traceId), copyButton(state.traceId, 'trace ID')),
        correlationId ? el('span', null, 'Correlation ', el('span', { class: 'mono', 'data-field': 'correlation-id' }, correlationId), copyButton(correlationId, 'correlation ID')) : null,
        el('span', null, 'Started ', el('b', null, fmtDateTime(start))),
        el('span', null, 'Duration ', el('b', null, fmtMs(total))),
        el('span', null, el('b', null, String(spans.length)), spans.length === 1 ? ' span' : ' spans'),
        errors.length ? el('span', { style: { color: 'var(--error)' } }, el('b', null, String(errors.length)), errors.length === 1 ? ' error' : ' errors') : null,
        el('span', null, services.map(serviceChip))),
    ]);

    // Waterfall
    const wf = $('waterfall');
    clear(wf);
    const step = niceStep(total);
    const ticks = [];
    for (let t = 0; t <= total + 1e-9; t += step) ticks.push(t);
    wf.append(el('div', { class: 'wf-ruler' },
      el('div', { class: 'wf-label' }, 'Service · span'),
      el('div', { class: 'wf-track' }, ticks.map((t) => el('span', { class: 'tick', style: { left: (t / total) * 100 + '%' } }, fmtMs(t).replace(/\.0+ /, ' '))))));

    if (!state.selectedSpanId || !spans.some((s) => s.spanId === state.selectedSpanId)) state.selectedSpanId = root.spanId;
    for (const { span, depth } of rows) {
      const left = ((span.startTime - start) / total) * 100;
      const width = Math.max(((span.endTime - span.startTime) / total) * 100, 0.2);
      const err = isErrorSpan(span);
      const color = serviceColor(span.service);
      const guides = [];
      for (let i = 0; i < depth; i++) guides.push(el('span', { class: 'wf-guide' }));
      const row = el('div', {
        class: 'wf-row' + (err ? ' is-error' : '') + (span.spanId === state.selectedSpanId ? ' selected' : ''),
        'data-span-id': span.spanId,
        tabindex: 0,
        title: `${span.service} · ${span.name} · ${fmtMs(span.endTime - span.startTime)}`,
        onclick: () => selectSpan(span, spans, start),
        onkeydown: (ev) => { if (ev.key === 'Enter') selectSpan(span, spans, start); },
      },
      el('div', { class: 'wf-label' }, guides, el('span', { class: 'dot', style: { background: color } }), el('span', { class: 'svc' }, span.service), el('span', { class: 'wf-name' }, span.name || '(unnamed)')),
      el('div', { class: 'wf-track' },
        el('div', { class: 'wf-bar', style: { left: left + '%', width: width + '%', background: color } }),
        (span.events || []).map((ev) => el('span', {
          class: 'wf-event' + (isChaosEvent(ev) ? ' chaos' : ''),
          title: `${ev.name} at +${fmtMs(ev.time - span.startTime)}`,
          style: { left: ((Math.min(Math.max(ev.time, span.startTime), span.endTime) - start) / total) * 100 + '%' },
        })),
        el('span', { class: 'wf-dur', style: { left: `calc(${left + width}% + 6px)` } }, fmtMs(span.endTime - span.startTime))));
      wf.append(row);
    }
    const selected = spans.find((s) => s.spanId === state.selectedSpanId) || root;
    renderSpanPanel(selected, start);
  }

  function serviceDot(name) {
    return el('span', { class: 'dot', title: name, style: { background: serviceColor(name), width: '12px', height: '12px' } });
  }
  function correlationOf(span) {
    for (const k of ['tracecar.correlation_id', 'http.request.header.x-request-id']) {
      const v = span.attributes[k];
      if (typeof v === 'string' && v) return v;
      if (Array.isArray(v) && v.length && typeof v[0] === 'string') return v[0];
    }
    return undefined;
  }

  function selectSpan(span, spans, start) {
    state.selectedSpanId = span.spanId;
    for (const row of document.querySelectorAll('.wf-row')) row.classList.toggle('selected', row.getAttribute('data-span-id') === span.spanId);
    renderSpanPanel(span, start);
  }

  function errorText(span) {
    const parts = [];
    if (span.status.message) parts.push(span.status.message);
    const type = span.attributes['error.type'];
    if (type !== undefined && String(type) !== span.status.message) parts.push(String(type));
    const status = httpStatus(span);
    if (status !== undefined && !parts.includes(String(status))) parts.push('HTTP ' + status);
    return 'Error' + (parts.length ? ': ' + parts.join(' · ') : '');
  }

  function kvList(attrs) {
    const keys = Object.keys(attrs || {}).sort();
    if (!keys.length) return el('p', { class: 'none' }, 'none');
    return el('dl', { class: 'kv' }, keys.map((k) => {
      const v = attrs[k];
      const bad = (k === 'http.response.status_code' && Number(v) >= 500) || k === 'error.type' || k === 'exception.message';
      return [el('dt', null, k), el('dd', { class: bad ? 'err' : undefined }, fmtValue(v))];
    }));
  }

  function renderSpanPanel(span, traceStart) {
    const panel = $('span-panel');
    clear(panel);
    const err = isErrorSpan(span);
    const dur = span.endTime - span.startTime;
    append(panel, [
      el('h3', { class: err ? 'is-error' : undefined }, span.name || '(unnamed)'),
      el('div', null, serviceChip(span.service), ' ', el('span', { class: 'kind' }, span.kind.toUpperCase()), ' ', statusBadge(httpStatus(span), err)),
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
      kvList(span.attributes),
      el('h4', null, `Events (${(span.events || []).length})`),
      (span.events || []).length
        ? span.events.map((ev) => el('div', { class: 'event' + (isChaosEvent(ev) ? ' chaos' : '') },
          el('div', { class: 'ev-head' }, el('b', null, ev.name), el('span', { class: 'ev-time' }, '+' + fmtMs(ev.time - span.startTime))),
          Object.keys(ev.attributes || {}).length ? kvList(ev.attributes) : null))
        : el('p', { class: 'none' }, 'none'),
      (span.links || []).length
        ? [el('h4', null, 'Links'), span.links.map((l) => el('div', { class: 'mono' }, el('a', { href: '#/trace/' + l.traceId }, shortId(l.traceId)), ' / ' + l.spanId))]
        : null,
      span.resource && Object.keys(span.resource).length
        ? el('details', null, el('summary', null, 'Resource attributes'), kvList(span.resource))
        : null,
    ]);
  }

  // ---------- summary ----------
  async function loadSummary() {
    const data = await api('api/summary');
    renderSummary(data);
  }

  function renderSummary(data) {
    const cards = $('summary-cards');
    clear(cards);
    const errorSpans = data.errors.reduce((n, p) => n + p.count, 0);
    const card = (v, l, bad) => el('div', { class: 'card' + (bad ? ' bad' : '') }, el('div', { class: 'v' }, String(v)), el('div', { class: 'l' }, l));
    append(cards, [
      card(data.traces, 'traces stored'),
      card(data.spans, 'spans'),
      card(data.dependencies.nodes.filter((n) => !n.external).length, 'services reporting'),
      card(errorSpans, 'error spans', errorSpans > 0),
    ]);

    // Slowest operations
    const rt = $('routes-rows');
    clear(rt);
    const maxP = Math.max(1, ...data.routes.map((r) => r.p99));
    for (const r of data.routes.slice(0, 50)) {
      const q = new URLSearchParams({ service: r.service, route: r.name }).toString();
      rt.append(el('tr', { class: r.errors ? 'is-error' : undefined, style: { cursor: 'pointer' }, title: 'Show these traces', onclick: () => (location.hash = '#/traces?' + q) },
        el('td', null, serviceChip(r.service)),
        el('td', null, r.name),
        el('td', { class: 'c-num' }, String(r.count)),
        el('td', { class: 'c-num' + (r.errors ? ' err-count' : '') }, String(r.errors)),
        el('td', { class: 'c-num' }, fmtMs(r.p50)),
        el('td', { class: 'c-num' }, el('b', null, fmtMs(r.p95))),
        el('td', { class: 'c-num' }, fmtMs(r.p99)),
        el('td', { class: 'c-bar', title: 'p50 / p99' }, el('div', { class: 'p-bar' },
          el('span', { style: { width: (r.p99 / maxP) * 100 + '%' } }),
          el('span', { class: 'p50', style: { width: (r.p50 / maxP) * 100 + '%' } })))));
    }
    $('routes-empty').hidden = data.routes.length > 0;

    // Error patterns
    const et = $('errors-rows');
    clear(et);
    for (const p of data.errors.slice(0, 50)) {
      et.append(el('tr', null,
        el('td', null, serviceChip(p.service)),
        el('td', null, p.route),
        el('td', null, el('span', { class: 'kind' }, p.kind.toUpperCase())),
        el('td', null, p.statusCode !== undefined ? statusBadge(p.statusCode, true) : el('span', { class: 'none' }, '–')),
        // error.type is often just the status code again: show a cause only when it adds something.
        el('td', { class: 'mono' }, p.cause && p.cause !== String(p.statusCode) ? p.cause : '–'),
        el('td', { class: 'c-num err-count' }, String(p.count)),
        el('td', { title: fmtDateTime(p.lastSeen) }, fmtAgo(p.lastSeen)),
        el('td', null, el('a', { class: 'mono', href: '#/trace/' + p.exampleTraceId }, shortId(p.exampleTraceId)))));
    }
    $('errors-empty').hidden = data.errors.length > 0;

    renderGraph(data.dependencies);
  }

  /** Layered layout: a node's column is its longest call path from a caller-less node. */
  function renderGraph(dep) {
    const box = $('dep-graph');
    clear(box);
    const nodes = dep.nodes;
    if (!nodes.length) {
      box.append(el('p', { class: 'empty' }, 'No services yet.'));
      return;
    }
    const names = nodes.map((n) => n.service);
    const incoming = new Map(names.map((n) => [n, 0]));
    for (const e of dep.edges) if (e.from !== e.to) incoming.set(e.to, (incoming.get(e.to) || 0) + 1);
    const col = new Map(names.map((n) => [n, 0]));
    // Longest-path relaxation, bounded so cycles cannot loop forever.
    for (let i = 0; i < names.length; i++) {
      let changed = false;
      for (const e of dep.edges) {
        if (e.from === e.to) continue;
        const want = col.get(e.from) + 1;
        if (want > col.get(e.to) && want < names.length) {
          col.set(e.to, want);
          changed = true;
        }
      }
      if (!changed) break;
    }
    const columns = [];
    for (const n of nodes) {
      const c = col.get(n.service);
      (columns[c] = columns[c] || []).push(n);
    }
    const W = 170, H = 46, GX = 170, GY = 30, PAD = 24;
    const height = Math.max(...columns.map((c) => (c ? c.length : 0))) * (H + GY) - GY + PAD * 2;
    const width = columns.length * (W + GX) - GX + PAD * 2;
    const pos = new Map();
    columns.forEach((list, c) => {
      if (!list) return;
      const colHeight = list.length * (H + GY) - GY;
      list.forEach((n, i) => pos.set(n.service, { x: PAD + c * (W + GX), y: (height - colHeight) / 2 + i * (H + GY) }));
    });

    const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Service dependency graph' });
    const defs = svg('defs', null,
      svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9ca3af' })),
      svg('marker', { id: 'arrow-err', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#dc2626' })));
    root.append(defs);

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
        lx = (x1 + x2) / 2; ly = top + 4;
      }
      const bad = e.errors > 0;
      const label = `${e.calls} call${e.calls === 1 ? '' : 's'}` + (bad ? ` · ${e.errors} err` : '');
      root.append(svg('g', { class: 'edge' + (bad ? ' has-errors' : ''), 'data-from': e.from, 'data-to': e.to },
        svg('title', null, `${e.from} → ${e.to}: ${label}`),
        svg('path', { d, 'marker-end': bad ? 'url(#arrow-err)' : 'url(#arrow)' }),
        svg('text', { x: lx, y: ly, 'text-anchor': 'middle' }, label)));
    }
    for (const n of nodes) {
      const p = pos.get(n.service);
      const color = n.external ? '#9ca3af' : serviceColor(n.service);
      const name = n.service.length > 22 ? n.service.slice(0, 21) + '…' : n.service;
      root.append(svg('g', { class: 'node' + (n.external ? ' external' : ''), transform: `translate(${p.x},${p.y})`, 'data-service': n.service },
        svg('title', null, n.service + (n.external ? ' (called, reports no spans here)' : `: ${n.spanCount} spans, ${n.errorCount} errors`)),
        svg('rect', { width: W, height: H, rx: 8, stroke: n.errorCount ? '#dc2626' : color }),
        svg('rect', { width: 6, height: H - 12, x: 8, y: 6, rx: 3, fill: color, stroke: 'none' }),
        svg('text', { x: 22, y: 19 }, name),
        svg('text', { x: 22, y: 35, class: 'sub' }, n.external ? 'external' : plural(n.spanCount, 'span') + (n.errorCount ? ' · ' + plural(n.errorCount, 'error') : ''))));
    }
    box.append(root);
  }

  // ---------- refresh loop ----------
  async function refresh() {
    if (state.inFlight) return;
    state.inFlight = true;
    const live = document.querySelector('.live');
    try {
      if (state.view === 'traces') await loadTraces();
      else if (state.view === 'trace') await loadTrace();
      else await loadSummary();
      live.classList.remove('failing');
      $('live-status').textContent = state.live ? 'live · ' + fmtClock(Date.now()).slice(0, 8) : 'paused';
    } catch (err) {
      live.classList.add('failing');
      $('live-status').textContent = 'cannot reach tracecar (' + (err && err.message ? err.message : 'error') + ')';
    } finally {
      state.inFlight = false;
    }
  }

  function setLive(on) {
    state.live = on;
    $('live-toggle').textContent = on ? 'Pause' : 'Resume';
    $('live-toggle').setAttribute('aria-pressed', on ? 'false' : 'true');
    document.querySelector('.live').classList.toggle('paused', !on);
    $('live-status').textContent = on ? 'live' : 'paused';
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
      const info = await api('api/info');
      $('service-name').textContent = info.service;
    } catch {
      // the header simply stays without a service name
    }
  }

  function init() {
    const f = form();
    f.addEventListener('input', onFilterChange);
    f.addEventListener('change', onFilterChange);
    f.addEventListener('submit', (ev) => ev.preventDefault());
    f.addEventListener('reset', () => setTimeout(onFilterChange, 0));
    $('live-toggle').addEventListener('click', () => setLive(!state.live));
    window.addEventListener('hashchange', () => {
      const r = parseHash();
      if (r.view === 'traces') sessionStorage.setItem('tracecar.filters', r.params.toString() ? '?' + r.params.toString() : '');
      route();
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && state.view === 'trace') location.hash = '#/traces' + (sessionStorage.getItem('tracecar.filters') || '');
    });
    loadInfo();
    route();
    setLive(true);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
