/**
 * Certificates made for a test with Debian's `openssl` CLI (CI installs it): a CA, server
 * certificates it signs (SAN localhost, 127.0.0.1 and any extra names), client certificates for
 * mutual TLS. EC P-256 keys, so generating a set takes milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA's certificate file. */
  ca: string;
  /** A certificate for `name`, localhost, 127.0.0.1 and `names` (DNS or IP), signed by the CA; `only`: just `name`. */
  server(name: string, names?: string[], only?: boolean): CertFiles;
  /** A client certificate (extendedKeyUsage clientAuth), signed by the CA. */
  client(name: string): CertFiles;
  /** A self-signed certificate the CA knows nothing of. */
  selfSigned(name: string): CertFiles;
  read(file: string): Buffer;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createPki(caName = 'tracecar test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tracecar-pki-'));
  const ecKey = (file: string): void => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
  ecKey('ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '30', '-subj', `/CN=${caName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
  let serial = 1;

  const signed = (name: string, ext: string): CertFiles => {
    const base = `${name.replace(/[^A-Za-z0-9.-]/g, '_')}-${serial}`;
    ecKey(`${base}.key`);
    openssl(['req', '-new', '-key', `${base}.key`, '-subj', `/CN=${name}`, '-out', `${base}.csr`], dir);
    writeFileSync(join(dir, `${base}.ext`), ext);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', '7', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`], dir);
    return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
  };

  return {
    dir,
    ca: join(dir, 'ca.crt'),
    server(name, names = [], only = false) {
      const all = only ? [name, ...names] : [name, 'localhost', '127.0.0.1', ...names];
      const san = [...new Set(all)].map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      return signed(name, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    },
    client(name) {
      return signed(name, 'extendedKeyUsage=clientAuth\n');
    },
    selfSigned(name) {
      const base = `self-${serial++}`;
      ecKey(`${base}.key`);
      openssl(['req', '-x509', '-new', '-key', `${base}.key`, '-days', '7', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`, '-out', `${base}.crt`], dir);
      return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
    },
    read: (file) => readFileSync(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
