/**
 * OTLP/gRPC: one unary TraceService/Export call per batch through @grpc/grpc-js, with the request
 * already encoded (identity serializer), the configured headers as metadata, the OTLP timeout as
 * the call deadline, gzip when configured.
 *
 * grpc-js is loaded with the first batch, not when the exporter is made: a sidecar that has not
 * exported yet does not hold it (its idle RSS ~3 MiB lower, its start ~35 ms shorter), and the
 * ~35 ms the load takes is paid once, at the first export. The headers are still checked when
 * the exporter is made (gRPC metadata rules, as grpc-js' Metadata has them), so one grpc-js would
 * refuse fails the start as before; the TLS files were checked when they were read (tls.ts).
 *
 * Retry classification follows the OTLP spec: UNAVAILABLE, CANCELLED, DEADLINE_EXCEEDED, ABORTED,
 * OUT_OF_RANGE and DATA_LOSS are retryable, RESOURCE_EXHAUSTED only when the server sent
 * RetryInfo; the delay in RetryInfo is honoured.
 */
import { createRequire } from 'node:module';
import type * as grpcTypes from '@grpc/grpc-js';
import { tracecarError } from '../../errors.js';
import { decodePartialSuccess, decodeRetryInfoDelay } from '../otlp/decode.js';
import { ExportFailure, type SendResult, type Transport } from './types.js';
import type { TlsFiles } from './tls.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** gRPC status codes (grpc-js `status`), as numbers so the module needs grpc-js only when used. */
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const DATA_LOSS = 15;
const RETRYABLE = new Set([CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS]);

export interface GrpcTransportOptions {
  /** http(s)://host:port, or host:port (TLS unless OTEL_EXPORTER_OTLP_INSECURE=true). */
  endpoint: string;
  headers: Record<string, string>;
  timeout: number;
  gzip: boolean;
  userAgent: string;
  tls: TlsFiles;
}

const requireHere = createRequire(import.meta.url);

/** host:port for grpc-js, and whether the channel is plain text. */
export function grpcTarget(endpoint: string, insecureWithoutScheme: boolean): { target: string; insecure: boolean } {
  const trimmed = endpoint.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  const url = new URL(hasScheme ? trimmed : `https://${trimmed}`);
  const insecure = hasScheme ? url.protocol === 'http:' : insecureWithoutScheme;
  return { target: url.host, insecure };
}

export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  const { target, insecure } = grpcTarget(options.endpoint, options.tls.insecure);
  const { ca, key, cert } = options.tls;
  checkMetadata(options.headers);
  const channelOptions: grpcTypes.ChannelOptions = {
    'grpc.default_compression_algorithm': options.gzip ? 2 : 0,
    'grpc.primary_user_agent': options.userAgent,
    // Our own client, not one shared with other code in the process; a stuck connection goes with it.
    'grpc.use_local_subchannel_pool': 1,
  };
  let loaded: { grpc: typeof grpcTypes; credentials: grpcTypes.ChannelCredentials; metadata: grpcTypes.Metadata } | undefined;
  const load = (): NonNullable<typeof loaded> => {
    const grpc = requireHere('@grpc/grpc-js') as typeof grpcTypes;
    const credentials = insecure ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca ?? null, key ?? null, cert ?? null);
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(options.headers)) metadata.set(name.toLowerCase(), value);
    return { grpc, credentials, metadata };
  };

  let client: grpcTypes.Client | undefined;
  const inFlight = new Set<grpcTypes.ClientUnaryCall>();
  const identity = (b: Buffer): Buffer => b;

  return {
    send(body) {
      const { grpc, credentials, metadata } = (loaded ??= load());
      client ??= new grpc.Client(target, credentials, channelOptions);
      const c = client;
      return new Promise<SendResult>((resolve, reject) => {
        const call = c.makeUnaryRequest<Buffer, Buffer>(EXPORT_PATH, identity, identity, body, metadata, { deadline: Date.now() + options.timeout }, (err, response) => {
          inFlight.delete(call);
          if (err) {
            if (err.code === UNAVAILABLE && client === c) {
              // The next attempt starts on a fresh channel, so a restarted collector is reached at
              // once instead of after grpc-js' own reconnect backoff: retry timing is the queue's
              // alone. Not after DEADLINE_EXCEEDED: a collector that accepted the connection and
              // never answered keeps it (grpc-js has no handshake timeout, and a closed channel
              // does not cancel its pending connect), so a fresh channel each time would open one
              // more socket per timeout; one stays, stuck, until the collector closes it.
              client = undefined;
              c.close();
            }
            reject(classify(err));
            return;
          }
          const partial = response && response.length > 0 ? decodePartialSuccess(response) : undefined;
          resolve(partial ? { rejected: partial.rejectedSpans, errorMessage: partial.errorMessage } : { rejected: 0 });
        });
        inFlight.add(call);
      });
    },
    async close() {
      for (const call of inFlight) call.cancel();
      inFlight.clear();
      client?.close();
      client = undefined;
    },
  };
}

/** Metadata names grpc-js accepts (lowercased first), and text values (printable ASCII). */
const METADATA_NAME = /^[0-9a-z_.-]+$/;
const METADATA_TEXT = /^[ -~]*$/;

/**
 * The configured headers as gRPC metadata must pass grpc-js' Metadata checks; a header that would
 * not is a config error at start, naming the header and never its value (an API key, often).
 * `-bin` names carry binary values, which configured text cannot be.
 */
function checkMetadata(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!METADATA_NAME.test(lower) || lower.endsWith('-bin')) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `export.otlp.headers: "${name}" cannot be sent as gRPC metadata (names are letters, digits, "_", "." and "-", and not "…-bin")`);
    }
    if (!METADATA_TEXT.test(value)) {
      throw tracecarError('TRC_ERR_CONFIG_INVALID', `export.otlp.headers: the value of "${name}" cannot be sent as gRPC metadata (printable ASCII only)`);
    }
  }
}

function classify(err: grpcTypes.ServiceError): ExportFailure {
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  const retryAfterMs = details instanceof Buffer ? decodeRetryInfoDelay(details) : undefined;
  const retryable = RETRYABLE.has(err.code) || (err.code === RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
  return new ExportFailure(err.message, retryable, retryAfterMs);
}
