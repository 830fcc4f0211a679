import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { proxiedApp } from '../helpers/harness.js';
import type { SpanRecord } from '../../src/telemetry/span.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Trace headers are input too. Hostile traceparent / tracestate / b3 / X-B3-* / baggage /
 * x-request-id values, sent as raw bytes (obs-text and all): the request is still proxied, the app
 * receives well-formed trace headers within their documented bounds, and nothing from them
 * reaches a span attribute, an event or a log line unbounded or able to break a line.
 * docs/hardening.md lists each bound; this file is the test it names.
 */

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

/** One raw HTTP/1.1 request (header values as latin1 bytes); resolves with the response head. */
function rawRequest(port: number, path: string, headers: Array<[string, string]>): Promise<{ status: number; head: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([n, v]) => `${n}: ${v}`), 'Connection: close', '', ''];
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(lines.join('\r\n'), 'latin1')));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (data += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const [statusLine, ...rest] = data.slice(0, data.indexOf('\r\n\r\n')).split('\r\n');
      const head: Record<string, string> = {};
      for (const l of rest) head[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), head });
    });
  });
}

/** Every string a span carries from the request: attributes and event attributes, flattened. */
function spanStrings(span: SpanRecord): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(add);
  };
  Object.values(span.attributes).forEach(add);
  for (const e of span.events) Object.values(e.attributes ?? {}).forEach(add);
  return out;
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

