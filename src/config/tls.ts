/**
 * TLS files named in the config: read, parsed and checked once per config version (and again when
 * a listener's files change on disk), so a problem is reported at start or reload naming the
 * setting, the file and what is wrong with it, never as an opaque handshake failure later.
 * Nothing here turns verification off: a target's CA replaces the system store, it does not
 * widen what is accepted.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { ListenerTlsConfig, TargetTlsConfig } from './types.js';
import { tracecarError, type TracecarError } from '../errors.js';

/** Certificate and key of a listener, checked to belong together. */
export interface ListenerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** validTo of the leaf certificate (for the log line on reload). */
  notAfter: string;
}

/** What tls.connect needs towards one target (files read; absent = system defaults). */
export interface TargetTlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function tlsError(setting: string, file: string, reason: string, cause?: unknown): TracecarError {
  return tracecarError('TRC_ERR_TLS', { setting, file, reason }, cause === undefined ? undefined : { cause });
}

function readPem(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw tlsError(setting, file, `cannot read it: ${why}`, err);
  }
}

/**
 * Every certificate in a PEM file, in order; at least one, each parseable. With `now`, the first
 * (the leaf) must also be valid at that time.
 */
export function readCertificates(setting: string, file: string, now?: number): { pem: Buffer; certs: X509Certificate[] } {
  const pem = readPem(setting, file);
  const blocks = pem.toString('latin1').match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1')) ? ' (it holds a private key: is it the key file?)' : '';
    throw tlsError(setting, file, `no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)${hint}`);
  }
  const certs = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw tlsError(setting, file, `certificate ${i + 1} is not valid PEM/X.509 (${(err as Error).message})`, err);
    }
  });
  const leaf = certs[0];
  if (now === undefined) return { pem, certs };
  if (Date.parse(leaf.validTo) < now) throw tlsError(setting, file, `the certificate ${subjectOf(leaf)} expired on ${isoDate(leaf.validTo)}`);
  if (Date.parse(leaf.validFrom) > now) throw tlsError(setting, file, `the certificate ${subjectOf(leaf)} is not valid before ${isoDate(leaf.validFrom)}`);
  return { pem, certs };
}

/** A PEM private key, unencrypted. */
export function readPrivateKey(setting: string, file: string): { pem: Buffer; key: KeyObject } {
  const pem = readPem(setting, file);
  const text = pem.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw tlsError(setting, file, 'the private key is encrypted (a passphrase is not supported: decrypt it, e.g. openssl pkey -in key.pem -out key.pem)');
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const hint = /-----BEGIN CERTIFICATE-----/.test(text) ? ' (it holds a certificate: is it the certificate file?)' : '';
    throw tlsError(setting, file, `no PEM private key in it (expected -----BEGIN PRIVATE KEY-----)${hint}`);
  }
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (err) {
    throw tlsError(setting, file, `the private key cannot be parsed (${(err as Error).message})`, err);
  }
}

/** A certificate and the key that goes with it, both checked. `where` is the config path, e.g. "ingress.tls". */
function readPair(where: string, certFile: string, keyFile: string, now: number): { cert: Buffer; key: Buffer; leaf: X509Certificate } {
  const { pem: cert, certs } = readCertificates(`${where}.cert`, certFile, now);
  const { pem: key, key: keyObject } = readPrivateKey(`${where}.key`, keyFile);
  if (!certs[0].checkPrivateKey(keyObject)) {
    throw tlsError(`${where}.key`, keyFile, `does not match the certificate in ${where}.cert (${certFile}, ${subjectOf(certs[0])})`);
  }
  return { cert, key, leaf: certs[0] };
}

/** The ingress listener's certificate and key. Throws TRC_ERR_TLS naming the file and the problem. */
export function loadListenerTls(where: string, config: ListenerTlsConfig, now: number = Date.now()): ListenerTlsMaterial {
  const { cert, key, leaf } = readPair(where, config.cert, config.key, now);
  return { cert, key, notAfter: isoDate(leaf.validTo) };
}

/** TLS towards a target: its CA bundle, client certificate and server name. Throws TRC_ERR_TLS. */
export function loadTargetTls(where: string, config: TargetTlsConfig | undefined, now: number = Date.now()): TargetTlsMaterial | undefined {
  if (!config || (config.ca === undefined && config.cert === undefined && config.servername === undefined)) return undefined;
  const out: TargetTlsMaterial = {};
  if (config.ca !== undefined) {
    // A bundle may hold CAs past their dates next to current ones: check it parses, the handshake checks dates.
    const { pem } = readCertificates(`${where}.ca`, config.ca);
    out.ca = pem;
  }
  if (config.cert !== undefined && config.key !== undefined) {
    const { cert, key } = readPair(where, config.cert, config.key, now);
    out.cert = cert;
    out.key = key;
  }
  if (config.servername !== undefined) out.servername = config.servername;
  return out;
}

function subjectOf(cert: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? `"${cn}"` : `"${cert.subject.replace(/\n/g, ', ')}"`;
}

function isoDate(text: string): string {
  const t = Date.parse(text);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}
