// A tiny "instrumented app" process for admin tests: records one SERVER span with a CLIENT child
// using the OpenTelemetry SDK and exports it over OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// then prints the trace id and exits.
import { SpanKind, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'child-app' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT }))],
});
const tracer = provider.getTracer('child-app');
const server = tracer.startSpan('GET /health/deep', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
const client = tracer.startSpan('GET /db', { kind: SpanKind.CLIENT, attributes: { 'server.address': 'postgres' } }, trace.setSpan(context.active(), server));
client.end();
server.end();
await provider.shutdown();
process.stdout.write(server.spanContext().traceId + '\n');
