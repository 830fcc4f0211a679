/**
 * Real gRPC peers (@grpc/grpc-js) for tests: a `demo.Echo` service with one method of each kind
 * (unary, server streaming, client streaming, bidirectional), messages serialized as JSON (the
 * gRPC framing, HTTP/2 and metadata are the real thing; tracecar never reads the messages).
 */
import * as grpc from '@grpc/grpc-js';

type Msg = Record<string, unknown>;
const serialize = (v: Msg): Buffer => Buffer.from(JSON.stringify(v));
const deserialize = (b: Buffer): Msg => JSON.parse(b.toString()) as Msg;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/demo.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: serialize,
  requestDeserialize: deserialize,
  responseSerialize: serialize,
  responseDeserialize: deserialize,
});

export const ECHO_SERVICE = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export type EchoClient = grpc.Client & Record<keyof typeof ECHO_SERVICE, (...args: unknown[]) => unknown>;
export const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo') as unknown as new (address: string, credentials: grpc.ChannelCredentials) => EchoClient;

export interface GrpcServer {
  port: number;
  /** What the server saw per call: incoming metadata and whether the call was cancelled. */
  calls: Array<{ method: string; metadata: Record<string, string>; cancelled: boolean }>;
  close(): Promise<void>;
}

/**
 * The Echo server. Unary: answers {echo} with initial metadata `x-init` and trailing metadata
 * `x-trail`; `{code, message}` in the request fails the call with that status; `{delayMs}` waits
 * first. ServerStream: `{count}` messages, then `{code}` if given. ClientStream: counts messages.
 * Bidi: answers each message as it arrives.
 */
export async function startEchoServer(override: Partial<grpc.UntypedServiceImplementation> = {}): Promise<GrpcServer> {
  const calls: GrpcServer['calls'] = [];
  const record = (name: string, call: grpc.ServerUnaryCall<Msg, Msg> | grpc.ServerWritableStream<Msg, Msg> | grpc.ServerReadableStream<Msg, Msg> | grpc.ServerDuplexStream<Msg, Msg>) => {
    const entry = { method: name, metadata: Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)])), cancelled: false };
    calls.push(entry);
    (call as grpc.ServerUnaryCall<Msg, Msg>).on('cancelled', () => (entry.cancelled = true));
    return entry;
  };
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      record('Unary', call);
      const req = call.request;
      const answer = () => {
        if (typeof req.code === 'number') return cb({ code: req.code, details: String(req.message ?? '') });
        const initial = new grpc.Metadata();
        initial.set('x-init', 'hello');
        call.sendMetadata(initial);
        const trailing = new grpc.Metadata();
        trailing.set('x-trail', 'bye');
        cb(null, { echo: req.msg, traceparent: call.metadata.get('traceparent')[0] ?? null }, trailing);
      };
      if (typeof req.delayMs === 'number') setTimeout(answer, req.delayMs);
      else answer();
    },
    serverStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      const entry = record('ServerStream', call);
      const count = Number(call.request.count ?? 3);
      let i = 0;
      const next = () => {
        if (entry.cancelled) return;
        if (i < count) {
          call.write({ i: i++ });
          setTimeout(next, Number(call.request.gapMs ?? 0));
        } else if (typeof call.request.code === 'number') call.emit('error', { code: call.request.code, details: String(call.request.message ?? 'failed') });
        else call.end();
      };
      next();
    },
    clientStream(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      record('ClientStream', call);
      let n = 0;
      call.on('data', () => n++);
      call.on('end', () => cb(null, { count: n }));
    },
    bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      record('Bidi', call);
      call.on('data', (m: Msg) => call.write({ back: m.i }));
      call.on('end', () => call.end());
    },
    ...override,
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, calls, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).finally(() => server.forceShutdown()) };
}

export function echoClient(address: string): EchoClient {
  return new EchoClient(address, grpc.credentials.createInsecure());
}

export interface UnaryResult {
  error?: grpc.ServiceError;
  response?: Msg;
  initial?: grpc.Metadata;
  status?: grpc.StatusObject;
}

/** A unary call, everything it returned: error or response, initial metadata, final status (trailers). */
export function unary(client: EchoClient, request: Msg, options: { metadata?: Record<string, string>; deadlineMs?: number } = {}): Promise<UnaryResult> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  const callOptions: grpc.CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
  return new Promise((resolve) => {
    const out: UnaryResult = {};
    let pending = 2;
    const settle = () => --pending === 0 && resolve(out);
    const call = (client.unary as unknown as (r: Msg, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Msg) => void) => grpc.ClientUnaryCall)(request, md, callOptions, (err, res) => {
      if (err) out.error = err;
      else out.response = res;
      settle();
    });
    call.on('metadata', (m: grpc.Metadata) => (out.initial = m));
    call.on('status', (s: grpc.StatusObject) => {
      out.status = s;
      settle();
    });
  });
}

export { grpc };
