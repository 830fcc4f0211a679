import { jsonLineSink, jsonString, type Logger } from '../log.js';
import type { Hop } from './hop.js';
import { grpcStatusName } from '../grpc/index.js';
import { boundedValue } from '../propagation/excerpt.js';

/** Bounds of what a pretty line quotes from the request (escaped: a path cannot colour or split the terminal's line). */
const PRETTY_PATH = 1024;
const PRETTY_TEXT = 256;

/**
 * One line per proxied request. JSON mode: a structured pino line (trace_id, span_id, request_id,
 * method, path, status, duration). Pretty mode: a short coloured line with a link to the viewer.
 * Paths are logged without the query string: tokens in query parameters never reach a log line.
 * `traceLink` gives the viewer's link to a trace, when the viewer listens (the admin side owns
 * the link format).
 */
export interface AccessLog {
  write(hop: Hop): void;
}

/** A gRPC call's method and status name in the JSON line (what the pino path below spreads in). */
function rpcFields(hop: Hop): string {
  const status = hop.grpcStatus !== undefined ? `,"grpc_status":${jsonString(grpcStatusName(hop.grpcStatus))}` : '';
  return `,"rpc_method":${jsonString(hop.rpc!.full)}${status}`;
}

/** A number as pino writes it (non-finite → null). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

const FRACTION = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : `.${String(i).padStart(3, '0').replace(/0+$/, '')}`));

/**
 * `String(Math.round(ms * 1000) / 1000)`, the duration as pino writes it, from integers: a
 * profile of the access-log row put the double-to-shortest-string conversion at ~0.2 µs a line,
 * while integer to string and a table of the 1,000 fractions are a few nanoseconds. Below 2^53 µs
 * the two agree exactly (test/telemetry/access-log-duration.test.ts); anything else takes the slow way.
 */
export function durationJson(ms: number): string {
  const micros = Math.round(ms * 1000);
  if (!(micros >= 0 && micros <= Number.MAX_SAFE_INTEGER)) return jsonNumber(micros / 1000);
  const whole = Math.floor(micros / 1000);
  return `${whole}${FRACTION[micros - whole * 1000]}`;
}

export function createAccessLog(logger: Logger, mode: 'pretty' | 'json' | 'off', traceLink: (traceId: string) => string | undefined, color: boolean): AccessLog {
  if (mode === 'off') return { write() {} };
  const sink = mode === 'json' ? jsonLineSink(logger) : undefined;
  const pieces = sink?.pieces;
  if (sink && pieces) {
    // The same line, written piece by piece straight into the stdout buffer (no line string).
    return {
      write(hop) {
        if (!sink.infoEnabled()) return;
        pieces.head();
        pieces.ascii(hop.side === 'ingress' ? ',"side":"ingress","trace_id":' : ',"side":"egress","trace_id":');
        pieces.string(hop.traceId);
        pieces.ascii(',"span_id":');
        pieces.string(hop.spanId);
        pieces.ascii(',"request_id":');
        pieces.string(hop.correlationId);
        pieces.ascii(',"method":');
        pieces.string(hop.method);
        pieces.ascii(',"path":');
        pieces.string(hop.path);
        pieces.ascii(',"route":');
        pieces.string(hop.route);
        pieces.ascii(`,"status":${jsonNumber(hop.status)},"duration_ms":${durationJson(hop.durationMs)},"sampled":${hop.sampled || hop.keptBy !== null}`);
        if (hop.rpc) {
          pieces.ascii(',"rpc_method":');
          pieces.string(hop.rpc.full);
          if (hop.grpcStatus !== undefined) {
            pieces.ascii(',"grpc_status":');
            pieces.string(grpcStatusName(hop.grpcStatus));
          }
        }
        if (hop.errorCode) {
          pieces.ascii(',"error":');
          pieces.string(hop.errorCode);
        }
        pieces.end(',"msg":"request"}\n');
      },
    };
  }
  if (sink) {
    // The line pino writes for the object below, built directly (see jsonLineSink).
    return {
      write(hop) {
        if (!sink.infoEnabled()) return;
        sink.write(
          `${sink.infoHead()},"side":${jsonString(hop.side)},"trace_id":${jsonString(hop.traceId)},"span_id":${jsonString(hop.spanId)},"request_id":${jsonString(hop.correlationId)},"method":${jsonString(hop.method)},"path":${jsonString(hop.path)},"route":${jsonString(hop.route)},"status":${jsonNumber(hop.status)},"duration_ms":${durationJson(hop.durationMs)},"sampled":${hop.sampled || hop.keptBy !== null}${hop.rpc ? rpcFields(hop) : ''}${hop.errorCode ? `,"error":${jsonString(hop.errorCode)}` : ''},"msg":"request"}\n`,
        );
      },
    };
  }
  if (mode === 'json') {
    return {
      write(hop) {
        logger.info(
          {
            side: hop.side,
            trace_id: hop.traceId,
            span_id: hop.spanId,
            request_id: hop.correlationId,
            method: hop.method,
            path: hop.path,
            route: hop.route,
            status: hop.status,
            duration_ms: Math.round(hop.durationMs * 1000) / 1000,
            sampled: hop.sampled || hop.keptBy !== null,
            ...(hop.rpc ? { rpc_method: hop.rpc.full, ...(hop.grpcStatus !== undefined ? { grpc_status: grpcStatusName(hop.grpcStatus) } : {}) } : {}),
            ...(hop.errorCode ? { error: hop.errorCode } : {}),
          },
          'request',
        );
      },
    };
  }
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    write(hop) {
      const status = hop.status === 0 ? '---' : String(hop.status);
      const statusText = hop.status >= 500 || hop.status === 0 ? paint('31', status) : hop.status >= 400 ? paint('33', status) : paint('32', status);
      const ms = hop.durationMs;
      const duration = ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(1)}ms`;
      const arrow = hop.side === 'ingress' ? '→' : '⇢';
      const kept = hop.sampled || hop.keptBy !== null;
      const trace = (kept ? traceLink(hop.traceId) : undefined) ?? `trace=${hop.traceId}`;
      const why = hop.errorMessage ? `  ${paint('31', boundedValue(hop.errorMessage, PRETTY_TEXT))}` : '';
      // gRPC: the method called and its status name (an HTTP status alone says little there).
      // Client input is escaped: a path with ESC or CR in it must not repaint or fake a line.
      const what = hop.rpc ? `gRPC ${boundedValue(hop.rpc.full, PRETTY_PATH)}` : `${boundedValue(hop.method, PRETTY_TEXT)} ${boundedValue(hop.path, PRETTY_PATH)}`;
      const grpc = hop.rpc && hop.grpcStatus !== undefined ? ` ${hop.isError ? paint('31', grpcStatusName(hop.grpcStatus)) : grpcStatusName(hop.grpcStatus)}` : '';
      logger.info({ line: `${arrow} ${what} ${statusText}${grpc} ${duration.padStart(8)}  ${paint('2', trace)}${why}` });
    },
  };
}
