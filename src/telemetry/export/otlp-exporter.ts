/**
 * The OTLP trace exporter for the configured protocol, built from the already-resolved OtlpConfig
 * (the config loader merged OTEL_EXPORTER_OTLP_* into it and resolved the endpoint):
 *
 * - `grpc`          @opentelemetry/exporter-trace-otlp-grpc   (headers go as gRPC metadata)
 * - `http/protobuf` @opentelemetry/exporter-trace-otlp-proto  (POST application/x-protobuf)
 * - `http/json`     @opentelemetry/exporter-trace-otlp-http   (POST application/json)
 *
 * Only the chosen exporter is loaded (a synchronous require of its CommonJS build), so a gRPC
 * sidecar never loads the HTTP stack and vice versa. Credentials follow the OTLP exporter spec as
 * the exporters implement it: `http://` is plain, `https://` uses TLS (with
 * OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_* files when set).
 */
import { createRequire } from 'node:module';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { otlpTracesUrl, type OtlpProtocol } from '../../config/otlp-endpoint.js';
import type { OtlpConfig } from '../../config/types.js';

type GrpcConfig = NonNullable<ConstructorParameters<typeof GrpcTraceExporter>[0]>;
type GrpcMetadata = NonNullable<GrpcConfig['metadata']>;
type HttpConfig = NonNullable<ConstructorParameters<typeof HttpTraceExporter>[0]>;

/** What tracecar needs of an OTLP trace exporter, whatever its transport. */
export interface TraceExporter {
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const PACKAGES: Record<OtlpProtocol, string> = {
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
};

const requireHere = createRequire(import.meta.url);

function exporterClass<C>(protocol: OtlpProtocol): new (config: C) => TraceExporter {
  return (requireHere(PACKAGES[protocol]) as { OTLPTraceExporter: new (config: C) => TraceExporter }).OTLPTraceExporter;
}

/**
 * gRPC Metadata from the very @grpc/grpc-js copy the exporter uses (grpc-js checks
 * `instanceof Metadata`), reached through the exporter's own dependency chain so tracecar needs
 * no direct runtime dependency on @grpc/grpc-js.
 */
function createMetadata(headers: Record<string, string>): GrpcMetadata {
  const fromExporter = createRequire(requireHere.resolve(PACKAGES.grpc));
  const grpcBase = fromExporter('@opentelemetry/otlp-grpc-exporter-base') as {
    createEmptyMetadata(): GrpcMetadata;
  };
  const metadata = grpcBase.createEmptyMetadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key.toLowerCase(), value);
  return metadata;
}

export function createOtlpTraceExporter(otlp: OtlpConfig): TraceExporter {
  const timeout = Number.isFinite(otlp.timeout) && otlp.timeout > 0 ? otlp.timeout : DEFAULT_TIMEOUT_MS;
  const protocol: OtlpProtocol = otlp.protocol ?? 'grpc';
  if (protocol === 'grpc') {
    const Exporter = exporterClass<GrpcConfig>('grpc');
    return new Exporter({
      url: otlp.endpoint,
      metadata: createMetadata(otlp.headers ?? {}),
      timeoutMillis: timeout,
      compression: (otlp.compression === 'gzip' ? 'gzip' : 'none') as GrpcConfig['compression'],
    });
  }
  const Exporter = exporterClass<HttpConfig>(protocol);
  return new Exporter({
    url: otlpTracesUrl(otlp.endpoint, protocol),
    headers: { ...(otlp.headers ?? {}) },
    timeoutMillis: timeout,
    compression: (otlp.compression === 'gzip' ? 'gzip' : 'none') as HttpConfig['compression'],
  });
}

/** One export call as a promise: resolves on success, rejects with the exporter's error. */
export function exportOnce(exporter: TraceExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    exporter.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) resolve();
      else reject(result.error ?? new Error('OTLP export failed'));
    });
  });
}
