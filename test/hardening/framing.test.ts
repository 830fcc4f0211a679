/**
 * Ambiguous framing never reaches the app as anything but one well-framed request. Raw sockets on
 * both sides: the client writes exact bytes, the app is a raw TCP server that records exactly what
 * each of its connections received. After every hostile request a second, smuggled request
 * follows in the same packet: the app must never see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { completeRequestLength, rawRequest, startRawUpstream, type RawUpstream } from '../helpers/raw.js';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n';

/** Refused from the head alone: the app gets nothing. [name, status, reason in the body, request ({host} = the app's authority)] */
const REFUSED_AT_HEAD: Array<[string, number, string, string]> = [
  ['Content-Length with Transfer-Encoding', 400, "Transfer-Encoding can't be present with Content-Length", 'POST /a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding then Content-Length', 400, 'Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'],
  ['two different Content-Lengths', 400, 'Duplicate Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ['two equal Content-Lengths', 400, 'Duplicate Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello'],
  ['a Content-Length list', 400, 'Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5, 5\r\n\r\nhello'],
  ['Content-Length with a sign', 400, 'Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nContent-Length: +5\r\n\r\nhello'],
  ['Transfer-Encoding: gzip (not chunked)', 400, 'Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip\r\n\r\nxxxx'],
  ['Transfer-Encoding: chunked, gzip (chunked not last)', 400, 'Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding: xchunked', 400, 'Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding: identity', 400, 'Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: identity\r\n\r\n'],
  ['Transfer-Encoding twice', 400, 'Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding with a vertical tab', 400, 'Invalid header value char', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding in HTTP/1.0', 400, 'HTTP/1.0', 'POST /a HTTP/1.0\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding: gzip, chunked (a coding tracecar cannot forward)', 501, 'gzip, chunked', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ['obs-fold', 400, 'whitespace', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\r\n  c\r\n\r\n'],
  ['bare LF line endings', 400, 'CRLF', 'GET /a HTTP/1.1\nHost: {host}\nX-A: b\n\n'],
  ['a bare LF inside the headers', 400, 'CR', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\nX-B: c\r\n\r\n'],
  ['a bare CR inside the headers', 400, 'LF', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\rX-B: c\r\n\r\n'],
  ['whitespace before the colon', 400, 'Invalid header field char', 'GET /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding : chunked\r\n\r\n'],
  ['a tab before the colon', 400, 'Invalid header token', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A\t: b\r\n\r\n'],
  ['NUL in a value', 400, 'Invalid header value char', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\x00c\r\n\r\n'],
  ['DEL in a value', 400, 'Invalid header value char', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\x7fc\r\n\r\n'],
  ['a control character in a value', 400, 'Invalid header value char', 'GET /a HTTP/1.1\r\nHost: {host}\r\nX-A: b\x01c\r\n\r\n'],
  ['a header line starting with whitespace', 400, 'space', 'GET /a HTTP/1.1\r\n Host: {host}\r\n\r\n'],
  ['two Host fields', 400, 'more than one Host', 'GET /a HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n'],
  ['no Host in HTTP/1.1', 400, '', 'GET /a HTTP/1.1\r\nX-A: b\r\n\r\n'],
  ['a Content-Length in the trailers', 400, 'Content-Length', 'POST /a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n'],
];

/** Refused once the body shows it: the app may have the head and part of a body, on a connection that is then closed. */
const REFUSED_IN_BODY: Array<[string, string]> = [
  ['a chunk size that is not hex', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['a chunk size that overflows', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n'],
  ['a negative chunk size', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n'],
  ['a chunk size with a space', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n'],
  ['chunk data longer than its size', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n'],
  ['chunk lines ending in a bare LF', 'POST /b HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n'],
];

/**
 * The app's view, connection by connection: complete requests, then at most an unfinished one
 * on a connection tracecar closed. Nothing can follow an unfinished request on the same connection.
 */
function expectOnlyWellFramed(app: RawUpstream): void {
  for (const conn of app.connections) {
    let rest = conn.received;
    for (let used = completeRequestLength(rest); used !== undefined; used = completeRequestLength(rest)) rest = rest.subarray(used);
    if (rest.length > 0) expect(conn.closed, `an unfinished request was left open: ${JSON.stringify(rest.toString('latin1').slice(0, 80))}`).toBe(true);
  }
  expect(app.text()).not.toContain('/smuggled');
}

describe.each(['ingress', 'egress'] as const)('%s: ambiguous framing is answered and closed, and never reaches the app ambiguous', (side) => {
  let app: RawUpstream;
  let tc: RunningTracecar;
  let port: number;
  let host: string;
  const fill = (s: string): string => s.replaceAll('{host}', host);

  beforeAll(async () => {
    app = await startRawUpstream();
    host = `127.0.0.1:${app.port}`;
    tc = await startTracecar({ ingress: { target: app.url }, egress: { listen: '127.0.0.1:0' } });
    port = side === 'ingress' ? tc.addresses.ingress.port : tc.addresses.egress!.port;
  });
  afterAll(async () => {
    await tc.close();
    await app.close();
  });

  it.each(REFUSED_AT_HEAD)('%s → %s, closed, nothing forwarded', async (_name, status, reason, request) => {
    const before = app.text();
    const reply = await rawRequest(port, fill(request + SMUGGLED));
    expect(reply.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(reply.closed).toBe(true);
    expect(reply.text.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    if (reason) expect(reply.text).toContain(reason);
    expect(app.text()).toBe(before);
  });

  it.each(REFUSED_IN_BODY)('%s → 400, closed; the app gets an unfinished request on a connection that is closed; the span says why', async (_name, request) => {
    tc.tracecar.store.clear();
    const reply = await rawRequest(port, fill(request + SMUGGLED));
    expect(reply.statusLine).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.closed).toBe(true);
    await waitFor(() => app.connections.every((c) => c.closed || completeRequestLength(c.received) !== undefined || c.received.length === 0), 5_000, 'the unfinished upstream request to be closed');
    expectOnlyWellFramed(app);
    expect(app.text()).not.toMatch(/POST \/b[^]*\r\n0\r\n\r\n/);
    const span = await waitFor(() => tc.tracecar.store.list().map((t) => tc.tracecar.store.get(t.traceId)![0])[0], 5_000, 'the span');
    expect(span.attributes['tracecar.error.code']).toBe('TRC_ERR_BAD_REQUEST');
    expect(span.attributes['http.response.status_code']).toBe(400);
    expect(span.status.code).toBe('error');
  });

  it('a body cut short by the client (Content-Length 10, 5 sent, then FIN) never completes at the app', async () => {
    const reply = await rawRequest(port, fill('POST /short HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10\r\n\r\nhello'), { halfClose: true });
    expect(reply.closed).toBe(true);
    await waitFor(() => tc.tracecar.inflight === 0, 5_000, 'the request to end');
    expectOnlyWellFramed(app);
  });

  it('pipelined well-framed requests are each forwarded as they are, and the app sees only well-framed requests', async () => {
    const reply = await rawRequest(port, fill('POST /p1 HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhelloGET /p2 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n'));
    expect(reply.text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(app.text()).toContain('POST /p1 HTTP/1.1');
    expect(app.text()).toContain('GET /p2 HTTP/1.1');
    expectOnlyWellFramed(app);
  });

  it('every refusal is counted by side and code in /metrics', async () => {
    const text = await (await fetch(`${tc.adminUrl}/metrics`)).text();
    expect(text).toMatch(new RegExp(`tracecar_requests_rejected_total\\{side="${side}",code="TRC_ERR_BAD_REQUEST"\\} \\d+`));
    expect(text).toMatch(new RegExp(`tracecar_requests_rejected_total\\{side="${side}",code="TRC_ERR_TRANSFER_CODING"\\} 1`));
  });
});

describe('the strict parser stays on whatever NODE_OPTIONS says', () => {
  it('with NODE_OPTIONS=--insecure-http-parser, CL+TE, obs-fold and bare LF are still refused', async () => {
    const app = await startRawUpstream();
    const cli = await startCli(['--target', app.url, '--port', '127.0.0.1:0', '--no-admin'], { env: { NODE_OPTIONS: '--insecure-http-parser' } });
    try {
      for (const request of [REFUSED_AT_HEAD[0][3], REFUSED_AT_HEAD[14][3], REFUSED_AT_HEAD[15][3], REFUSED_IN_BODY[0][1]]) {
        const reply = await rawRequest(cli.ingressPort, request.replaceAll('{host}', 'a') + SMUGGLED.replaceAll('{host}', 'a'));
        expect(reply.statusLine).toMatch(/^HTTP\/1\.1 400 /);
      }
      expect(app.text()).not.toContain('/smuggled');
      expect(app.text()).not.toContain('GET /a');
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
      await app.close();
    }
  });
});
