import { createRequire } from 'node:module';
import type { Agent as UndiciAgent } from 'undici';

// Only undici's Agent (23 modules) instead of its index (110: fetch, WebSocket, caches, mocks).
const Agent = createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
type Agent = UndiciAgent;
import type { TimeoutConfig } from '../config/types.js';

/** TLS settings of an https:// target, for undici's connector (verification stays on). */
export interface AgentTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

/**
 * The keep-alive connection pool towards upstreams. One Agent per listener side: it keeps a Pool
 * per origin, so the egress forward proxy reuses connections to every host it reaches. An https://
 * target with TLS settings of its own gets an Agent of its own (proxy/upstreams.ts).
 */
export function createUpstreamAgent(timeouts: TimeoutConfig, tls?: AgentTls): Agent {
  return new Agent({
    connect: { timeout: timeouts.connect, ...tls },
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeouts.response,
    bodyTimeout: timeouts.idle,
    // Headers such as Host and Transfer-Encoding are ours to pass as received; HTTP/2 upstreams
    // go through proxy/h2-pool.ts instead.
    allowH2: false,
  });
}
