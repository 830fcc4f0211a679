/**
 * The pool of HTTP/2 sessions to h2c:// and h2 upstreams, on node:http2.
 *
 * Hand-written rather than undici's `allowH2`: undici 7 dispatches a request whose body is a
 * stream (every proxied gRPC call) only on a session with nothing else in flight, so concurrent
 * calls each open their own connection instead of multiplexing (nodejs/undici#5390; the 8.x fix
 * still serialises non-replayable stream bodies), and it treats a graceful GOAWAY as a connection
 * failure that fails the streams in flight (nodejs/undici#5089). A proxy for gRPC needs both.
 *
 * Per pool key (origin, protocol, TLS material): up to `maxSessions` sessions. A stream goes to
 * the first ready session below its stream limit (ours, lowered by the upstream's
 * SETTINGS_MAX_CONCURRENT_STREAMS); when all are full another session is opened; at
 * `maxSessions`, to the least busy one (nghttp2 queues it until a stream slot frees).
 *
 * GOAWAY from the upstream: the session takes no new streams, the ones in flight finish (node
 * closes it after them), new streams go to another session. PING every `pingInterval`; no answer
 * within `pingTimeout` destroys the session. A session idle for `idleTimeout` is closed.
 *
 * https:// with ALPN: the first connection learns whether the upstream speaks h2 or http/1.1;
 * an http/1.1 answer is remembered (`alpnTtl`) and those requests go to undici instead.
 */
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TargetSpec } from '../config/targets.js';

export interface H2PoolOptions {
  maxConcurrentStreams: number;
  maxSessions: number;
  /** null = no PING. */
  pingInterval: number | null;
  pingTimeout: number;
  idleTimeout: number;
  /** TCP (+TLS) connect timeout. */
  connectTimeout: number;
  /** How long an ALPN "http/1.1" answer is remembered before asking again. @default 300000 */
  alpnTtl?: number;
}

/** A stream on a session, or word that the upstream chose HTTP/1.1 by ALPN (undici takes the request). */
export type OpenResult = { stream: ClientHttp2Stream; session: ClientHttp2Session } | { http1: true };

type Waiter = (err: Error | null, http1?: boolean) => void;

interface Entry {
  session: ClientHttp2Session;
  /** A connection is being made for this entry. */
  connecting: boolean;
  ready: boolean;
  /** Streams open on this session (ours to count: node has no public counter). */
  active: number;
  /** Streams waiting for this session to connect. */
  waiting: Waiter[];
  /** GOAWAY received or closing: no new streams. */
  draining: boolean;
  idle?: NodeJS.Timeout;
  ping?: NodeJS.Timeout;
}

interface Origin {
  entries: Entry[];
  /** The upstream's SETTINGS_MAX_CONCURRENT_STREAMS as last seen, assumed for sessions still connecting. */
  remoteLimit?: number;
  /** ALPN chose http/1.1, until this time. */
  http1Until: number;
}

const { NGHTTP2_CANCEL } = constants;

export class H2Pool {
  private readonly origins = new Map<string, Origin>();
  private closed = false;

  constructor(private readonly options: H2PoolOptions) {}

  /**
   * Opens a stream to `spec` with `headers` (pseudo-headers included), or reports that the upstream
   * chose HTTP/1.1 by ALPN. `cb` is called once.
   */
  open(spec: TargetSpec, headers: OutgoingHttpHeaders, streamOptions: { endStream: boolean; waitForTrailers: boolean }, cb: (err: Error | null, result?: OpenResult) => void, retried = false): void {
    if (this.closed) return cb(Object.assign(new Error('HTTP/2 pool closed'), { code: 'UND_ERR_CLOSED' }));
    const origin = this.origin(spec.poolKey);
    if (origin.http1Until > Date.now()) return cb(null, { http1: true });
    const e = this.pick(origin);
    this.whenReady(spec, origin, e, (err, http1) => {
      if (err) return cb(err);
      if (http1) return cb(null, { http1: true });
      let stream: ClientHttp2Stream;
      try {
        stream = e.session.request(headers, streamOptions);
      } catch (err2) {
        // The session went away between the pick and now (GOAWAY just arrived): one more try elsewhere.
        e.draining = true;
        if (retried) return cb(err2 as Error);
        return this.open(spec, headers, streamOptions, cb, true);
      }
      this.track(e, stream);
      cb(null, { stream, session: e.session });
    });
  }

