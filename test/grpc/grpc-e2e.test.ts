/**
 * gRPC through tracecar with real peers: a @grpc/grpc-js server behind the ingress (h2c://), a
 * @grpc/grpc-js client in front, spans checked at a real OTLP/gRPC receiver (decoded with the
 * official protobuf definitions). Every call kind, metadata and trailers, status codes, deadlines,
 * cancellation; span names, RPC attributes (current and legacy names) and statuses as the pinned
 * @opentelemetry/semantic-conventions states them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import { ATTR_RPC_GRPC_STATUS_CODE, ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM, RPC_SYSTEM_VALUE_GRPC } from '@opentelemetry/semantic-conventions/incubating';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { echoClient, grpc, startEchoServer, unary, type EchoClient, type GrpcServer } from '../helpers/grpc-peers.js';
import { h2Request } from '../helpers/h2.js';
import { waitFor } from '../helpers/wait.js';
import { LEGACY_RPC } from '../../src/telemetry/hop.js';

const TRACE = '5b8aa5a2d2c872e8321cf37308d69df2';

describe('gRPC through tracecar (grpc-js client → tracecar → grpc-js server)', () => {
  let server: GrpcServer;
  let receiver: OtlpReceiver;
  let tc: RunningTracecar;
  let client: EchoClient;
  beforeAll(async () => {
    server = await startEchoServer();
    receiver = await startOtlpReceiver();
    tc = await startTracecar({
      service: { name: 'echo' },
      ingress: { target: `h2c://127.0.0.1:${server.port}` },
      export: { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 50 },
    });
    client = echoClient(`127.0.0.1:${tc.addresses.ingress.port}`);
  });
  afterAll(async () => {
    client?.close();
    await tc?.close();
    await server?.close();
    await receiver?.close();
  });

  /** The span of the call whose server saw `traceparent` (our SERVER span is its parent). */
  async function spanOfCall(traceparent: unknown): Promise<ReceivedSpan> {
    const [, traceId, spanId] = String(traceparent).split('-');
    return waitFor(() => receiver.spans().find((s) => s.traceId === traceId && s.spanId === spanId), 10_000, 'the span at the OTLP receiver');
  }

  it('unary: metadata both ways, trailers intact, the trace continued; span named package.Service/Method with RPC attributes', async () => {
    const r = await unary(client, { msg: 'hi' }, { metadata: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, 'x-user': 'ada' } });
    expect(r.error).toBeUndefined();
    expect(r.response?.echo).toBe('hi');
    expect(r.initial?.get('x-init')).toEqual(['hello']);
    expect(r.status?.metadata.get('x-trail')).toEqual(['bye']);
    expect(r.initial?.get('traceresponse')[0]).toMatch(new RegExp(`^00-${TRACE}-`));
    const call = server.calls.at(-1)!;
    expect(call.metadata['x-user']).toBe('ada');
    expect(String(r.response?.traceparent)).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    const span = await spanOfCall(r.response?.traceparent);
    expect(span.name).toBe('demo.Echo/Unary');
    expect(span.kind).toBe('server');
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    expect(span.attributes).toMatchObject({
      [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC,
      [ATTR_RPC_METHOD]: 'demo.Echo/Unary',
      [ATTR_RPC_STATUS_CODE]: 'OK',
      'network.protocol.version': '2',
      'http.response.status_code': 200,
    });
    expect(span.attributes[ATTR_RPC_SYSTEM]).toBeUndefined();
    expect(span.status.code).toBe('unset');
  });

  it('server streaming, client streaming and bidirectional calls pass with correct end of stream', async () => {
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = (client.serverStream as unknown as (r: object) => grpc.ClientReadableStream<{ i: number }>)({ count: 5 });
      s.on('data', (m) => got.push(m.i));
      s.on('error', reject);
      s.on('end', () => resolve());
    });
    expect(got).toEqual([0, 1, 2, 3, 4]);

    const counted = await new Promise<{ count: number }>((resolve, reject) => {
      const c = (client.clientStream as unknown as (cb: (e: Error | null, r: { count: number }) => void) => grpc.ClientWritableStream<object>)((err, res) => (err ? reject(err) : resolve(res)));
      for (let i = 0; i < 7; i++) c.write({ i });
      c.end();
    });
    expect(counted.count).toBe(7);

    // Full duplex: each answer arrives before the next message is sent.
    const b = (client.bidi as unknown as () => grpc.ClientDuplexStream<object, { back: number }>)();
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = new Promise<number>((resolve) => b.once('data', (m: { back: number }) => resolve(m.back)));
      b.write({ i });
      answers.push(await next);
    }
    const ended = new Promise<void>((resolve) => b.on('end', () => resolve()));
    b.end();
    await ended;
    expect(answers).toEqual([0, 1, 2, 3]);
    const names = await waitFor(() => {
      const n = new Set(receiver.spans().map((s) => s.name));
      return ['demo.Echo/ServerStream', 'demo.Echo/ClientStream', 'demo.Echo/Bidi'].every((x) => n.has(x)) && n;
    }, 10_000, 'the three streaming spans');
    expect(names).toBeDefined();
  });

  it('status codes: NOT_FOUND (Trailers-Only) is not a server error; INTERNAL after messages is, with its message', async () => {
    const notFound = await unary(client, { code: grpc.status.NOT_FOUND, message: 'no such order' });
    expect(notFound.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(notFound.error?.details).toBe('no such order');
    const nfSpan = await waitFor(() => receiver.spans().find((s) => s.attributes[ATTR_RPC_STATUS_CODE] === 'NOT_FOUND'), 10_000, 'the NOT_FOUND span');
    expect(nfSpan.status.code).toBe('unset');
    expect(nfSpan.attributes['error.type']).toBeUndefined();

    const got: number[] = [];
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const s = (client.serverStream as unknown as (r: object) => grpc.ClientReadableStream<{ i: number }>)({ count: 2, code: grpc.status.INTERNAL, message: 'disk on fire' });
      s.on('data', (m) => got.push(m.i));
      s.on('error', resolve);
    });
    expect(got).toEqual([0, 1]);
    expect(err.code).toBe(grpc.status.INTERNAL);
    const internal = await waitFor(() => receiver.spans().find((s) => s.attributes[ATTR_RPC_STATUS_CODE] === 'INTERNAL'), 10_000, 'the INTERNAL span');
    expect(internal.name).toBe('demo.Echo/ServerStream');
    expect(internal.status).toEqual({ code: 'error', message: 'INTERNAL: disk on fire' });
    expect(internal.attributes['error.type']).toBe('INTERNAL');
  });

  it('a deadline the server misses: DEADLINE_EXCEEDED for the client, the server call cancelled', async () => {
    const before = server.calls.length;
    const r = await unary(client, { delayMs: 5_000 }, { deadlineMs: 300 });
    expect(r.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor(() => server.calls[before]?.cancelled, 5000, 'the server call cancelled');
  });

  it('grpc-timeout is honoured by tracecar itself: a caller that does not give up gets DEADLINE_EXCEEDED in Trailers-Only form', async () => {
    const before = server.calls.length;
    // A bare HTTP/2 caller (it never cancels): the grpc-timeout header is all tracecar has.
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 17]), Buffer.from('{"delayMs":10000}')]);
    const answer = await h2Request(tc.url, { ':path': '/demo.Echo/Unary', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '200m' }, body);
    expect(answer.status).toBe(200);
    expect(answer.flags & 0x1).toBe(0x1);
    expect(answer.headers['grpc-status']).toBe('4');
    expect(decodeURIComponent(String(answer.headers['grpc-message']))).toMatch(/did not finish the gRPC call within its grpc-timeout \(200ms\)/);
    await waitFor(() => server.calls[before]?.cancelled, 5000, 'the server call cancelled');
    const span = await spanOfCall(answer.headers.traceresponse);
    expect(span.attributes).toMatchObject({ [ATTR_RPC_STATUS_CODE]: 'DEADLINE_EXCEEDED', 'tracecar.error.code': 'TRC_ERR_UPSTREAM_DEADLINE' });
    expect(span.status.code).toBe('error');
  });

  it('the client cancelling a stream cancels the server call; the span records the client going away', async () => {
    const before = server.calls.length;
    const s = (client.serverStream as unknown as (r: object) => grpc.ClientReadableStream<{ i: number }>)({ count: 1000, gapMs: 20 });
    await new Promise((resolve) => s.once('data', resolve));
    s.on('error', () => {});
    s.cancel();
    await waitFor(() => server.calls[before]?.cancelled, 5000, 'the server call cancelled');
    await waitFor(() => receiver.spans().find((x) => x.name === 'demo.Echo/ServerStream' && x.attributes['tracecar.error.code'] === 'TRC_ERR_CLIENT_ABORTED'), 10_000, 'the aborted span');
  });
});

