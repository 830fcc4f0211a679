import type { Server } from 'node:net';
import { tracecarError } from '../errors.js';

export interface BoundAddress {
  host: string;
  port: number;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host name not found',
};

/** Binds a server; a failure becomes TRC_ERR_LISTEN naming the listener, the address and a hint. */
export function listenOn(server: Server, name: string, host: string, port: number, hint: string): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason = REASONS[err.code ?? ''] ?? err.message;
      reject(tracecarError('TRC_ERR_LISTEN', { listener: name, address: formatHostPort(host, port), reason }, { cause: err, hint }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? { host, port: a.port } : { host, port });
    });
  });
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** URL a person can paste: 0.0.0.0 / :: are shown as 127.0.0.1. */
export function displayUrl(addr: BoundAddress): string {
  const host = addr.host === '0.0.0.0' || addr.host === '::' ? '127.0.0.1' : addr.host;
  return `http://${formatHostPort(host, addr.port)}`;
}