  /**
   * Stop: every session finishes its streams (GOAWAY), then closes; what is still open after
   * `graceMs` (the callers are gone by then: tracecar closes this after its drain) is destroyed.
   */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    const waits: Array<Promise<void>> = [];
    for (const o of this.origins.values()) {
      for (const e of o.entries) {
        e.draining = true;
        clearTimers(e);
        if (!e.session || e.session.closed || e.session.destroyed) continue;
        waits.push(new Promise((resolve) => e.session.close(() => resolve())));
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs).unref()))]);
    clearTimeout(timer);
    this.destroy();
  }

  /** Sessions open or connecting and the streams open on them, for /metrics (read at scrape time). */
  stats(): { sessions: number; streams: number } {
    let sessions = 0;
    let streams = 0;
    for (const o of this.origins.values()) {
      for (const e of o.entries) {
        if (e.session?.destroyed) continue;
        sessions++;
        streams += e.active;
      }
    }
    return { sessions, streams };
  }

  /** Cut every session now (after a drain deadline). */
  destroy(): void {
    this.closed = true;
    for (const o of this.origins.values()) for (const e of o.entries) if (e.session && !e.session.destroyed) e.session.destroy();
  }

  private origin(key: string): Origin {
    let o = this.origins.get(key);
    if (!o) this.origins.set(key, (o = { entries: [], http1Until: 0 }));
    return o;
  }

  private limit(e: Entry, origin: Origin): number {
    const remote = e.ready ? e.session.remoteSettings.maxConcurrentStreams : origin.remoteLimit;
    return Math.max(1, Math.min(this.options.maxConcurrentStreams, remote ?? this.options.maxConcurrentStreams));
  }

  /** The session for the next stream: a ready one with room, a connecting one with room, a new one, or the least busy. */
  private pick(origin: Origin): Entry {
    let leastBusy: Entry | undefined;
    let usable = 0;
    for (const e of origin.entries) {
      if (e.draining) continue;
      usable++;
      const load = e.active + e.waiting.length;
      if (load < this.limit(e, origin)) return e;
      if (!leastBusy || load < leastBusy.active + leastBusy.waiting.length) leastBusy = e;
    }
    if (leastBusy && usable >= this.options.maxSessions) return leastBusy;
    const e: Entry = { session: undefined as unknown as ClientHttp2Session, connecting: false, ready: false, active: 0, waiting: [], draining: false };
    origin.entries.push(e);
    return e;
  }

  private whenReady(spec: TargetSpec, origin: Origin, e: Entry, cb: Waiter): void {
    if (e.ready) return cb(null);
    e.waiting.push(cb);
    if (!e.connecting) {
      e.connecting = true;
      this.connect(spec, origin, e);
    }
  }

  private connect(spec: TargetSpec, origin: Origin, e: Entry): void {
    const url = new URL(spec.origin);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const settle = (err: Error | null, http1 = false): void => {
      for (const w of e.waiting.splice(0)) w(err, http1);
    };
    const tls = spec.protocol === 'h2' || spec.protocol === 'alpn';
    const socket = tls
      ? tlsConnect({
          host,
          port,
          servername: spec.tls?.servername ?? (isIp(host) ? undefined : host),
          ca: spec.tls?.ca,
          cert: spec.tls?.cert,
          key: spec.tls?.key,
          ALPNProtocols: spec.protocol === 'h2' ? ['h2'] : ['h2', 'http/1.1'],
        })
      : netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`connect timeout after ${this.options.connectTimeout} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, this.options.connectTimeout);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      remove(origin, e);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
        // The upstream shares no protocol with what we offered (h2 only, for protocol: h2).
        return settle(Object.assign(new Error('did not agree to HTTP/2 (ALPN chose no protocol)'), { code: 'ERR_H2_ALPN', cause: err }));
      }
      settle(err);
    };
    socket.once('error', onError);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      const alpn = tls ? (socket as TLSSocket).alpnProtocol : 'h2c';
      if (tls && alpn !== 'h2') {
        socket.destroy();
        remove(origin, e);
        if (spec.protocol === 'alpn') {
          origin.http1Until = Date.now() + (this.options.alpnTtl ?? 300_000);
          return settle(null, true);
        }
        return settle(Object.assign(new Error(`did not agree to HTTP/2 (ALPN chose ${alpn || 'no protocol'})`), { code: 'ERR_H2_ALPN' }));
      }
      this.startSession(spec, origin, e, socket, settle);
    });
  }

  private startSession(spec: TargetSpec, origin: Origin, e: Entry, socket: Socket, settle: (err: Error | null) => void): void {
    const session = http2Connect(spec.origin, {
      createConnection: () => socket,
      settings: { enablePush: false },
      peerMaxConcurrentStreams: this.options.maxConcurrentStreams,
    } as SecureClientSessionOptions);
    e.session = session;
    let lastError: Error | undefined;
    let gone = false;
    /** The session is over: forget it, and fail whoever still waits for it to be ready. */
    const over = (err?: Error): void => {
      if (gone) return;
      gone = true;
      clearTimers(e);
      remove(origin, e);
      if (!e.ready) {
        // Connected, but no HTTP/2 came back: e.g. an HTTP/1.1 server behind an h2c target.
        const why = err ?? lastError ?? new Error('the connection closed before HTTP/2 settings arrived');
        settle(Object.assign(why, { code: (why as NodeJS.ErrnoException).code ?? 'ERR_HTTP2_NO_SETTINGS' }));
      }
    };
    session.on('error', (err) => {
      lastError = err;
    });
    // A TLS alert after the handshake (TLS 1.3: the upstream rejecting our client certificate)
    // errors the socket; node neither closes the session nor the socket then: end both here.
    socket.on('error', (err) => {
      lastError ??= err;
      if (!session.destroyed) session.destroy(err);
      socket.destroy();
      over(err);
    });
    session.on('remoteSettings', (settings) => {
      origin.remoteLimit = settings.maxConcurrentStreams;
      if (e.ready) return;
      e.ready = true;
      this.armIdle(e);
      this.armPing(e);
      settle(null);
    });
    // GOAWAY: no new streams here. Node closes the session after its streams on NO_ERROR and
    // destroys it (failing them) on an error code.
    session.on('goaway', () => {
      e.draining = true;
    });
    session.once('close', () => over());
  }

  private track(e: Entry, stream: ClientHttp2Stream): void {
    e.active++;
    if (e.idle) {
      clearTimeout(e.idle);
      e.idle = undefined;
    }
    stream.once('close', () => {
      if (--e.active === 0) this.armIdle(e);
    });
  }

  private armIdle(e: Entry): void {
    if (e.active > 0 || e.draining) return;
    e.idle = setTimeout(() => {
      e.idle = undefined;
      if (e.active === 0 && !e.session.closed) {
        e.draining = true;
        e.session.close();
      }
    }, this.options.idleTimeout).unref();
  }

  private armPing(e: Entry): void {
    const every = this.options.pingInterval;
    if (every === null || every <= 0) return;
    const tick = (): void => {
      if (e.session.closed || e.session.destroyed) return;
      let answered = false;
      const deadline = setTimeout(() => {
        if (!answered) e.session.destroy(Object.assign(new Error(`PING not answered within ${this.options.pingTimeout} ms`), { code: 'ERR_H2_PING_TIMEOUT' }));
      }, this.options.pingTimeout).unref();
      e.session.ping((err) => {
        answered = true;
        clearTimeout(deadline);
        if (err && !e.session.destroyed) e.session.destroy(err);
        else e.ping = setTimeout(tick, every).unref();
      });
    };
    e.ping = setTimeout(tick, every).unref();
  }
}

/** RST_STREAM(CANCEL) a stream that is still open. */
export function cancelStream(stream: ClientHttp2Stream | undefined, code: number = NGHTTP2_CANCEL): void {
  if (stream && !stream.closed && !stream.destroyed) stream.close(code);
}

function remove(origin: Origin, e: Entry): void {
  const i = origin.entries.indexOf(e);
  if (i >= 0) origin.entries.splice(i, 1);
}

function clearTimers(e: Entry): void {
  if (e.idle) clearTimeout(e.idle);
  if (e.ping) clearTimeout(e.ping);
  e.idle = e.ping = undefined;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
