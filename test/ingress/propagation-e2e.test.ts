import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { proxiedApp } from '../helpers/harness.js';
import { TRACE_HEADERS } from '../../src/propagation/index.js';
import { waitFor } from '../helpers/wait.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('ingress propagation: what the app receives and what the span records', () => {
  const env = proxiedApp();

  async function send(headers: Record<string, string>) {
    const res = await request(`${env.tc.url}/p`, { headers });
    await res.body.text();
    const seen = env.app.requests.at(-1)!.headers;
    const [, traceId, spanId, flags] = String(res.headers.traceresponse).split('-');
    // Only sampled spans reach the store: an unsampled request has none to look for.
    const sampled = (parseInt(flags, 16) & 1) === 1;
    const spans = sampled ? await waitFor(() => env.tc.tracecar.store.get(traceId)?.filter((s) => s.spanId === spanId), 2000, 'span') : [];
    if (!sampled) expect(env.tc.tracecar.store.get(traceId)).toBeFalsy();
    return { res, seen, traceId, spanId, flags, span: spans![0] };
  }

  const cases: Array<{ name: string; headers: Record<string, string>; expectTrace?: string; expectParent?: string | undefined; check?: (r: Awaited<ReturnType<typeof send>>) => void }> = [
    {
      name: 'valid W3C traceparent is continued; the app gets our span as parent',
      headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' },
      expectTrace: TRACE,
      expectParent: PARENT,
      check: (r) => {
        expect(r.seen.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
        expect(r.flags).toBe('01');
      },
    },
    {
      name: 'random flag 0x02 survives onto the child context',
      headers: { traceparent: `00-${TRACE}-${PARENT}-03` },
      expectTrace: TRACE,
      expectParent: PARENT,
      check: (r) => expect(String(r.seen.traceparent).slice(-2)).toBe('03'),
    },
    {
      name: 'all-zero trace id starts a new trace and records why',
      headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` },
      check: (r) => {
        expect(r.traceId).not.toBe('0'.repeat(32));
        expect(r.span.parentSpanId).toBeUndefined();
        expect(r.span.events.some((e) => e.name === 'tracecar.propagation.invalid')).toBe(true);
      },
    },
    {
      name: 'uppercase traceparent is invalid → new trace',
      headers: { traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01` },
      check: (r) => expect(r.traceId).not.toBe(TRACE),
    },
    {
      name: 'B3 single is continued and answered in B3 single with our span id and the caller as parent',
      headers: { b3: `${TRACE}-${PARENT}-1` },
      expectTrace: TRACE,
      expectParent: PARENT,
      check: (r) => expect(r.seen.b3).toBe(`${TRACE}-${r.spanId}-1-${PARENT}`),
    },
    {
      name: 'B3 multi with a 64-bit trace id goes out as 64-bit in B3 and padded in W3C',
      headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': PARENT, 'x-b3-sampled': '1' },
      expectTrace: '0000000000000000a3ce929d0e0e4736',
      expectParent: PARENT,
      check: (r) => {
        expect(r.seen['x-b3-traceid']).toBe('a3ce929d0e0e4736');
        expect(r.seen['x-b3-spanid']).toBe(r.spanId);
        expect(r.seen['x-b3-parentspanid']).toBe(PARENT);
        expect(String(r.seen.traceparent)).toBe(`00-0000000000000000a3ce929d0e0e4736-${r.spanId}-01`);
      },
    },
    {
      name: 'b3: 0 (deny) with no ids → new trace, not sampled, decision passed on',
      headers: { b3: '0' },
      check: (r) => {
        // Not sampled (0x01 clear); the random flag (0x02) is set: tracecar made this trace id.
        expect(r.flags).toBe('02');
        expect(r.seen.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-0$/);
      },
    },
    {
      name: 'B3 debug forces sampling and is passed on as d',
      headers: { b3: `${TRACE}-${PARENT}-d` },
      expectTrace: TRACE,
      expectParent: PARENT,
      check: (r) => {
        expect(r.flags).toBe('01');
        expect(String(r.seen.b3).split('-')[2]).toBe('d');
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const r = await send(c.headers);
      if (c.expectTrace) expect(r.traceId).toBe(c.expectTrace);
      if ('expectParent' in c && r.span) expect(r.span.parentSpanId).toBe(c.expectParent);
      // Whatever came in, the app sees a W3C traceparent naming tracecar's SERVER span as parent.
      expect(String(r.seen.traceparent)).toMatch(new RegExp(`^00-${r.traceId}-${r.spanId}-0[0-3]$`));
      c.check?.(r);
    });
  }

  it('stale trace headers from the caller never reach the app next to ours', async () => {
    const res = await request(`${env.tc.url}/p`, { headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-b3-traceid': 'bad', b3: 'garbage' } });
    await res.body.text();
    const raw = env.app.requests.at(-1)!.rawHeaders.map((h) => h.toLowerCase());
    expect(raw.filter((h) => h === 'traceparent')).toHaveLength(1);
    // The caller used B3 (badly), so B3 is answered in kind — with our values, never the stale ones.
    expect(raw.filter((h) => h === 'x-b3-traceid' || h === 'b3').length).toBeLessThanOrEqual(1);
    expect(raw).not.toContain('bad');
    expect(raw).not.toContain('garbage');
  });

  it('every trace header the caller sent, in any case, is dropped before ours are added', async () => {
    const stale = {
      'X-B3-TraceId': 'stale-traceid',
      'X-B3-SpanId': 'stale-spanid',
      'X-B3-ParentSpanId': 'stale-parent',
      'X-B3-Sampled': 'stale-sampled',
      'X-B3-Flags': 'stale-flags',
      B3: 'stale-b3',
    };
    const res = await request(`${env.tc.url}/p`, { headers: { TraceParent: `00-${TRACE}-${PARENT}-01`, ...stale } });
    await res.body.text();
    const raw = env.app.requests.at(-1)!.rawHeaders;
    expect(raw.filter((v) => v.startsWith('stale-'))).toEqual([]);
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const name of TRACE_HEADERS) expect(names.filter((n) => n === name).length, name).toBeLessThanOrEqual(1);
    expect(String(env.app.requests.at(-1)!.headers.traceparent)).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  });
});

