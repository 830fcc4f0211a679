/**
 * The pool of HTTP/2 sessions to an h2c upstream: streams multiplex on one session (streaming
 * bodies included), the stream limit (ours and the upstream's SETTINGS) opens more sessions up to
 * maxSessions, GOAWAY lets streams in flight finish while new ones go to a new session, PING keeps
 * sessions alive and a session whose PING goes unanswered is dropped, idle sessions close.
 * Everything is counted at the real upstream (its sessions and streams), never timed.
 */
import { createServer as createTcpServer, connect as netConnect, type Server as TcpServer, type Socket } from 'node:net';
import { connect, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { h2Request, startH2Upstream, type H2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';
import type { TracecarConfigInput } from '../../src/config/types.js';

let app: H2Upstream | undefined;
let tc: RunningTracecar | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await tc?.close();
  await app?.close();
  app = tc = undefined;
});

/** An app that holds every stream open until `release()`; streams arrive with their body still flowing. */
async function holdingApp(): Promise<{ app: H2Upstream; held: ServerHttp2Stream[]; release(): void }> {
  const held: ServerHttp2Stream[] = [];
  const a = await startH2Upstream(
    (stream) => {
      held.push(stream);
      stream.respond({ ':status': 200 });
      stream.write('open;');
    },
    { raw: true },
  );
  return {
    app: a,
    held,
    release: () => {
      for (const s of held) if (!s.closed) s.end('done');
    },
  };
}

function upstreamPatch(a: H2Upstream, upstream: NonNullable<NonNullable<TracecarConfigInput['http2']>['upstream']>): TracecarConfigInput {
  return { ingress: { target: a.url }, http2: { upstream } };
}

/** Starts `n` streaming POSTs through tracecar on one caller connection and waits until the app holds them all. */
async function openStreams(n: number, held: ServerHttp2Stream[]) {
  const session = connect(tc!.url);
  cleanups.push(() => session.destroy());
  const answers = Array.from({ length: n }, (_, i) => h2Request(session, { ':path': `/hold/${i}`, ':method': 'POST' }, ['streamed ', 'body']));
  await waitFor(() => held.length >= n, 5000, () => `${n} streams at the app (have ${held.length})`);
  return answers;
}

