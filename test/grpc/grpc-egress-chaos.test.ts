/**
 * gRPC on the egress side and in the rules: an app (a grpc-js server behind the ingress) calls
 * another gRPC service through a named route (its channel points at the route's local port), and
 * the CLIENT span is stitched to the SERVER span; sampling and chaos rules match a gRPC service and
 * method; a chaos abort answers a gRPC status in Trailers-Only form; the access log and the
 * summary's error patterns carry the method and the gRPC code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracecar, type RunningTracecar } from '../helpers/harness.js';
import { echoClient, grpc, startEchoServer, unary, type EchoClient, type GrpcServer } from '../helpers/grpc-peers.js';
import { waitFor } from '../helpers/wait.js';

describe('an app calling a gRPC service through a named route', () => {
  let downstream: GrpcServer;
  let app: GrpcServer;
  let tc: RunningTracecar;
  let client: EchoClient;
  let routeClient: EchoClient | undefined;
  beforeAll(async () => {
    downstream = await startEchoServer();
    // The app: an uninstrumented gRPC service that copies traceparent onto its own outgoing call.
    app = await startEchoServer({
      unary(call: grpc.ServerUnaryCall<Record<string, unknown>, Record<string, unknown>>, cb: grpc.sendUnaryData<Record<string, unknown>>) {
        const md = new grpc.Metadata();
        const tp = call.metadata.get('traceparent')[0];
        if (tp) md.set('traceparent', String(tp));
        routeClient ??= echoClient(`127.0.0.1:${tc.addresses.routes.inventory.port}`);
        (routeClient.unary as unknown as (r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Record<string, unknown>) => void) => void)(call.request, md, (err, res) =>
          err ? cb({ code: err.code, details: err.details }) : cb(null, { via: 'app', downstream: res }),
        );
      },
    });
    tc = await startTracecar({
      ingress: { target: `h2c://127.0.0.1:${app.port}` },
      egress: { routes: [{ name: 'inventory', listen: '127.0.0.1:0', target: `h2c://127.0.0.1:${downstream.port}` }] },
    });
    client = echoClient(`127.0.0.1:${tc.addresses.ingress.port}`);
  });
  afterAll(async () => {
    client?.close();
    routeClient?.close();
    await tc?.close();
    await app?.close();
    await downstream?.close();
  });

  it('the CLIENT span of the egress call is the child of the SERVER span, over HTTP/2 all the way', async () => {
    const r = await unary(client, { msg: 'stock?' });
    expect(r.error).toBeUndefined();
    expect((r.response?.downstream as Record<string, unknown>).echo).toBe('stock?');
    const traceId = String(r.initial?.get('traceresponse')[0]).split('-')[1];
    const spans = await waitFor(() => {
      const s = tc.tracecar.store.get(traceId);
      return s && s.length >= 2 && s;
    }, 5000, 'both spans');
    const server = spans.find((s) => s.kind === 'server')!;
    const clientSpan = spans.find((s) => s.kind === 'client')!;
    expect(clientSpan.name).toBe('demo.Echo/Unary');
    expect(clientSpan.parentSpanId).toBe(server.spanId);
    expect(clientSpan.attributes).toMatchObject({ 'peer.service': 'inventory', 'rpc.method': 'demo.Echo/Unary', 'rpc.status_code': 'OK', 'network.protocol.version': '2' });
    // The downstream service saw our CLIENT span as the parent.
    expect(downstream.calls.at(-1)!.metadata.traceparent).toBe(`00-${traceId}-${clientSpan.spanId}-03`);
  });

  it('on a CLIENT span every non-OK code is an error (NOT_FOUND too); on the SERVER span NOT_FOUND is not', async () => {
    const r = await unary(client, { code: grpc.status.NOT_FOUND, message: 'no stock' });
    expect(r.error?.code).toBe(grpc.status.NOT_FOUND);
    const traceId = String(r.initial?.get('traceresponse')[0] ?? r.status?.metadata.get('traceresponse')[0]).split('-')[1];
    const spans = await waitFor(() => {
      const s = tc.tracecar.store.get(traceId);
      return s && s.length >= 2 && s;
    }, 5000, 'both spans');
    expect(spans.find((s) => s.kind === 'client')!.status.code).toBe('error');
    expect(spans.find((s) => s.kind === 'server')!.status.code).toBe('unset');
  });
});

describe('rules that match gRPC calls; chaos answers in gRPC; the log and the summary speak gRPC', () => {
  let server: GrpcServer;
  let tc: RunningTracecar;
  let client: EchoClient;
  beforeAll(async () => {
    server = await startEchoServer();
    tc = await startTracecar({
      ingress: { target: `h2c://127.0.0.1:${server.port}` },
      sampling: { rules: [{ match: { grpc: { service: 'demo.Echo', method: 'Server*' } }, ratio: 0 }], keep: { errors: false } },
      chaos: {
        enabled: true,
        allowHeader: true,
        rules: [
          { match: { grpc: { method: 'ClientStream' } }, side: 'ingress', abort: { status: 503, percent: 100 } },
          { match: { grpc: { service: 'demo.*', method: 'Bidi' } }, side: 'ingress', abort: { status: 503, grpcStatus: 8, percent: 100 } },
        ],
      },
    });
    client = echoClient(`127.0.0.1:${tc.addresses.ingress.port}`);
  });
  afterAll(async () => {
    client?.close();
    await tc?.close();
    await server?.close();
  });

  it('a sampling rule on the gRPC method: ServerStream calls are not traced, Unary calls are', async () => {
    await new Promise<void>((resolve, reject) => {
      const s = (client.serverStream as unknown as (r: object) => grpc.ClientReadableStream<object>)({ count: 1 });
      s.on('data', () => {}).on('end', () => resolve()).on('error', reject);
    });
    const r = await unary(client, { msg: 'traced' });
    expect(r.error).toBeUndefined();
    await waitFor(() => tc.tracecar.store.list({}).some((t) => t.rootName === 'demo.Echo/Unary'), 5000, 'the Unary trace');
    expect(tc.tracecar.store.list({}).some((t) => t.rootName === 'demo.Echo/ServerStream')).toBe(false);
  });

  it('chaos abort on a gRPC call: UNAVAILABLE by default, the configured code otherwise, in Trailers-Only form; the app is never called', async () => {
    const before = server.calls.length;
    const unavailable = await new Promise<grpc.ServiceError>((resolve) => {
      const c = (client.clientStream as unknown as (md: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void) => grpc.ClientWritableStream<object>)(new grpc.Metadata(), (err) => resolve(err!));
      c.on('error', () => {});
      c.write({ i: 1 });
      c.end();
    });
    expect(unavailable.code).toBe(grpc.status.UNAVAILABLE);
    expect(unavailable.details).toContain('fault injected by tracecar');
    expect(unavailable.metadata.get('x-tracecar-chaos')[0]).toBe('abort=503;rule=rules[0]');

    const exhausted = await new Promise<grpc.ServiceError>((resolve) => {
      const b = (client.bidi as unknown as () => grpc.ClientDuplexStream<object, object>)();
      b.on('error', resolve);
      b.on('data', () => {});
      b.write({ i: 1 });
    });
    expect(exhausted.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(server.calls.length).toBe(before);
  });

  it('the chaos header picks a gRPC code with grpc=N', async () => {
    const md = { 'x-tracecar-chaos': 'abort=503;grpc=7' };
    const r = await unary(client, { msg: 'x' }, { metadata: md });
    expect(r.error?.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('the access log names the method and the gRPC status; the summary groups errors by gRPC code', async () => {
    await unary(client, { code: grpc.status.INTERNAL, message: 'boom' });
    const line = await waitFor(() => tc.log.lines.find((l) => l.grpc_status === 'INTERNAL'), 5000, 'the access line');
    expect(line).toMatchObject({ rpc_method: 'demo.Echo/Unary', method: 'POST', path: '/demo.Echo/Unary', status: 200 });
    const chaos = await waitFor(() => tc.log.lines.find((l) => l.rpc_method === 'demo.Echo/ClientStream'), 5000, 'the chaos line');
    expect(chaos).toMatchObject({ grpc_status: 'UNAVAILABLE', error: 'TRC_ERR_CHAOS_ABORT' });
    const summary = tc.tracecar.store.summary();
    const internal = summary.errors.find((e) => e.rpcStatus === 'INTERNAL');
    expect(internal).toMatchObject({ route: 'demo.Echo/Unary', kind: 'server', statusCode: 200, count: 1 });
    expect(summary.errors.find((e) => e.rpcStatus === 'UNAVAILABLE')).toMatchObject({ route: 'demo.Echo/ClientStream' });
  });
});
