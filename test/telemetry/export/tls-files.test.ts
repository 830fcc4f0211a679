/**
 * The OTLP exporter's TLS files from the OTEL_EXPORTER_OTLP_* variables (src/telemetry/export/tls.ts):
 * read once; a file that cannot be read or used is reported once and left out, never a failed start.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tlsFilesFromEnv } from '../../../src/telemetry/export/tls.js';
import { createPki } from '../../helpers/certs.js';

const pki = createPki();
afterAll(() => pki.cleanup());

describe('OTLP TLS files', () => {
  it('a CA and a client key and certificate that belong together are read, with no problem', () => {
    const client = pki.client('sidecar');
    const tls = tlsFilesFromEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca, OTEL_EXPORTER_OTLP_CLIENT_KEY: client.key, OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: client.cert });
    expect(tls.problems).toEqual([]);
    expect(tls.ca?.equals(pki.read(pki.ca))).toBe(true);
    expect(tls.key?.equals(pki.read(client.key))).toBe(true);
    expect(tls.cert?.equals(pki.read(client.cert))).toBe(true);
  });

  it('a client key that is not PEM: both left out, one problem naming both variables and files', () => {
    const client = pki.client('sidecar-2');
    const bad = join(pki.dir, 'not-a-key.pem');
    writeFileSync(bad, 'garbage\n');
    const tls = tlsFilesFromEnv({ OTEL_EXPORTER_OTLP_CLIENT_KEY: bad, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: client.cert });
    expect(tls.key).toBeUndefined();
    expect(tls.cert).toBeUndefined();
    expect(tls.problems).toHaveLength(1);
    expect(tls.problems[0]).toContain(`OTEL_EXPORTER_OTLP_CLIENT_KEY (${bad})`);
    expect(tls.problems[0]).toContain(`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (${client.cert})`);
    expect(tls.problems[0]).toContain('not a usable PEM key and certificate pair');
  });

  it('a key and a certificate that do not belong together are a problem too', () => {
    const a = pki.client('a');
    const b = pki.client('b');
    const tls = tlsFilesFromEnv({ OTEL_EXPORTER_OTLP_CLIENT_KEY: a.key, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: b.cert });
    expect(tls.key).toBeUndefined();
    expect(tls.problems[0]).toContain('not a usable PEM key and certificate pair');
  });

  it('a file that cannot be read is reported and left out', () => {
    const tls = tlsFilesFromEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: join(pki.dir, 'missing.pem') });
    expect(tls.ca).toBeUndefined();
    expect(tls.problems[0]).toMatch(/^OTEL_EXPORTER_OTLP_CERTIFICATE \(.*missing\.pem\): ENOENT/);
  });
});
