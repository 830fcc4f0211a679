/**
 * The connections of one listener side (ingress or egress) towards its targets: for HTTP/1.1 one
 * shared client (proxy/h1-client.ts, with undici behind it for upgrades and https://), plus
 * one undici Agent per distinct TLS setting of an https:// target (its CA, client certificate and
 * server name go into undici's connector); the HTTP/2 session pool for h2c:// and h2 targets. Built once at start; a reload that changes a target's TLS files gets new
 * connections for it, and the ones no target uses any more are closed once idle.
 */
import type { Agent } from 'undici';
import type { Http2Config, TimeoutConfig } from '../config/types.js';
import type { TargetSpec } from '../config/targets.js';
import { H2Pool } from './h2-pool.js';
import type { H1Client, UpstreamDispatcher } from './h1-client.js';
import { createUpstreamAgent, createUpstreamClient } from './upstream.js';

export interface UpstreamClients {
  /** The shared HTTP/1.1 client (forward proxy, http:// targets, https:// ones without TLS settings). */
  readonly agent: H1Client;
  /** HTTP/1.1 for `spec`: the shared client, or undici with its TLS settings. */
  dispatcher(spec: TargetSpec): UpstreamDispatcher;
  readonly h2: H2Pool;
  /** Close the TLS agents of pool keys not in `keys` (after a reload), gracefully. */
  retain(keys: ReadonlySet<string>): void;
  /** Graceful: in-flight requests and streams finish. */
  close(): Promise<void>;
}

export function createUpstreamClients(timeouts: TimeoutConfig, http2: Http2Config['upstream']): UpstreamClients {
  const agent = createUpstreamClient(timeouts);
  const tlsAgents = new Map<string, Agent>();
  const h2 = new H2Pool({ ...http2, connectTimeout: timeouts.connect });
  return {
    agent,
    h2,
    dispatcher(spec) {
      if (!spec.tls) return agent;
      let a = tlsAgents.get(spec.poolKey);
      if (!a) {
        const { ca, cert, key, servername } = spec.tls;
        a = createUpstreamAgent(timeouts, { ca, cert, key, servername });
        tlsAgents.set(spec.poolKey, a);
      }
      return a;
    },
    retain(keys) {
      for (const [key, a] of tlsAgents) {
        if (keys.has(key)) continue;
        tlsAgents.delete(key);
        a.close().catch(() => {});
      }
    },
    async close() {
      await Promise.all([agent.close().catch(() => {}), ...[...tlsAgents.values()].map((a) => a.close().catch(() => {})), h2.close()]);
    },
  };
}
