/**
 * GET /api/traces: summaries of stored traces, newest first.
 * Query: service, route, status=error|ok (or errors=1), minDuration, maxDuration (ms, or "250ms"/"2s"),
 * since, until (epoch ms or ISO time), last (a window such as "15m", instead of since), traceId,
 * correlationId, limit.
 */
import { durationMs } from '../../config/units.js';
import { HttpError, sendJson, type Handler } from '../http.js';
import type { TraceFilter, TraceStore } from '../../telemetry/store.js';
import type { TracesResponse } from '../api-types.js';

/** "250" (ms), "250ms", "1.5s", "15m", "1h" (the config file's durations) → milliseconds, else a 400. */
function durationParam(value: string, name: string): number {
  const ms = durationMs(value);
  if (ms === undefined) throw new HttpError(400, `${name} must be a duration in milliseconds or with a unit (250ms, 2s, 5m), got "${value}"`);
  return ms;
}

function parseTime(value: string, name: string): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new HttpError(400, `${name} must be epoch milliseconds or an ISO 8601 time, got "${value}"`);
  return t;
}

export function parseTraceFilter(params: URLSearchParams, now = Date.now()): TraceFilter {
  const filter: TraceFilter = {};
  const get = (k: string): string | undefined => {
    const v = params.get(k);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const service = get('service');
  if (service) filter.service = service;
  const route = get('route');
  if (route) filter.route = route;
  const status = get('status');
  if (status !== undefined) {
    if (status !== 'error' && status !== 'ok') throw new HttpError(400, `status must be "error" or "ok", got "${status}"`);
    filter.status = status;
  }
  const errors = get('errors');
  if (errors === '1' || errors === 'true') filter.status = 'error';
  const minDuration = get('minDuration');
  if (minDuration) filter.minDuration = durationParam(minDuration, 'minDuration');
  const maxDuration = get('maxDuration');
  if (maxDuration) filter.maxDuration = durationParam(maxDuration, 'maxDuration');
  const since = get('since');
  if (since) filter.since = parseTime(since, 'since');
  const last = get('last');
  if (last) filter.since = now - durationParam(last, 'last');
  const until = get('until');
  if (until) filter.until = parseTime(until, 'until');
  const traceId = get('traceId');
  if (traceId) {
    if (!/^[0-9a-f]{1,32}$/i.test(traceId)) throw new HttpError(400, 'traceId must be hex (a whole trace id or a prefix)');
    filter.traceId = traceId.toLowerCase();
  }
  const correlationId = get('correlationId');
  if (correlationId) filter.correlationId = correlationId;
  const limit = get('limit');
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `limit must be a positive integer, got "${limit}"`);
    filter.limit = n;
  }
  return filter;
}

export function tracesHandler(store: TraceStore): Handler {
  return ({ res, url }) => {
    const filter = parseTraceFilter(url.searchParams);
    const body: TracesResponse = { traces: store.list(filter), services: store.services(), stats: store.stats(), now: Date.now() };
    sendJson(res, 200, body);
  };
}