describe('hostile trace headers: proxied, bounded, log-safe', () => {
  const env = proxiedApp();

  async function send(path: string, headers: Array<[string, string]>) {
    const before = env.tc.log.lines.length;
    const res = await rawRequest(env.tc.addresses.ingress.port, path, headers);
    expect(res.status).toBe(200);
    const seen = env.app.requests.at(-1)!;
    const [, traceId, spanId] = res.head.traceresponse.split('-');
    const span = await waitFor(() => env.tc.tracecar.store.get(traceId)?.find((s) => s.spanId === spanId), 2000, 'span');
    await waitFor(() => env.tc.log.lines.length > before, 2000, 'access line');
    return { res, seen, span, traceId, logLines: env.tc.log.lines.slice(before) };
  }

  function expectSafe(r: Awaited<ReturnType<typeof send>>) {
    // What the app got: one of each trace header, values printable ASCII only.
    const names = r.seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const h of ['traceparent', 'tracestate', 'b3', 'x-request-id']) expect(names.filter((n) => n === h).length).toBeLessThanOrEqual(1);
    expect(String(r.seen.headers.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
    if (r.seen.headers.tracestate !== undefined) {
      expect(String(r.seen.headers.tracestate).length).toBeLessThanOrEqual(512);
      expect(String(r.seen.headers.tracestate)).toMatch(/^[\x20-\x7e]+$/);
    }
    // The span: no string from a header over its bound or able to break a line.
    const strings = spanStrings(r.span);
    for (const s of strings) {
      expect(s.length).toBeLessThanOrEqual(600);
      expect(s).not.toMatch(UNSAFE);
    }
    const problems = r.span.events.find((e) => e.name === 'tracecar.propagation.invalid')?.attributes?.['tracecar.problems'] as string[] | undefined;
    expect((problems ?? []).length).toBeLessThanOrEqual(8);
    // One access line for the request, and every line still one JSON object.
    expect(r.logLines.filter((l) => l.msg === 'request')).toHaveLength(1);
    for (const raw of env.tc.log.text().split('\n')) expect(() => JSON.parse(raw)).not.toThrow();
    return problems ?? [];
  }

  it('an 8 KB traceparent of a future version: its four known fields are read, 55 characters go on', async () => {
    const r = await send('/tp-long', [['traceparent', `cc-${TRACE}-${PARENT}-01-${'x'.repeat(8000)}`]]);
    expect(r.traceId).toBe(TRACE);
    expect(String(r.seen.headers.traceparent)).toHaveLength(55);
    expect(expectSafe(r)).toEqual([]);
  });

  it('an 8 KB version 00 traceparent: a new trace, the reason quoted without the input', async () => {
    const r = await send('/tp-junk', [['traceparent', `00-${TRACE}-${PARENT}-01${'\x85'.repeat(8000)}`]]);
    expect(r.traceId).not.toBe(TRACE);
    expect(expectSafe(r)).toEqual(['traceparent: version 00 must be exactly 55 characters, got 8055']);
  });

  it('tracestate: 8 KB of members is discarded (over 32), and what is kept is at most 512 characters', async () => {
    const many = Array.from({ length: 400 }, (_, i) => `k${i}=${'v'.repeat(16)}`).join(',');
    const a = await send('/ts-many', [['traceparent', `00-${TRACE}-${PARENT}-01`], ['tracestate', many]]);
    expect(a.seen.headers.tracestate).toBeUndefined();
    expect(expectSafe(a)).toEqual(['tracestate: more than 32 list-members']);

    const members = Array.from({ length: 32 }, (_, i) => `${'k'.repeat(200)}${i}=${'v'.repeat(250)}`);
    const big = members.join(',');
    const b = await send('/ts-big', [['traceparent', `00-${TRACE}-${PARENT}-01`], ['tracestate', big]]);
    // Every entry is over 128: they go right-most first until the rest fits, which leaves the first.
    expect(b.seen.headers.tracestate).toBe(members[0]);
    const problems = expectSafe(b);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^tracestate: ${big.length} characters exceed 512; dropped (k{40}…\\(202 chars\\), ){7}k{40}…\\(202 chars\\) and 23 more$`));
  });

  it('tracestate with obs-text and a repeated key: the key is quoted escaped; a repeat keeps the list', async () => {
    const a = await send('/ts-bad', [['traceparent', `00-${TRACE}-${PARENT}-01`], ['tracestate', `rojo=1,\x85evil\xff=1`]]);
    expect(a.seen.headers.tracestate).toBeUndefined();
    expect(expectSafe(a)).toEqual(['tracestate: invalid key "\\x85evil\u00ff"']);

    const b = await send('/ts-dup', [['traceparent', `00-${TRACE}-${PARENT}-01`], ['tracestate', 'rojo=1,congo=2'], ['tracestate', 'rojo=3']]);
    expect(b.seen.headers.tracestate).toBe('rojo=1,congo=2');
    expect(expectSafe(b)).toEqual(['tracestate: repeated key rojo: kept the first entry']);
  });

  it('b3 and X-B3-* junk: each reason quotes at most 40 characters, escaped', async () => {
    const r = await send('/b3', [
      ['b3', `\x9b31m${'z'.repeat(4000)}`],
      ['x-b3-sampled', `\x85${'y'.repeat(4000)}`],
      ['x-b3-flags', '\t7\t'],
      ['x-b3-traceid', 'nope'],
    ]);
    const problems = expectSafe(r);
    expect(problems).toEqual([
      `b3: TraceId is not 16 or 32 lower-hex characters; trying X-B3-* headers`,
      `x-b3-*: X-B3-Flags "7" is not 1 or 0`,
      `x-b3-*: X-B3-Sampled "\\x85${'y'.repeat(39)}…(4001 chars)" is not 1, 0, true or false`,
      'x-b3-*: X-B3-TraceId is not 16 or 32 lower-hex characters (non-zero)',
      'x-b3-*: X-B3-TraceId without X-B3-SpanId',
    ]);
  });

  it('x-request-id: over 256 characters or with a control character is replaced; the rejected value is recorded escaped, ≤ 128', async () => {
    const a = await send('/cid-long', [['x-request-id', `${'\x85'.repeat(3)}${'r'.repeat(5000)}`]]);
    expectSafe(a);
    expect(a.res.head['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.seen.headers['x-request-id']).toBe(a.res.head['x-request-id']);
    expect(a.span.attributes['tracecar.correlation_id.rejected']).toBe(`\\x85\\x85\\x85${'r'.repeat(125)}…(5003 chars)`);

    const b = await send('/cid-tab', [['x-request-id', 'a\tb']]);
    expectSafe(b);
    expect(b.span.attributes['tracecar.correlation_id.rejected']).toBe('a\\x09b');
    expect(b.logLines.find((l) => l.msg === 'request')!.request_id).toBe(b.res.head['x-request-id']);
  });

  it('everything hostile at once (just under node\'s 16 KB header limit): the problems event stays a handful of short strings', async () => {
    const junk = 'q'.repeat(1500);
    const r = await send('/all', [
      ['traceparent', `00-${'Z'.repeat(1500)}`],
      ['tracestate', 'x'.repeat(1500)],
      ['b3', junk],
      ['x-b3-traceid', junk],
      ['x-b3-spanid', junk],
      ['x-b3-parentspanid', junk],
      ['x-b3-sampled', junk],
      ['x-b3-flags', junk],
      ['baggage', 'k=v,'.repeat(800)],
    ]);
    const problems = expectSafe(r);
    expect(problems.length).toBeGreaterThanOrEqual(6);
    expect(problems.join('').length).toBeLessThan(1200);
  });
});
