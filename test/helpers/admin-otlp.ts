/**
 * Real OpenTelemetry SDK exporters pointed at the admin OTLP/HTTP receiver: the JSON exporter
 * (@opentelemetry/exporter-trace-otlp-http) and the same HTTP delegate with the protobuf serializer
 * (what @opentelemetry/exporter-trace-otlp-proto is made of).
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export function jsonExporter(url: string): SpanExporter {
  return new OTLPTraceExporter({ url });
}

export function protobufExporter(url: string, compression: 'none' | 'gzip' = 'none'): SpanExporter {
  const options = convertLegacyHttpOptions({ url, compression: compression as never }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegate(options, ProtobufTraceSerializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined),
  ) as unknown as SpanExporter;
}

export interface EmittedTrace {
  traceId: string;
  serverSpanId: string;
  clientSpanId: string;
}

/**
 * Records what an instrumented app would: a SERVER span with a CLIENT child and an event, on a
 * provider whose resource names the service; exports and shuts down (which flushes).
 */
export async function emitAppTrace(exporter: SpanExporter, opts: { service: string; fail?: boolean; requestId?: string }): Promise<EmittedTrace> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.service, 'service.version': '3.1.0' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('test-app', '1.0.0');
  const server = tracer.startSpan('GET /cart/:id', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/cart/7',
      'http.route': '/cart/:id',
      'http.request.header.x-request-id': [opts.requestId ?? 'req-otlp'],
    },
  });
  const client = tracer.startSpan(
    'POST /payments',
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'server.address': 'payments', 'server.port': 8080 } },
    trace.setSpan(context.active(), server),
  );
  client.addEvent('retry', { attempt: 2 });
  if (opts.fail) {
    client.setAttribute('http.response.status_code', 503);
    client.setAttribute('error.type', '503');
    client.setStatus({ code: SpanStatusCode.ERROR, message: 'payments unavailable' });
  } else client.setAttribute('http.response.status_code', 200);
  client.end();
  server.setAttribute('http.response.status_code', opts.fail ? 500 : 200);
  if (opts.fail) server.setStatus({ code: SpanStatusCode.ERROR });
  server.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: server.spanContext().traceId, serverSpanId: server.spanContext().spanId, clientSpanId: client.spanContext().spanId };
}
