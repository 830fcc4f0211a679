/**
 * CONNECT on the egress forward proxy (RFC 9110 §9.3.6): a TCP tunnel to host:port, usually
 * carrying TLS the app speaks end to end. The request path (pipeline.ts) parses the target and
 * runs the context stages; this module opens the tunnel and follows it to its end. Nothing
 * inside the tunnel is read or changed; a CLIENT span `CONNECT host:port` records where it went,
 * how long it lived and the bytes each way.
 * Stitching applies as far as it can without looking inside: a correlation id or trace header on
 * the CONNECT request itself, or opt-in inference. The propagation doctor stays quiet: the app's
 * trace headers, if it sends any, travel inside TLS where no proxy sees them.
 *
 * The tunnel is one request in the metrics (answered 200, lasting the tunnel's life), like
 * Envoy's CONNECT streams.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { TimeoutConfig } from '../config/types.js';
import type { Hop } from '../telemetry/hop.js';
import { nowMs } from '../telemetry/span.js';
import { classifyUpstreamError } from './upstream-errors.js';
import { failure } from '../errors.js';
import { bindLifetimes, type LiveConnections } from './splice.js';
import { writeRaw } from './upgrade.js';

/** Span attribute names of the tunnel span ("in" = towards the app, "out" = from the app). */
export const TUNNEL = {
  bytesIn: 'tracecar.tunnel.bytes.in',
  bytesOut: 'tracecar.tunnel.bytes.out',
} as const;

/** `host:port` / `[v6]:port` of a CONNECT request target (authority-form, port required). */
export function parseAuthority(target: string | undefined): { host: string; port: number } | string {
  if (!target) return 'CONNECT needs a host:port target';
  let host: string;
  let portText: string;
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    if (close < 0 || target[close + 1] !== ':') return `"${target.slice(0, 200)}" is not host:port`;
    host = target.slice(1, close);
    portText = target.slice(close + 2);
    if (isIP(host) !== 6) return `"${target.slice(0, 200)}" is not host:port`;
  } else {
    const colon = target.lastIndexOf(':');
    if (colon <= 0 || target.indexOf(':') !== colon) return `"${target.slice(0, 200)}" is not host:port`;
    host = target.slice(0, colon);
    portText = target.slice(colon + 1);
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return `"${target.slice(0, 200)}" is not host:port`;
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return `"${target.slice(0, 200)}" has no valid port`;
  return { host, port };
}

/** One CONNECT to open, after the context stages ran. */
export interface TunnelExchange {
  /** The tunnel's CLIENT span, `CONNECT host:port`. */
  hop: Hop;
  target: { host: string; port: number };
  /** The request target as received (host:port), for messages. */
  authority: string;
  timeouts: TimeoutConfig;
  /** Our headers on an error answer (the correlation id). */
  responseHeaders: Record<string, string>;
  /** Ends the tunnel span (a request: metrics, access line). */
  finish(hop: Hop): void;
  /** Where the open tunnel registers, so shutdown can drain it. */
  live: LiveConnections;
}

const CLIENT_LEFT = Object.freeze(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: 'before the tunnel was established' }));

/** Connects to the target and, once connected, answers 200 and splices `socket` (detached from node:http) to it. */
export function openTunnel(socket: Socket, head: Buffer, x: TunnelExchange): void {
  const { hop, authority } = x;
  const upstream = netConnect({ host: x.target.host, port: x.target.port, allowHalfOpen: true });
  let phase: 'connecting' | 'open' | 'done' = 'connecting';
  let sent = 0;
  let received = 0;
  const finish = (): void => {
    if (hop.endTime === 0) hop.endTime = nowMs();
    hop.requestBytes = sent;
    hop.responseBytes = received;
    hop.set(TUNNEL.bytesOut, sent);
    hop.set(TUNNEL.bytesIn, received);
    x.finish(hop);
  };

  const timer =
    x.timeouts.connect > 0
      ? setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), x.timeouts.connect)
      : undefined;
  timer?.unref();

  const onConnectError = (err: Error): void => {
    if (phase !== 'connecting') return;
    phase = 'done';
    if (timer) clearTimeout(timer);
    socket.off('close', onClientGone);
    const failed = classifyUpstreamError(err, authority);
    hop.status = failed.status;
    hop.fail(failed);
    if (socket.writable) writeRaw(socket, failed.status, `${failed.message}\n`, x.responseHeaders);
    socket.end();
    upstream.destroy();
    finish();
  };
  const onClientGone = (): void => {
    if (phase !== 'connecting') return;
    phase = 'done';
    if (timer) clearTimeout(timer);
    upstream.off('error', onConnectError);
    upstream.on('error', () => {});
    upstream.destroy();
    hop.fail(CLIENT_LEFT);
    finish();
  };
  upstream.once('error', onConnectError);
  socket.once('close', onClientGone);

  upstream.once('connect', () => {
    if (phase !== 'connecting') return;
    phase = 'open';
    if (timer) clearTimeout(timer);
    upstream.off('error', onConnectError);
    socket.off('close', onClientGone);
    hop.event('upstream.connected', nowMs());
    hop.status = 200;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) {
      sent += head.length;
      upstream.write(head);
    }
    socket.on('data', (chunk: Buffer) => (sent += chunk.length));
    upstream.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    const splice = bindLifetimes(socket, upstream, {
      halfOpenMs: x.timeouts.idle,
      onEnd: (end) => {
        x.live.delete(splice);
        hop.endTime = nowMs();
        if (end.cutReason) {
          hop.fail({ errorType: 'tracecar_shutdown', message: end.cutReason });
        } else if (end.error) {
          const code = (end.error.error as NodeJS.ErrnoException).code ?? 'error';
          // A reset after one side already said goodbye (FIN) is how many TLS stacks hang up.
          const afterGoodbye = end.firstEnded !== undefined && (code === 'ECONNRESET' || code === 'EPIPE');
          if (afterGoodbye) hop.event('tunnel.transport_error', nowMs(), { 'error.type': code });
          else if (end.error.side === 'b') hop.fail(failure('TRC_ERR_UPSTREAM_RESET', code, { target: authority, when: `during the tunnel (${code})` }));
          else hop.fail(failure('TRC_ERR_CLIENT_ABORTED', 'client_aborted', { when: `during the tunnel (${code})` }));
        }
        finish();
      },
    });
    x.live.add(splice);
  });
}
