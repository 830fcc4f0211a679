/**
 * The JSON access line is built by hand (telemetry/access-log.ts through log.ts jsonLineSink) for
 * speed; it must be byte for byte the line pino writes for the same object, escaping included.
 */
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, flushLogger, jsonString } from '../../src/log.js';
import { createAccessLog } from '../../src/telemetry/access-log.js';
import { Hop } from '../../src/telemetry/hop.js';
import { grpcStatusName } from '../../src/grpc/index.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { stream, lines };
}

function hop(overrides: Partial<Hop>): Hop {
  const h = new Hop('ingress', 'server', 'GET', 1_000);
  Object.assign(h, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), correlationId: 'req-1', path: '/orders/7', route: 'GET /orders/:id', status: 200, endTime: 1_012.345_678, sampled: true }, overrides);
  return h;
}

/** What pino writes for the access line's object (the reference the hand-built line must equal). */
function pinoLine(h: Hop): string {
  const { stream, lines } = capture();
  const logger = createLogger({ level: 'info', pretty: false, stream });
  logger.info(
    {
      side: h.side,
      trace_id: h.traceId,
      span_id: h.spanId,
      request_id: h.correlationId,
      method: h.method,
      path: h.path,
      route: h.route,
      status: h.status,
      duration_ms: Math.round(h.durationMs * 1000) / 1000,
      sampled: h.sampled || h.keptBy !== null,
      ...(h.rpc ? { rpc_method: h.rpc.full, ...(h.grpcStatus !== undefined ? { grpc_status: grpcStatusName(h.grpcStatus) } : {}) } : {}),
      ...(h.errorCode ? { error: h.errorCode } : {}),
    },
    'request',
  );
  return lines.join('');
}

function fastLine(h: Hop): string {
  const { stream, lines } = capture();
  createAccessLog(createLogger({ level: 'info', pretty: false, stream }), 'json', () => undefined, false).write(h);
  return lines.join('');
}

/** The same line through tracecar's own stdout buffer (written in pieces, no line string), to a file. */
function bufferedLine(h: Hop): string {
  const file = join(mkdtempSync(join(tmpdir(), 'access-line-')), 'out');
  const fd = openSync(file, 'w');
  try {
    const logger = createLogger({ level: 'info', pretty: false, fd });
    createAccessLog(logger, 'json', () => undefined, false).write(h);
    flushLogger(logger);
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, 'utf8');
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 1, 2, 3, 4, 567), toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('JSON access line: exactly what pino writes', () => {
  it.each([
    ['a plain GET', {}],
    ['quotes and backslashes in the path', { path: '/a"b\\c"' }],
    ['control characters in the correlation id', { correlationId: 'x\u0001y\tz\n' }],
    ['DEL, latin1 obs-text and non-ASCII', { path: '/\u007f\u00e9\u00ff/naïve/☃/𝄞' }],
    ['a lone surrogate', { path: '/\ud800x' }],
    ['a long path (JSON.stringify beyond 100 characters)', { path: `/${'"x'.repeat(80)}` }],
    ['a long plain path', { path: `/${'abc/'.repeat(60)}` }],
    ['a path longer than the stdout buffer (which grows for that line)', { path: `/${'p'.repeat(70_000)}` }],
    ['an unknown method', { method: 'BREW' }],
    ['a failed request with an error code, unsampled but kept', { status: 0, errorCode: 'TRC_ERR_UPSTREAM_CONNECT' as const, sampled: false, keptBy: 'error' }],
    ['an egress call', { side: 'egress' as const }],
    ['a long duration', { endTime: 1_000 + 123_456.789_123 }],
    ['a gRPC call', { rpc: { full: 'shop.Orders/Get', service: 'shop.Orders', method: 'Get' }, grpcStatus: 5 }],
    ['a gRPC call with no status yet', { rpc: { full: 'shop.Orders/Get', service: 'shop.Orders', method: 'Get' } }],
  ])('%s', (_what, overrides) => {
    const h = hop(overrides as Partial<Hop>);
    const line = fastLine(h);
    expect(line).toBe(pinoLine(h));
    expect(bufferedLine(h)).toBe(line);
    expect(JSON.parse(line)).toMatchObject({ msg: 'request', path: h.path.toWellFormed?.() ?? h.path });
  });

  it('jsonString agrees with JSON.parse on what it writes', () => {
    for (const s of ['', 'plain', 'a"b', 'a\\b', '\u0000', 'é', '☃', 'x'.repeat(101), '"\\'.repeat(60)]) {
      expect(JSON.parse(jsonString(s))).toBe(s);
    }
  });

  it('follows the logger level (off at warn, on again at info)', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'warn', pretty: false, stream });
    const log = createAccessLog(logger, 'json', () => undefined, false);
    log.write(hop({}));
    expect(lines).toEqual([]);
    logger.level = 'info';
    log.write(hop({}));
    expect(lines).toHaveLength(1);
  });
});