describe('HTTP/2 upstream session pool', () => {
  it('multiplexes concurrent streaming calls on one session', async () => {
    const h = await holdingApp();
    app = h.app;
    tc = await startTracecar(upstreamPatch(app, { maxConcurrentStreams: 100 }));
    const answers = await openStreams(10, h.held);
    expect(app.sessions).toHaveLength(1);
    h.release();
    const done = await Promise.all(answers);
    expect(done.map((a) => a.body.toString())).toEqual(Array(10).fill('open;done'));
  });

  it('/metrics: tracecar_upstream_h2_sessions and tracecar_upstream_h2_streams count the pool per side', async () => {
    const h = await holdingApp();
    app = h.app;
    tc = await startTracecar(upstreamPatch(app, { maxConcurrentStreams: 2, maxSessions: 3 }));
    const gauges = async () => {
      const text = await tc!.tracecar.metrics.render();
      const value = (name: string, side: string) => Number(text.split('\n').find((l) => l.startsWith(`${name}{side="${side}"} `))?.split(' ')[1]);
      return {
        sessions: value('tracecar_upstream_h2_sessions', 'ingress'),
        streams: value('tracecar_upstream_h2_streams', 'ingress'),
        egressSessions: value('tracecar_upstream_h2_sessions', 'egress'),
      };
    };
    expect(await gauges()).toEqual({ sessions: 0, streams: 0, egressSessions: 0 });
    const answers = await openStreams(5, h.held);
    // Two streams a session: five open streams take three sessions, as the app counts them too.
    expect(await gauges()).toEqual({ sessions: 3, streams: 5, egressSessions: 0 });
    expect(app.sessions).toHaveLength(3);
    h.release();
    await Promise.all(answers);
    await waitFor(async () => (await gauges()).streams === 0, 5000, 'the streams to close');
    // The sessions stay for the next calls (until http2.upstream.idleTimeout).
    expect(await gauges()).toEqual({ sessions: 3, streams: 0, egressSessions: 0 });
  });

  it('opens another session when one is at its stream limit, up to maxSessions; beyond, streams queue and still complete', async () => {
    const h = await holdingApp();
    app = h.app;
    tc = await startTracecar(upstreamPatch(app, { maxConcurrentStreams: 2, maxSessions: 3 }));
    const first = await openStreams(6, h.held);
    expect(app.sessions).toHaveLength(3);
    // 3 sessions × 2 streams are busy: two more calls queue in a session, none opens a fourth.
    const session = connect(tc.url);
    cleanups.push(() => session.destroy());
    const queued = [h2Request(session, { ':path': '/q/1' }), h2Request(session, { ':path': '/q/2' })];
    h.release();
    await waitFor(() => h.held.length >= 8, 5000, 'the queued streams at the app');
    h.release();
    expect((await Promise.all([...first, ...queued])).map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(app.sessions).toHaveLength(3);
  });

  it("follows the upstream's SETTINGS_MAX_CONCURRENT_STREAMS when it is lower than ours", async () => {
    const held: ServerHttp2Stream[] = [];
    const { createServer } = await import('node:http2');
    const server = createServer({ settings: { maxConcurrentStreams: 1 } });
    const sessions = new Set<import('node:http2').ServerHttp2Session>();
    server.on('session', (s) => sessions.add(s));
    server.on('stream', (stream) => {
      held.push(stream);
      stream.respond({ ':status': 200 });
      stream.write('open;');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => sessions.forEach((s) => s.destroy()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    // A first call lets the pool learn the upstream's settings.
    tc = await startTracecar({ ingress: { target: `h2c://127.0.0.1:${port}` }, http2: { upstream: { maxConcurrentStreams: 100, maxSessions: 4 } } });
    const warm = h2Request(tc.url, { ':path': '/warm' });
    await waitFor(() => held.length === 1, 3000, 'warm-up stream');
    held[0].end('x');
    expect((await warm).status).toBe(200);
    const caller = connect(tc.url);
    cleanups.push(() => caller.destroy());
    const answers = [1, 2, 3].map((i) => h2Request(caller, { ':path': `/held/${i}` }));
    await waitFor(() => held.length >= 4, 5000, () => `three held streams (have ${held.length - 1}, sessions ${sessions.size})`);
    // One stream per session: the warm session takes one, two more are opened.
    expect(sessions.size).toBe(3);
    for (const s of held) if (!s.closed) s.end('done');
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200]);
  });

  it('GOAWAY from the upstream: the stream in flight finishes, the next call goes to a new session', async () => {
    const h = await holdingApp();
    app = h.app;
    tc = await startTracecar(upstreamPatch(app, {}));
    const [inFlight] = await openStreams(1, h.held);
    // Graceful shutdown of the app's session: GOAWAY(NO_ERROR) naming the stream it is serving.
    app.sessions[0].goaway(0, h.held[0].id);
    // Sent right away: either tracecar has seen the GOAWAY, or the stream is refused and retried.
    const next = h2Request(tc.url, { ':path': '/after-goaway' });
    await waitFor(() => h.held.length === 2, 5000, 'the new call at the app');
    expect(app.sessions).toHaveLength(2);
    expect(app.streams[1].session).toBe(1);
    h.release();
    const [a, b] = await Promise.all([inFlight, next]);
    expect(a).toMatchObject({ status: 200, ended: true });
    expect(a.body.toString()).toBe('open;done');
    expect(b).toMatchObject({ status: 200, ended: true });
  });

  it('PINGs its sessions; a session whose PING is not answered is dropped and the next call reconnects', async () => {
    app = await startH2Upstream();
    // A TCP relay in front of the app that can stop passing bytes (a dead peer, not a closed one).
    let frozen = false;
    const relays: Socket[] = [];
    const relay: TcpServer = createTcpServer((downstream) => {
      const upstream = netConnect(app!.port, '127.0.0.1');
      relays.push(downstream, upstream);
      downstream.on('data', (c) => !frozen && upstream.write(c));
      upstream.on('data', (c) => !frozen && downstream.write(c));
      for (const s of [downstream, upstream]) s.on('error', () => {});
      downstream.on('close', () => upstream.destroy());
      upstream.on('close', () => downstream.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    cleanups.push(() => relays.forEach((s) => s.destroy()));
    cleanups.push(() => new Promise<void>((r) => relay.close(() => r())));
    const pings: number[] = [];
    app.server.on('session', (s) => s.on('ping', () => pings.push(1)));
    tc = await startTracecar({
      ingress: { target: `h2c://127.0.0.1:${(relay.address() as AddressInfo).port}` },
      http2: { upstream: { pingInterval: 100, pingTimeout: 1000 } },
    });
    expect((await h2Request(tc.url, { ':path': '/one' })).status).toBe(200);
    await waitFor(() => pings.length >= 2, 5000, 'PINGs at the app');
    frozen = true;
    await waitFor(() => app!.sessions.every((s) => s.destroyed || s.closed) || relays.some((s) => s.destroyed), 5000, 'the unanswered session dropped');
    frozen = false;
    const again = await h2Request(tc.url, { ':path': '/two' });
    expect(again.status).toBe(200);
    expect(app.sessions.length).toBeGreaterThanOrEqual(2);
  });

  it('closes a session left idle for idleTimeout', async () => {
    app = await startH2Upstream();
    tc = await startTracecar(upstreamPatch(app, { idleTimeout: 100, pingInterval: null }));
    expect((await h2Request(tc.url, { ':path': '/' })).status).toBe(200);
    await waitFor(() => app!.sessions[0]?.closed || app!.sessions[0]?.destroyed, 5000, 'the idle session closed');
  });
});
