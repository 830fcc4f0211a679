/**
 * Shutdown with HTTP/2 callers: close() sends GOAWAY on every caller session — the stream in flight
 * finishes with its whole body, no new stream is accepted on that session — and resolves once the
 * drain is done.
 */
import { connect } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { startTracecar } from '../helpers/harness.js';
import { h2Request, startH2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';

describe('draining HTTP/2 callers', () => {
  it('GOAWAY: the stream in flight completes, the session takes no new stream, close() resolves', async () => {
    let finish: (() => void) | undefined;
    const app = await startH2Upstream(
      (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('half,');
        finish = () => stream.end('done');
      },
      { raw: true },
    );
    const tc = await startTracecar({ ingress: { target: app.url } });
    const session = connect(tc.url);
    session.on('error', () => {});
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    try {
      const inFlight = h2Request(session, { ':path': '/long' });
      await waitFor(() => finish, 3000, 'the stream at the app');
      const closed = tc.close();
      await waitFor(() => goaway, 3000, 'GOAWAY from tracecar');
      // New streams on a session that got GOAWAY are not accepted.
      await expect(h2Request(session, { ':path': '/after' })).rejects.toMatchObject({ code: 'ERR_HTTP2_GOAWAY_SESSION' });
      finish!();
      const answer = await inFlight;
      expect(answer).toMatchObject({ status: 200, ended: true });
      expect(answer.body.toString()).toBe('half,done');
      await closed;
      expect(tc.tracecar.inflight).toBe(0);
    } finally {
      session.destroy();
      await app.close();
    }
  });
});
