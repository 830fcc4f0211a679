/**
 * TLS material for the OTLP connection, from the standard variables (the OTLP exporter spec):
 * OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE (trusted CA, PEM file), _CLIENT_KEY and
 * _CLIENT_CERTIFICATE (mutual TLS), and _INSECURE (plain text for a gRPC endpoint written without
 * a scheme). The traces-specific variable wins. Read once, when the exporter is made.
 *
 * A file that cannot be used is reported once and left out, like one that cannot be read: the
 * exporter still starts (a collector that needs it refuses the export, counted and logged;
 * requests are unaffected). A client key and certificate are checked together as node:tls loads
 * them (a CA bundle Node does not check: text that is not PEM adds no CA).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';

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
  } else if (key !== undefined && cert !== undefined) {
    try {
      createSecureContext({ key, cert });
    } catch (err) {
      problems.push(
        `OTEL_EXPORTER_OTLP_CLIENT_KEY (${pick(env, 'CLIENT_KEY')}) and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (${pick(env, 'CLIENT_CERTIFICATE')}) are not a usable PEM key and certificate pair (${(err as Error).message}); neither is used`,
      );
      key = cert = undefined;
    }
  }
  return { ca, key, cert, insecure: pick(env, 'INSECURE')?.toLowerCase() === 'true', problems };
}