describe('correlation id', () => {
  const env = proxiedApp();

  it('keeps an incoming x-request-id exactly, passes it to the app and back, and records it', async () => {
    // Case, inner spaces and punctuation survive (HTTP itself trims only outer whitespace).
    const id = 'Req-ABC/123 x;y=Z==';
    const res = await request(`${env.tc.url}/c`, { headers: { 'x-request-id': id } });
    await res.body.text();
    expect(res.headers['x-request-id']).toBe(id);
    expect(env.app.requests.at(-1)!.headers['x-request-id']).toBe(id);
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const spans = await waitFor(() => env.tc.tracecar.store.get(traceId), 2000);
    expect(spans![0].attributes['tracecar.correlation_id']).toBe(res.headers['x-request-id']);
  });

  it('accepts x-correlation-id too', async () => {
    const res = await request(`${env.tc.url}/c`, { headers: { 'x-correlation-id': 'corr-77' } });
    await res.body.text();
    expect(res.headers['x-request-id']).toBe('corr-77');
    expect(env.app.requests.at(-1)!.headers['x-request-id']).toBe('corr-77');
  });

  it('generates one when none is sent', async () => {
    const res = await request(`${env.tc.url}/c`);
    await res.body.text();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.app.requests.at(-1)!.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('replaces an over-long value and records the original', async () => {
    const long = 'x'.repeat(300);
    const res = await request(`${env.tc.url}/c`, { headers: { 'x-request-id': long } });
    await res.body.text();
    expect(res.headers['x-request-id']).not.toBe(long);
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const spans = await waitFor(() => env.tc.tracecar.store.get(traceId), 2000);
    expect(String(spans![0].attributes['tracecar.correlation_id.rejected'])).toContain('xxxx');
  });
});
