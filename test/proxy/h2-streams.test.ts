/**
 * HTTP/2 streams end to end through tracecar (h2c caller → tracecar → h2c app): backpressure both
 * ways, cancellation (RST_STREAM) both ways, an upstream reset never seen as a clean end, and the
 * span each case leaves. Flow control is observed, never timed: the app's write() returning false
 * while the caller does not read is the proof that tracecar does not buffer the body.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { h2Request, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM, startH2Upstream, type H2Upstream } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';

let app: H2Upstream | undefined;
let tc: RunningTracecar | undefined;
let session: ClientHttp2Session | undefined;
afterEach(async () => {
  session?.destroy();
  await tc?.close();
  await app?.close();
  app = tc = session = undefined;
});

async function spanOf(traceresponse: unknown) {
  const traceId = String(traceresponse).split('-')[1];
  return (await waitFor(() => tc!.tracecar.store.get(traceId), 3000, 'span'))![0];
}

describe('HTTP/2 streams through tracecar', () => {
  it('a download the caller does not read blocks the app (flow control reaches it), then completes intact', async () => {
    const total = 16 * 1024 * 1024;
    let written = 0;
    let blocked = false;
    app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!stream.write(chunk)) {
            blocked = true;
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    });
    tc = await startTracecar({ ingress: { target: app.url } });
    session = connect(tc.url);
    const stream = session.request({ ':path': '/big' });
    stream.pause();
    let received = 0;
    await waitFor(() => blocked, 5000, 'the app to be told to wait');
    // Blocked with most of the body unsent: tracecar holds at most its buffers, not the body.
    expect(written).toBeLessThan(total / 2);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => (received += c.length));
      stream.on('end', () => resolve());
      stream.on('error', reject);
      stream.resume();
    });
    expect(received).toBe(total);
  });

  it('an upload the app does not read blocks the caller, then arrives intact', async () => {
    let appStream: import('node:http2').ServerHttp2Stream | undefined;
    app = await startH2Upstream(
      (stream) => {
        appStream = stream;
        stream.pause();
      },
      { raw: true },
    );
    tc = await startTracecar({ ingress: { target: app.url } });
    session = connect(tc.url);
    const up = session.request({ ':path': '/upload', ':method': 'POST' });
    const total = 16 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x75);
    let sent = 0;
    const write = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!up.write(chunk)) return void up.once('drain', write);
      }
      up.end();
    };
    write();
    await waitFor(() => appStream, 10_000, 'the stream at the app');
    // The caller writes whenever it is allowed to; with the app not reading, that stops early.
    let last = -1;
    await waitFor(
      async () => {
        const settled = sent === last;
        last = sent;
        await new Promise((r) => setTimeout(r, 100));
        return settled;
      },
      10_000,
      'the caller to stop being allowed to write',
    );
    expect(sent).toBeLessThan(total / 2);
    let received = 0;
    appStream!.on('data', (c: Buffer) => (received += c.length));
    const ended = new Promise<void>((resolve) => appStream!.on('end', () => resolve()));
    appStream!.resume();
    await ended;
    expect(received).toBe(total);
    const answered = new Promise((resolve) => up.once('response', (h) => resolve(h[':status'])));
    appStream!.respond({ ':status': 204 }, { endStream: true });
    expect(await answered).toBe(204);
  });

  it('the caller cancelling (RST_STREAM CANCEL) cancels the app stream; the span says the client went away', async () => {
    app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first');
    }, { raw: true });
    tc = await startTracecar({ ingress: { target: app.url } });
    session = connect(tc.url);
    const stream = session.request({ ':path': '/long', ':method': 'POST' });
    stream.write('x');
    const traceresponse = await new Promise((resolve) => stream.once('response', (h) => resolve(h.traceresponse)));
    await new Promise((resolve) => stream.once('data', resolve));
    stream.close(NGHTTP2_CANCEL);
    await waitFor(() => app!.streams[0]?.rstCode !== undefined, 3000, 'the app stream to close');
    expect(app.streams[0].rstCode).toBe(NGHTTP2_CANCEL);
    const span = await spanOf(traceresponse);
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_CLIENT_ABORTED');
  });

  it('the app resetting the stream mid-response resets the caller’s stream: never a clean end', async () => {
    app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('partial body');
      // destroy(err) sends RST_STREAM(INTERNAL_ERROR) with no END_STREAM before it (close(code) would end the body first).
      setTimeout(() => stream.destroy(new Error('app crashed')), 20);
    });
    tc = await startTracecar({ ingress: { target: app.url } });
    const answer = await h2Request(tc.url, { ':path': '/cut' });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('partial body');
    expect(answer.ended).toBe(false);
    expect(answer.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    const span = await spanOf(answer.headers.traceresponse);
    expect(span.status.code).toBe('error');
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_RESET');
    expect(span.status.message).toContain('mid-stream (RST_STREAM INTERNAL_ERROR)');
  });

  it('the app cancelling before it answers: 502 naming the reset', async () => {
    app = await startH2Upstream((stream) => stream.close(NGHTTP2_CANCEL));
    tc = await startTracecar({ ingress: { target: app.url } });
    const answer = await h2Request(tc.url, { ':path': '/refuse' });
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toContain('before responding (RST_STREAM CANCEL)');
  });

  it('a stream the app refuses (REFUSED_STREAM: not processed) is retried once on another stream', async () => {
    let refused = 0;
    app = await startH2Upstream((stream) => {
      if (refused++ === 0) return void stream.close(NGHTTP2_REFUSED_STREAM);
      stream.respond({ ':status': 200 });
      stream.end('second try');
    });
    tc = await startTracecar({ ingress: { target: app.url } });
    const answer = await h2Request(tc.url, { ':path': '/refused-once' });
    expect(answer).toMatchObject({ status: 200, ended: true });
    expect(answer.body.toString()).toBe('second try');
    expect(app.streams.map((s) => s.rstCode)).toEqual([NGHTTP2_REFUSED_STREAM, 0]);
  });

  it('the app dropping the connection mid-response resets the caller’s stream, other streams of the caller are unaffected', async () => {
    app = await startH2Upstream((stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.write('some');
      if (headers[':path'] === '/drop') setTimeout(() => stream.session?.destroy(), 20);
      else stream.end(' and all');
    });
    tc = await startTracecar({ ingress: { target: app.url } });
    session = connect(tc.url);
    const dropped = await h2Request(session, { ':path': '/drop' });
    expect(dropped.ended).toBe(false);
    expect(dropped.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    // The caller's connection survives: a new stream on it works (a new upstream session is opened).
    const next = await h2Request(session, { ':path': '/fine' });
    expect(next.body.toString()).toBe('some and all');
  });

  it('an app that does not answer within timeout.response: 504; one that stalls mid-body past timeout.idle: reset', async () => {
    app = await startH2Upstream(
      (stream, headers) => {
        if (headers[':path'] === '/stall') {
          stream.respond({ ':status': 200 });
          stream.write('start');
        }
      },
      { raw: true },
    );
    tc = await startTracecar({ ingress: { target: app.url, timeout: { response: 200, idle: 200 } } });
    const slow = await h2Request(tc.url, { ':path': '/silent' });
    expect(slow.status).toBe(504);
    expect(slow.body.toString()).toContain('did not respond in time');
    const stalled = await h2Request(tc.url, { ':path': '/stall' });
    expect(stalled.status).toBe(200);
    expect(stalled.ended).toBe(false);
    expect(stalled.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    const span = await spanOf(stalled.headers.traceresponse);
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_UPSTREAM_IDLE_TIMEOUT');
  });

  it('an h2c:// target that speaks HTTP/1.1 answers 502 naming the protocol problem', async () => {
    const { startUpstream } = await import('../helpers/harness.js');
    const h1 = await startUpstream();
    try {
      tc = await startTracecar({ ingress: { target: h1.url.replace('http://', 'h2c://') } });
      const answer = await h2Request(tc.url, { ':path': '/' });
      expect(answer.status).toBe(502);
      expect(answer.body.toString()).toContain('sent an invalid HTTP response');
    } finally {
      await h1.close();
    }
  });
});
