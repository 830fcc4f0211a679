/**
 * TLS material for the OTLP connection, from the standard variables (the OTLP exporter spec):
 * OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE (trusted CA, PEM file), _CLIENT_KEY and
 * _CLIENT_CERTIFICATE (mutual TLS), and _INSECURE (plain text for a gRPC endpoint written without
 * a scheme). The traces-specific variable wins. Read once, when the exporter is made.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface TlsFiles {
  ca?: Buffer;
  key?: Buffer;
  cert?: Buffer;
  /** OTEL_EXPORTER_OTLP_INSECURE=true: a scheme-less gRPC endpoint is plain text. */
  insecure: boolean;
  /** Files that were set but could not be read (reported once by the caller). */
  problems: string[];
}

type Env = Record<string, string | undefined>;

function pick(env: Env, name: string): string | undefined {
  const specific = env[`OTEL_EXPORTER_OTLP_TRACES_${name}`]?.trim();
  if (specific) return specific;
  return env[`OTEL_EXPORTER_OTLP_${name}`]?.trim() || undefined;
}

export function tlsFilesFromEnv(env: Env = process.env): TlsFiles {
  const problems: string[] = [];
  const read = (name: string): Buffer | undefined => {
    const path = pick(env, name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(resolve(path));
    } catch (err) {
      problems.push(`OTEL_EXPORTER_OTLP_${name} (${path}): ${(err as Error).message}`);
      return undefined;
    }
  };
  const ca = read('CERTIFICATE');
  let key = read('CLIENT_KEY');
  let cert = read('CLIENT_CERTIFICATE');
  if ((key === undefined) !== (cert === undefined)) {
    problems.push('OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE go together; neither is used');
    key = cert = undefined;
  }
  return { ca, key, cert, insecure: pick(env, 'INSECURE')?.toLowerCase() === 'true', problems };
}
