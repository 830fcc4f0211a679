/**
 * An upstream target as the transports need it, resolved once per config version: where to
 * connect, which protocol to speak, the TLS material (files already read and checked), and the key
 * of the connection pool that serves it.
 */
import { createHash } from 'node:crypto';
import type { TargetProtocol, TargetTlsConfig } from './types.js';
import { loadTargetTls, type TargetTlsMaterial } from './tls.js';

/**
 * http1: HTTP/1.1 (undici); h2c: HTTP/2 with prior knowledge on cleartext; h2: TLS with ALPN h2
 * only; alpn: TLS offering h2 and http/1.1, the target chooses.
 */
export type UpstreamProtocol = 'http1' | 'h2c' | 'h2' | 'alpn';

export interface TargetSpec {
  /** http://host:port or https://host:port (an h2c:// URL connects to http://). '' when unset. */
  origin: string;
  /** Authority for Host / :authority and server.address. */
  host: string;
  protocol: UpstreamProtocol;
  /** https:// only, when the config names a CA, a client certificate or a server name. */
  tls?: TargetTlsMaterial;
  /** Targets with the same key share connections: origin, protocol and TLS material. */
  poolKey: string;
  /** server.address and server.port of CLIENT spans to this target (parsed here, not per request). */
  server?: { address: string; port: number };
}

const UNSET: TargetSpec = Object.freeze({ origin: '', host: '', protocol: 'http1', poolKey: '' });

/** `where` is the config path of the target's owner, e.g. "ingress" or `egress.routes[0]`, for TLS errors. */
export function targetSpec(where: string, target: string, protocol: TargetProtocol = 'auto', tlsConfig?: TargetTlsConfig): TargetSpec {
  if (!target) return UNSET;
  const url = new URL(target);
  const scheme = url.protocol;
  // h2c:// is not a special scheme for WHATWG URL: its origin is "null" and it has no default port.
  const origin = scheme === 'h2c:' ? `http://${url.hostname}:${url.port || '80'}` : url.origin;
  const host = url.host;
  const resolved: UpstreamProtocol =
    scheme === 'https:' ? (protocol === 'h2' ? 'h2' : protocol === 'http1' ? 'http1' : 'alpn') : scheme === 'h2c:' || protocol === 'h2c' ? 'h2c' : 'http1';
  const tls = scheme === 'https:' ? loadTargetTls(`${where}.targetTls`, tlsConfig) : undefined;
  let poolKey = `${resolved} ${origin}`;
  if (tls) {
    const h = createHash('sha256');
    for (const part of [tls.ca, tls.cert, tls.key]) h.update(part ?? '').update('\0');
    poolKey += ` ${tls.servername ?? ''} ${h.digest('hex').slice(0, 16)}`;
  }
  const at = new URL(origin);
  const server = { address: at.hostname, port: Number(at.port) || (at.protocol === 'https:' ? 443 : 80) };
  return tls ? { origin, host, protocol: resolved, tls, poolKey, server } : { origin, host, protocol: resolved, poolKey, server };
}
