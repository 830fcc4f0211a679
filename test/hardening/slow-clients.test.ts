/**
 * Slow clients cannot hold tracecar or starve others: the head must arrive within
 * limits.headersTimeout, the whole request within limits.requestTimeout, an idle keep-alive
 * connection closes after limits.keepAliveTimeout, and limits.maxConnections caps connections.
 * Deadlines are configured short and checked against generous ceilings (never measured); the
 * default's enforcement delay is printed by bench/slow-clients.mjs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';
import { DEFAULTS } from '../../src/config/defaults.js';
import { listenerServerOptions, TIMEOUT_CHECK_INTERVAL_MS } from '../../src/proxy/limits.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { completeRequestLength, startRawUpstream, type RawUpstream } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

interface Slow {
  socket: Socket;
  answer(): string;
  readonly closed: boolean;
  stop(): void;
}

/** A client that writes `head` then trickles `trickle` one byte per `everyMs` until it is closed. */
function slowClient(port: number, head: string, trickle: string, everyMs: number): Slow {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  let i = 0;
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => (closed = true));
  socket.on('close', () => {
    closed = true;
    clearInterval(timer);
  });
  socket.write(head);
  const timer = setInterval(() => {
    if (!closed && trickle.length > 0) socket.write(trickle[i++ % trickle.length]);
  }, everyMs);
  return {
    socket,
    answer: () => answer,
    get closed() {
      return closed;
    },
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe('deadlines are enforced within about a second', () => {
  it('node:http checks them every second (its default is every 30 s), with the strict parser on', () => {
    expect(TIMEOUT_CHECK_INTERVAL_MS).toBe(1_000);
    const options = listenerServerOptions(DEFAULTS.limits);
    expect(options).toMatchObject({ connectionsCheckingInterval: 1_000, headersTimeout: 10_000, requestTimeout: 300_000, keepAliveTimeout: 5_000, insecureHTTPParser: false });
  });

  it('a headers timeout longer than the request timeout is capped at it (the request timeout covers the head)', () => {
    expect(listenerServerOptions({ ...DEFAULTS.limits, headersTimeout: 60_000, requestTimeout: 20_000 }).headersTimeout).toBe(20_000);
    expect(listenerServerOptions({ ...DEFAULTS.limits, headersTimeout: 60_000, requestTimeout: null })).toMatchObject({ headersTimeout: 60_000, requestTimeout: 0 });
  });
});

describe('slow clients are cut at their deadline', () => {
  let app: RawUpstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startRawUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, limits: { headersTimeout: 1_000, requestTimeout: 2_000, keepAliveTimeout: 500 } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });
  const port = (): number => tc.addresses.ingress.port;

  // Independent clients on one listener: they run at the same time, so the file takes one deadline, not four.
  describe.concurrent('each deadline', () => {
    it('slowloris (one header byte every 100 ms, never finishing) → 408 and closed; nothing reaches the app', async () => {
      const c = slowClient(port(), 'GET /slowloris HTTP/1.1\r\nHost: app\r\n', 'x-a: b\r\n', 100);
      try {
        await waitFor(() => c.closed, 8_000, 'the slowloris connection to be closed');
        expect(c.answer()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(c.answer()).toContain('the request head did not arrive within limits.headersTimeout (1000 ms)');
        expect(app.text()).not.toContain('/slowloris');
      } finally {
        c.stop();
      }
    });

    it('a connection that sends nothing is closed at the headers timeout', async () => {
      const c = slowClient(port(), '', '', 1_000);
      try {
        await waitFor(() => c.closed, 8_000, 'the idle new connection to be closed');
      } finally {
        c.stop();
      }
    });

    it('a slow body (one byte every 100 ms) → 408 at the request timeout; the app gets an unfinished request, then a closed connection; the span says why', async () => {
      const at = new Map(app.connections.map((c) => [c, c.received.length]));
      const c = slowClient(port(), 'POST /slow-body HTTP/1.1\r\nHost: app\r\nContent-Length: 100000\r\n\r\n', 'b', 100);
      try {
        await waitFor(() => c.closed, 8_000, 'the slow-body connection to be closed');
        expect(c.answer()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(c.answer()).toContain('the request body did not arrive within limits.requestTimeout (2000 ms)');
        const upstream = app.connections.find((x) => x.received.subarray(at.get(x) ?? 0).includes('POST /slow-body'))!;
        await waitFor(() => upstream.closed, 5_000, 'the upstream request to be aborted');
        expect(completeRequestLength(upstream.received.subarray(at.get(upstream) ?? 0))).toBeUndefined();
        const span = await waitFor(() => tc.tracecar.store.list().map((t) => tc.tracecar.store.get(t.traceId)![0]).find((x) => x.name === 'POST /slow-body'), 5_000, 'the span');
        expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_REQUEST_TIMEOUT');
        expect(span.attributes['http.response.status_code']).toBe(408);
      } finally {
        c.stop();
      }
    });

    it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
      const c = slowClient(port(), 'GET /ka HTTP/1.1\r\nHost: app\r\n\r\n', '', 1_000);
      try {
        await waitFor(() => c.answer().includes('\r\n\r\nok'), 5_000, 'the first response');
        await waitFor(() => c.closed, 5_000, 'the idle keep-alive connection to be closed');
      } finally {
        c.stop();
      }
    });
  });

  it('timeouts are counted in /metrics', async () => {
    const text = await (await fetch(`${tc.adminUrl}/metrics`)).text();
    // The slowloris and the slow body (a silent connection is closed before it is HTTP at all).
    expect(text).toMatch(/tracecar_requests_rejected_total\{side="ingress",code="TRC_ERR_REQUEST_TIMEOUT"\} [2-9]/);
  });
});

