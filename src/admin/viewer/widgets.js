// @ts-check
/** Small pieces shared by the views: service chips, status badges, copy buttons, the toast. */
import { byId, el, svg } from './dom.js';
import { serviceColor } from './format.js';

/** @param {string} name */
export function serviceChip(name) {
  return el('span', { class: 'chip', title: name }, el('span', { class: 'dot', style: { background: serviceColor(name) } }), name);
}

/** @param {string} name */
export function serviceDot(name) {
  return el('span', { class: 'dot', title: name, style: { background: serviceColor(name), width: '12px', height: '12px' } });
}

/**
 * The HTTP status (or OK/ERROR) as a badge. Red follows the server's verdict (`error`); a 4xx that
 * is not an error (a SERVER span answering 404) is only marked as a warning.
 * @param {number | undefined} code
 * @param {boolean} error
 */
export function statusBadge(code, error) {
  if (code !== undefined) return el('span', { class: 'badge ' + (error ? 'err' : code >= 400 ? 'warn' : 'ok') }, String(code));
  return error ? el('span', { class: 'badge err' }, 'ERROR') : el('span', { class: 'badge ok' }, 'OK');
}

/**
 * A gRPC call's status by name (its HTTP status is 200 whatever happened), or the HTTP badge
 * when there is no gRPC status.
 * @param {string | undefined} rpcStatus e.g. "UNAVAILABLE"
 * @param {number | undefined} code HTTP status
 * @param {boolean} error
 */
export function callBadge(rpcStatus, code, error) {
  if (rpcStatus === undefined) return statusBadge(code, error);
  return el('span', { class: 'badge ' + (error ? 'err' : rpcStatus === 'OK' ? 'ok' : 'warn'), title: 'gRPC status' }, rpcStatus);
}

function copyIcon() {
  return svg('svg', { viewBox: '0 0 16 16', 'aria-hidden': 'true' },
    svg('rect', { x: 5, y: 5, width: 9, height: 9, rx: 1.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }),
    svg('path', { d: 'M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }));
}

/**
 * A button that copies `value`; its click does not reach the row or span it sits in.
 * @param {string} value
 * @param {string} what e.g. "trace ID"
 */
export function copyButton(value, what) {
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

/**
 * @param {string} text
 * @returns {Promise<void>}
 */
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  return new Promise((resolve, reject) => {
    const ta = el('textarea', { style: { position: 'fixed', left: '-1000px', top: '0' } });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    if (ok) resolve();
    else reject(new Error('copy'));
  });
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/** @param {string} msg */
export function toast(msg) {
  const t = byId('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 1400);
}
