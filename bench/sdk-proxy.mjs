// Anchor rows: the undici proxy of the baseline instrumented with the stock OpenTelemetry JS SDK,
// as a user would write it instead of adopting a sidecar: NodeTracerProvider (AsyncLocalStorage
// context, W3C propagator), BatchSpanProcessor with its defaults, the OTLP gRPC exporter, spans
// made with the public API and the HTTP semantic-convention attributes tracecar also records.
//   node bench/sdk-proxy.mjs TARGET_URL OTLP_URL SPANS
// SPANS=1: one SERVER span per request, its context injected upstream.
// SPANS=2: SERVER + a CLIENT span for the upstream call, the CLIENT context injected.
// service.name comes from OTEL_SERVICE_NAME. SIGTERM flushes the processor, then exits.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createUndiciProxy, serve } from './lib/undici-proxy.mjs';

const [targetArg, otlpUrl, spansArg] = process.argv.slice(2);
const target = new URL(targetArg);
const withClient = spansArg === '2';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'sdk-proxy' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpUrl }))],
});
provider.register();
const tracer = trace.getTracer('bench-sdk-proxy');

// Hop-by-hop headers, plus the trace headers the SDK re-injects.
const SKIP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'traceparent', 'tracestate']);
const setter = { set: (headers, key, value) => headers.push(key, value) };
const getter = {
  keys: (req) => Object.keys(req.headers),
  get: (req, key) => req.headers[key],
};

const server = createUndiciProxy(target, {
  skip: SKIP,
  start(req, headers) {
    const parent = propagation.extract(ROOT_CONTEXT, req, getter);
    const [path, query] = req.url.split('?', 2);
    const attributes = {
      'http.request.method': req.method,
      'url.path': path,
      'url.scheme': 'http',
      'client.address': req.socket.remoteAddress,
      'server.address': req.headers.host,
      'network.protocol.version': req.httpVersion,
    };
    if (query !== undefined) attributes['url.query'] = query;
    if (req.headers['user-agent']) attributes['user_agent.original'] = req.headers['user-agent'];
    const server = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes }, parent);
    let ctx = trace.setSpan(parent, server);
    let client;
    if (withClient) {
      client = tracer.startSpan(
        req.method,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': req.method,
            'server.address': target.hostname,
            'server.port': Number(target.port),
            'url.full': target.origin + req.url,
          },
        },
        ctx,
      );
      ctx = trace.setSpan(ctx, client);
    }
    propagation.inject(ctx, headers, setter);
    return { server, client, ctx };
  },
  dispatch(state, run) {
    context.with(state.ctx, run);
  },
  response(state, status) {
    state.server.setAttribute('http.response.status_code', status);
    if (status >= 500) state.server.setStatus({ code: SpanStatusCode.ERROR });
    if (state.client) {
      state.client.setAttribute('http.response.status_code', status);
      if (status >= 400) state.client.setStatus({ code: SpanStatusCode.ERROR });
    }
  },
  end(state, err) {
    if (err) {
      for (const span of [state.client, state.server]) {
        if (!span) continue;
        span.setAttribute('error.type', err.name);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      }
    }
    state.client?.end();
    state.server.end();
  },
});
serve(server);

process.on('SIGTERM', () => {
  server.close();
  provider.shutdown().finally(() => process.exit(0));
});
