import { jsonLineSink, type Logger } from '../log.js';
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
  if (sink) {
    // The line pino writes for the object below, written piece by piece (see jsonLineSink).
    const line = sink.line;
    return {
      write(hop) {
        if (!sink.infoEnabled()) return;
        line.head();
        line.ascii(hop.side === 'ingress' ? ',"side":"ingress","trace_id":' : ',"side":"egress","trace_id":');
        line.string(hop.traceId);
        line.ascii(',"span_id":');
        line.string(hop.spanId);
        line.ascii(',"request_id":');
        line.string(hop.correlationId);
        line.ascii(',"method":');
        line.string(hop.method);
        line.ascii(',"path":');
        line.string(hop.path);
        line.ascii(',"route":');
        line.string(hop.route);
        line.ascii(`,"status":${jsonNumber(hop.status)},"duration_ms":${durationJson(hop.durationMs)},"sampled":${hop.sampled || hop.keptBy !== null}`);
        if (hop.rpc) {
          line.ascii(',"rpc_method":');
          line.string(hop.rpc.full);
          if (hop.grpcStatus !== undefined) {
            line.ascii(',"grpc_status":');
            line.string(grpcStatusName(hop.grpcStatus));
          }
        }
        if (hop.errorCode) {
          line.ascii(',"error":');
          line.string(hop.errorCode);
        }
        line.end(',"msg":"request"}\n');
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