describe('gRPC answers tracecar gives itself, and the legacy attribute names', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver?.close());

  it('an upstream that is down: UNAVAILABLE for the grpc-js client (not an HTTP 502 it can only guess from)', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as import('node:net').AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const tc = await startTracecar({ ingress: { target: `h2c://127.0.0.1:${port}` } });
    const client = echoClient(`127.0.0.1:${tc.addresses.ingress.port}`);
    try {
      const r = await unary(client, { msg: 'x' });
      expect(r.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(r.error?.details).toContain('refused the connection');
    } finally {
      client.close();
      await tc.close();
    }
  });

  it('grpc.attributes: legacy — rpc.system, rpc.service, rpc.method (the method alone), integer rpc.grpc.status_code', async () => {
    expect(LEGACY_RPC).toEqual({ system: ATTR_RPC_SYSTEM, service: ATTR_RPC_SERVICE, grpcStatusCode: ATTR_RPC_GRPC_STATUS_CODE, grpc: RPC_SYSTEM_VALUE_GRPC });
    const server = await startEchoServer();
    const tc = await startTracecar({
      service: { name: 'legacy' },
      ingress: { target: `h2c://127.0.0.1:${server.port}` },
      grpc: { attributes: 'legacy' },
      export: { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 50 },
    });
    const client = echoClient(`127.0.0.1:${tc.addresses.ingress.port}`);
    try {
      const r = await unary(client, { code: grpc.status.UNAVAILABLE, message: 'down for maintenance' });
      expect(r.error?.code).toBe(grpc.status.UNAVAILABLE);
      const span = await waitFor(() => receiver.spans().find((s) => s.resource['service.name'] === 'legacy'), 10_000, 'the legacy span');
      expect(span.name).toBe('demo.Echo/Unary');
      expect(span.attributes).toMatchObject({ [ATTR_RPC_SYSTEM]: 'grpc', [ATTR_RPC_SERVICE]: 'demo.Echo', [ATTR_RPC_METHOD]: 'Unary', [ATTR_RPC_GRPC_STATUS_CODE]: 14 });
      expect(span.attributes[ATTR_RPC_SYSTEM_NAME]).toBeUndefined();
      expect(span.attributes[ATTR_RPC_STATUS_CODE]).toBeUndefined();
      expect(span.status.code).toBe('error');
    } finally {
      client.close();
      await tc.close();
      await server.close();
    }
  });
});
