import { createRequire } from 'node:module';
import type { Agent as UndiciAgent } from 'undici';
import type { TimeoutConfig } from '../config/types.js';
import { H1Client } from './h1-client.js';

type Agent = UndiciAgent;

/** Only undici's Agent (23 modules) instead of its index (110: fetch, WebSocket, caches, mocks), loaded on first use. */
function undiciAgent(): typeof UndiciAgent {
  return createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
}

/** TLS settings of an https:// target, for undici's connector (verification stays on). */
export interface AgentTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

const KEEP_ALIVE_TIMEOUT = 4_000;
const KEEP_ALIVE_MAX_TIMEOUT = 60_000;

/**
 * undici's keep-alive connection pool: one Agent keeps a Pool per origin. It carries what
 * proxy/h1-client.ts does not (upgrades, https://); an https:// target with TLS
 * settings of its own gets an Agent of its own (proxy/upstreams.ts).
 */
export function createUpstreamAgent(timeouts: TimeoutConfig, tls?: AgentTls): Agent {
  const Agent = undiciAgent();
  return new Agent({
    connect: { timeout: timeouts.connect, ...tls },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
    keepAliveMaxTimeout: KEEP_ALIVE_MAX_TIMEOUT,
    headersTimeout: timeouts.response,
    bodyTimeout: timeouts.idle,
    // Headers such as Host and Transfer-Encoding are ours to pass as received; HTTP/2 upstreams
    // go through proxy/h2-pool.ts instead.
    allowH2: false,
  });
}

/**
 * The connections of one listener side towards plain-HTTP/1.1 upstreams (the forward proxy and
 * http:// targets): tracecar's own client, undici behind it for upgrades and https://.
 */
export function createUpstreamClient(timeouts: TimeoutConfig): H1Client {
  return new H1Client({
    connectTimeout: timeouts.connect,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
    keepAliveMaxTimeout: KEEP_ALIVE_MAX_TIMEOUT,
    fallback: () => createUpstreamAgent(timeouts),
  });
}
