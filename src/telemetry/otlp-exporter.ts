/**
 * The OTLP/gRPC exporter from @opentelemetry/exporter-trace-otlp-grpc, configured from the
 * already-resolved OtlpConfig (the config loader merged OTEL_EXPORTER_OTLP_* into it).
 *
 * Credentials follow the OTLP exporter spec as the exporter implements it: an `http://` endpoint
 * is insecure, `https://` uses TLS (with OTEL_EXPORTER_OTLP_CERTIFICATE/CLIENT_* files when set).
 */
import { createRequire } from 'node:module';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { OtlpConfig } from '../config/types.js';

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
type GrpcMetadata = NonNullable<ExporterConfig['metadata']>;

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * gRPC Metadata from the very @grpc/grpc-js copy the exporter uses (grpc-js checks
 * `instanceof Metadata`), reached through the exporter's own dependency chain so tracecar needs
 * no direct runtime dependency on @grpc/grpc-js.
 */
function createMetadata(headers: Record<string, string>): GrpcMetadata {
  const fromHere = createRequire(import.meta.url);
  const fromExporter = createRequire(fromHere.resolve('@opentelemetry/exporter-trace-otlp-grpc'));
  const grpcBase = fromExporter('@opentelemetry/otlp-grpc-exporter-base') as {
    createEmptyMetadata(): GrpcMetadata;
  };
  const metadata = grpcBase.createEmptyMetadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key.toLowerCase(), value);
  return metadata;
}

export function createOtlpTraceExporter(otlp: OtlpConfig): OTLPTraceExporter {
  const timeout = Number.isFinite(otlp.timeout) && otlp.timeout > 0 ? otlp.timeout : DEFAULT_TIMEOUT_MS;
  return new OTLPTraceExporter({
    url: otlp.endpoint,
    metadata: createMetadata(otlp.headers ?? {}),
    timeoutMillis: timeout,
    compression: (otlp.compression === 'gzip' ? 'gzip' : 'none') as ExporterConfig['compression'],
  });
}

/** One export call as a promise: resolves on success, rejects with the exporter's error. */
export function exportOnce(
  exporter: OTLPTraceExporter,
  spans: Parameters<OTLPTraceExporter['export']>[0],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    exporter.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) resolve();
      else reject(result.error ?? new Error('OTLP export failed'));
    });
  });
}