describe('limits.maxConnections', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, limits: { maxConnections: 3 } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('a connection over the cap is closed on accept and counted; one below it works', async () => {
    const port = tc.addresses.ingress.port;
    // Three keep-alive connections that have each had an answer: accepted for sure, and held open.
    const held = [0, 1, 2].map(() => slowClient(port, 'GET /held HTTP/1.1\r\nHost: app\r\n\r\n', '', 1_000));
    try {
      await waitFor(() => held.every((h) => h.answer().startsWith('HTTP/1.1 200')), 5_000, 'three held connections answered');
      const extra = slowClient(port, 'GET /extra HTTP/1.1\r\nHost: app\r\n\r\n', '', 1_000);
      await waitFor(() => extra.closed, 5_000, 'the fourth connection to be closed');
      expect(extra.answer()).toBe('');
      const text = await (await fetch(`${tc.adminUrl}/metrics`)).text();
      expect(text).toMatch(/tracecar_connections_dropped_total\{side="ingress"\} [1-9]/);
      held[0].stop();
      await waitFor(async () => {
        const res = await fetch(`${tc.url}/after`).catch(() => undefined);
        return res?.status === 200;
      }, 5_000, 'a new connection once one closed');
    } finally {
      for (const h of held) h.stop();
    }
  });
});

describe('an attack of slow clients does not starve ordinary traffic', () => {
  let app: Upstream;
  let tc: RunningTracecar;
  beforeAll(async () => {
    app = await startUpstream();
    tc = await startTracecar({ ingress: { target: app.url }, export: { console: 'off' }, limits: { headersTimeout: 2_000, requestTimeout: 3_000 } });
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it('300 ordinary requests all succeed while 200 slowloris, 50 slow-body and 50 silent connections are open; then every attacker is cut', async () => {
    const port = tc.addresses.ingress.port;
    const attackers: Slow[] = [
      ...Array.from({ length: 200 }, (_, i) => slowClient(port, `GET /loris-${i} HTTP/1.1\r\nHost: app\r\n`, 'x-slow: 1\r\n', 200)),
      ...Array.from({ length: 50 }, (_, i) => slowClient(port, `POST /slow-${i} HTTP/1.1\r\nHost: app\r\nContent-Length: 1000000\r\n\r\n`, 'b', 200)),
      ...Array.from({ length: 50 }, () => slowClient(port, '', '', 1_000)),
    ];
    const pool = new Pool(tc.url, { connections: 20 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const res = await pool.request({ path: `/ordinary/${i}`, method: 'GET' });
          await res.body.text();
          return res.statusCode;
        }),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      await waitFor(() => attackers.every((a) => a.closed), 15_000, () => `every attacker cut (${attackers.filter((a) => !a.closed).length} open)`);
      // Slowloris and slow-body connections are answered 408; silent ones are closed before they are HTTP at all.
      expect(attackers.slice(0, 250).filter((a) => a.answer().startsWith('HTTP/1.1 408 ')).length).toBe(250);
      expect(attackers.slice(250).every((a) => a.answer() === '')).toBe(true);
      await waitFor(() => tc.tracecar.inflight === 0 && tc.tracecar.inflightEntries === 0, 5_000, 'nothing in flight');
    } finally {
      for (const a of attackers) a.stop();
      await pool.close();
    }
  });
});
