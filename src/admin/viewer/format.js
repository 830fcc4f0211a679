// @ts-check
/** Text for durations, times, ids and attribute values; colours for services. */
/** @import { AttributeValue } from '../../telemetry/span.js' */

const PALETTE = ['#2563eb', '#059669', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#4f46e5', '#0d9488', '#c026d3', '#65a30d', '#7c3aed', '#0369a1'];

/** @param {number} ms */
export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 10) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return (ms / 60000).toFixed(1) + ' min';
}

/**
 * @param {number} n
 * @param {number} [width]
 */
function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** @param {number} epochMs */
export function fmtClock(epochMs) {
  const d = new Date(epochMs);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** @param {number} epochMs */
export function fmtDateTime(epochMs) {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtClock(epochMs)}`;
}

/** @param {number} epochMs */
export function fmtAgo(epochMs) {
  const s = Math.max(0, (Date.now() - epochMs) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return Math.floor(s) + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

/** @param {AttributeValue} v */
export function fmtValue(v) {
  if (Array.isArray(v)) return '[' + v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ') + ']';
  return String(v);
}

/**
 * @param {number} n
 * @param {string} word
 */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * @param {string} id
 * @param {number} [max]
 */
export function shortId(id, max = 12) {
  return id.length > max ? id.slice(0, max) + '…' : id;
}

/** A stable colour per service name (FNV-1a over the name). @param {string} name */
export function serviceColor(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return PALETTE[(h >>> 0) % PALETTE.length];
}
